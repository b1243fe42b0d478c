import {AuthplaneCircuitOpenError} from './errors.js'

/**
 * Circuit breaker of contract §4, as `@authplane/sdk` has it (packages/sdk/src/core/circuitBreaker.ts):
 * 5 consecutive counted failures open it for 30 s; once the cooldown is over the next request finds
 * it closed again, fully, with the count back at zero (no half-open trial), so it takes another 5
 * counted failures to open it. Like the SDK it keeps time in whole seconds: it opens until
 * `floor(now / 1 s) + 30` and is closed again from that second on.
 *
 * The CLI is a short-lived process, so the state is a plain JSON object (`getState()` /
 * `CircuitBreaker.fromState()`) that can be kept in the local store between runs.
 */

export interface CircuitBreakerState {
  /** Consecutive counted failures since the last success. */
  consecutiveFailures: number
  /** Epoch ms (a whole second) until which the breaker is open; `null` when closed. From then on it is closed. */
  openUntil: number | null
}

export interface CircuitBreakerOptions {
  /** Consecutive counted failures that open the breaker (default 5). */
  failureThreshold?: number
  /** How long the breaker stays open (default 30 000 ms). */
  openMs?: number
  /** ms clock, for tests. */
  now?: () => number
}

export type CircuitBreakerStatus = 'closed' | 'open'

export const DEFAULT_FAILURE_THRESHOLD = 5
export const DEFAULT_OPEN_MS = 30_000

export class CircuitBreaker {
  readonly failureThreshold: number
  readonly openMs: number
  private readonly now: () => number
  private failures = 0
  private openUntil: number | null = null

  constructor(options: CircuitBreakerOptions = {}, state?: CircuitBreakerState) {
    this.failureThreshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD
    this.openMs = options.openMs ?? DEFAULT_OPEN_MS
    this.now = options.now ?? Date.now
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new TypeError('failureThreshold must be a positive integer')
    }
    if (!Number.isFinite(this.openMs) || this.openMs < 0) throw new TypeError('openMs must be a non-negative number')
    if (state) {
      this.failures = state.consecutiveFailures
      this.openUntil = state.openUntil
    }
  }

  /** Restores a breaker from `getState()` output; anything malformed yields a fresh (closed) breaker. */
  static fromState(state: unknown, options: CircuitBreakerOptions = {}): CircuitBreaker {
    return new CircuitBreaker(options, isBreakerState(state) ? state : undefined)
  }

  getState(): CircuitBreakerState {
    return {consecutiveFailures: this.failures, openUntil: this.openUntil}
  }

  /** The clock in whole seconds, as epoch ms. */
  private second(): number {
    return Math.floor(this.now() / 1000) * 1000
  }

  get status(): CircuitBreakerStatus {
    return this.openUntil !== null && this.second() < this.openUntil ? 'open' : 'closed'
  }

  /**
   * The SDK's `assertClosed()`: throws AuthplaneCircuitOpenError while open; once the cooldown is
   * over it closes the breaker and resets the count, and the request goes ahead.
   */
  acquire(): void {
    if (this.openUntil === null) return
    if (this.second() >= this.openUntil) {
      this.openUntil = null
      this.failures = 0
      return
    }
    throw new AuthplaneCircuitOpenError(this.openUntil, this.now())
  }

  /** A request succeeded: close the breaker and reset the count. */
  recordSuccess(): void {
    this.failures = 0
    this.openUntil = null
  }

  /** A counted failure (see `countsTowardBreaker`); the threshold-th one opens the breaker. */
  recordFailure(): void {
    this.failures += 1
    if (this.failures >= this.failureThreshold) this.openUntil = this.second() + this.openMs
  }

  /** A failure that neither counts nor resets (OAuth 4xx such as invalid_scope). */
  recordNeutral(): void {
    // Nothing to do: the SDK's breaker is untouched by such failures.
  }
}

function isBreakerState(value: unknown): value is CircuitBreakerState {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  const failures = v['consecutiveFailures']
  const openUntil = v['openUntil']
  return (
    typeof failures === 'number' &&
    Number.isInteger(failures) &&
    failures >= 0 &&
    (openUntil === null || (typeof openUntil === 'number' && Number.isFinite(openUntil)))
  )
}
