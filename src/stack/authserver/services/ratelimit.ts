// Throughput limiting and auth-failure lockout as the real server does them (api/shared/ratelimit.go,
// api/shared/lockout.go, api/admin/server.go). Two separate controls with separate keys:
// - RateLimiter: a token bucket per client address on the whole public port, 100 requests/s with
//   a burst of 200 by default; a refused request is 429 `slow_down` "rate limit exceeded" with
//   `Retry-After: 1`. The admin port has its own, off unless configured.
// - AuthLockout: failed logins counted per (identity, address); 10 failures within 10 minutes lock
//   that pair for 15 minutes. The real server applies it to `POST /login` only (the browser flow);
//   client authentication at the token endpoint is throttled by the rate limiter alone.
import {MAX_AUTH_FAIL_WINDOW_SECONDS, MAX_AUTH_LOCKOUT_SECONDS} from '../../types.js'
import {AuthServerConfigError} from '../domain/config.js'

/** The real server's `rate_limit` settings (`AUTHPLANE_RATE_LIMIT_*`). */
export interface RateLimitSettings {
  /** `AUTHPLANE_RATE_LIMIT_ENABLED`, default true. */
  enabled: boolean
  /** `AUTHPLANE_RATE_LIMIT_RPS`, default 100. */
  requestsPerSecond: number
  /** `AUTHPLANE_RATE_LIMIT_BURST`, default 200. */
  burst: number
  /** `AUTHPLANE_RATE_LIMIT_AUTH_FAIL_MAX`, default 10; 0 turns the lockout off. */
  authFailMax: number
  /** `AUTHPLANE_RATE_LIMIT_AUTH_FAIL_WINDOW`, default 600 s. */
  authFailWindowSeconds: number
  /** `AUTHPLANE_RATE_LIMIT_AUTH_LOCKOUT`, default 900 s. */
  authLockoutSeconds: number
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = {
  enabled: true, requestsPerSecond: 100, burst: 200, authFailMax: 10, authFailWindowSeconds: 600, authLockoutSeconds: 900,
}

/** Fills defaults and refuses what the real server refuses at boot (internal/config/validate.go). */
export function rateLimitSettings(partial: Partial<RateLimitSettings> | undefined): RateLimitSettings {
  const s = {...DEFAULT_RATE_LIMIT, ...partial}
  const problems: string[] = []
  if (s.enabled) {
    if (!(s.requestsPerSecond > 0)) problems.push('rate_limit.requests_per_second must be greater than zero (set rate_limit.enabled: false to turn throughput limiting off)')
    if (!(s.burst > 0) || !Number.isInteger(s.burst)) problems.push('rate_limit.burst must be greater than zero (set rate_limit.enabled: false to turn throughput limiting off)')
  }
  if (s.authFailMax > 0) {
    if (!(s.authLockoutSeconds > 0)) problems.push('rate_limit.auth_lockout must be greater than zero (set rate_limit.auth_fail_max: 0 to disable the account lockout)')
    if (!(s.authFailWindowSeconds > 0)) problems.push('rate_limit.auth_fail_window must be greater than zero (set rate_limit.auth_fail_max: 0 to disable the account lockout)')
  }
  // Not in the real server (any Go duration passes there): a bound of this server's own, so that
  // a lockout deadline is always a date and Retry-After a plausible number of seconds.
  if (s.authLockoutSeconds > MAX_AUTH_LOCKOUT_SECONDS) problems.push(`rate_limit.auth_lockout must be at most ${MAX_AUTH_LOCKOUT_SECONDS} seconds (7 days), got ${s.authLockoutSeconds}`)
  if (s.authFailWindowSeconds > MAX_AUTH_FAIL_WINDOW_SECONDS) problems.push(`rate_limit.auth_fail_window must be at most ${MAX_AUTH_FAIL_WINDOW_SECONDS} seconds (7 days), got ${s.authFailWindowSeconds}`)
  if (problems.length > 0) throw new AuthServerConfigError(problems.join('; '))
  return s
}

/** golang.org/x/time/rate's limiter: `burst` tokens, refilled at `rate` per second, one per request. */
class TokenBucket {
  private tokens: number
  private last: number

  constructor(private readonly rate: number, private readonly burst: number, now: number) {
    this.tokens = burst
    this.last = now
  }

  allow(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Back at full burst, it is the same as a fresh one and can be forgotten. */
  full(now: number): boolean {
    return this.tokens + ((now - this.last) / 1000) * this.rate >= this.burst
  }
}

const SWEEP_MS = 5 * 60 * 1000

/** Per-address throughput limiter. */
export class RateLimiter {
  private readonly visitors = new Map<string, TokenBucket>()
  private lastSweep = Date.now()

  constructor(private readonly rate: number, private readonly burst: number) {}

  allow(key: string, now = Date.now()): boolean {
    if (now - this.lastSweep > SWEEP_MS) {
      this.lastSweep = now
      for (const [k, b] of this.visitors) if (b.full(now)) this.visitors.delete(k)
    }
    let b = this.visitors.get(key)
    if (b === undefined) {
      b = new TokenBucket(this.rate, this.burst, now)
      this.visitors.set(key, b)
    }
    return b.allow(now)
  }
}

/** RFC 5321's ceiling for an address: longer identities are cut before they become a key. */
export const MAX_IDENTITY_LENGTH = 254

interface FailState {
  count: number
  first: number
  lockedUntil: number
}

/**
 * Failed-authentication lockout keyed on (normalised identity, address). Callers check
 * `lockedUntil` before verifying credentials, `recordFailure` on a rejected credential, and
 * `reset` on success. A lockout in force is not extended by further attempts.
 */
export class AuthLockout {
  private readonly states = new Map<string, FailState>()

  constructor(private readonly settings: Pick<RateLimitSettings, 'authFailMax' | 'authFailWindowSeconds' | 'authLockoutSeconds'>) {}

  private key(identity: string, ip: string): string {
    return `${identity.trim().toLowerCase().slice(0, MAX_IDENTITY_LENGTH)}\u0000${ip}`
  }

  /** The end of the lockout in force (ms since the epoch), or undefined. */
  lockedUntil(identity: string, ip: string, now = Date.now()): number | undefined {
    if (this.settings.authFailMax <= 0) return undefined
    const s = this.states.get(this.key(identity, ip))
    return s !== undefined && s.lockedUntil > now ? s.lockedUntil : undefined
  }

  /** Counts one failure; returns the deadline when this failure engaged the lockout. */
  recordFailure(identity: string, ip: string, now = Date.now()): number | undefined {
    if (this.settings.authFailMax <= 0) return undefined
    const k = this.key(identity, ip)
    let s = this.states.get(k)
    if (s === undefined) {
      s = {count: 0, first: now, lockedUntil: 0}
      this.states.set(k, s)
    }
    if (s.lockedUntil > now) return undefined
    if (s.count > 0 && now - s.first > this.settings.authFailWindowSeconds * 1000) s.count = 0
    if (s.count === 0) s.first = now
    s.count++
    if (s.count >= this.settings.authFailMax) {
      s.lockedUntil = now + this.settings.authLockoutSeconds * 1000
      s.count = 0
      return s.lockedUntil
    }
    return undefined
  }

  reset(identity: string, ip: string): void {
    this.states.delete(this.key(identity, ip))
  }
}

/** `Retry-After` for a deadline: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(until: number, now = Date.now()): string {
  return String(Math.max(1, Math.ceil((until - now) / 1000)))
}
