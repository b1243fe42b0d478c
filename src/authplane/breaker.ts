import {AuthplaneCircuitOpenError} from './errors.js'

/**
 * Circuit breaker of contract §4: opens after 5 consecutive counted failures for 30 s; after that one
 * trial request is let through (half-open); a success closes it, a counted failure re-opens it.
 *
 * The CLI is a short-lived process, so the state is a plain JSON object (`getState()` /
 * `CircuitBreaker.fromState()`) that can be kept in the local store between runs.
 */

export interface CircuitBreakerState {
  /** Consecutive counted failures since the last success. */
  consecutiveFailures: number
  /** Epoch ms until which the breaker is open; `null` when closed. Past this time it is half-open. */
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

export type CircuitBreakerStatus = 'closed' | 'open' | 'half-open'

export const DEFAULT_FAILURE_THRESHOLD = 5
export const DEFAULT_OPEN_MS = 30_000

export class CircuitBreaker {
  readonly failureThreshold: number
  readonly openMs: number
  private readonly now: () => number
  private failures = 0
  private openUntil: number | null = null
  // Not persisted: a trial owned by a process that died must not block the next process.
  private trialInFlight = false

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

  get status(): CircuitBreakerStatus {
    if (this.openUntil === null) return 'closed'
    return this.now() < this.openUntil ? 'open' : 'half-open'
  }

  /**
   * Call before sending a request. Throws AuthplaneCircuitOpenError while open, and while half-open
   * when the single trial request is already in flight.
   */
  acquire(): void {
    if (this.openUntil === null) return
    const now = this.now()
    if (now < this.openUntil) throw new AuthplaneCircuitOpenError(this.openUntil, now)
    if (this.trialInFlight) throw new AuthplaneCircuitOpenError(now, now)
    this.trialInFlight = true
  }

  /** A request succeeded: close the breaker and reset the count. */
  recordSuccess(): void {
    this.failures = 0
    this.openUntil = null
    this.trialInFlight = false
  }

  /** A counted failure (see `countsTowardBreaker`). */
  recordFailure(): void {
    this.failures += 1
    const halfOpenTrial = this.openUntil !== null
    this.trialInFlight = false
    if (halfOpenTrial || this.failures >= this.failureThreshold) this.openUntil = this.now() + this.openMs
  }

  /** A failure that neither counts nor resets (OAuth 4xx such as invalid_scope): only frees the trial slot. */
  recordNeutral(): void {
    this.trialInFlight = false
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
