// Inbound DPoP (RFC 9449 §7) for the tier-01 MCP server: the proof checks the SDK's resource
// verifier makes (`inboundDPoP` on AuthplaneResource), a bounded jti replay cache, and optional
// server-provided nonces. Written independently of the client side (src/authplane/dpop.ts).
import {createHash, randomBytes} from 'node:crypto'

import {calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK} from 'jose'

/** `off`: tier-01 behaviour, any DPoP signal is refused. `allowed`: Bearer or DPoP. `required`: DPoP only. */
export type DpopMode = 'off' | 'allowed' | 'required'
export const DPOP_MODES: readonly DpopMode[] = ['off', 'allowed', 'required']

/** Proof algorithms accepted and announced (`algs`, `dpop_signing_alg_values_supported`), as the SDK's default. */
export const DPOP_PROOF_ALGORITHMS = ['ES256', 'RS256'] as const

/** RFC 7517 private members: a proof's `jwk` carrying any of them is refused (RFC 9449 §4.3 check 7). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

export interface InboundDpopOptions {
  mode: DpopMode
  /** Oldest accepted proof, from its `iat` (the SDK's default: 300 s), plus the clock skew. */
  maxProofAgeSeconds?: number
  /** Tolerated clock difference in both directions (the SDK's default: 30 s). */
  clockSkewSeconds?: number
  /** Demand a server-provided nonce in every proof (RFC 9449 §9), sent in `DPoP-Nonce`. */
  requireNonce?: boolean
  /** At most this many remembered `jti` values (default 10 000); the oldest go first. */
  replayCacheSize?: number
  /** A nonce is replaced after this many seconds; the previous one stays valid as long again (default 60). */
  nonceLifetimeSeconds?: number
}

/** Why a proof was refused; `nonce` asks for the RFC 9449 §9 `use_dpop_nonce` answer instead. */
export class DpopProofError extends Error {
  constructor(
    readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce',
    message: string,
  ) {
    super(message)
    this.name = 'DpopProofError'
  }
}

const proofError = (message: string) => new DpopProofError('invalid_dpop_proof', message)

/**
 * `jti` values of accepted proofs until they could no longer pass the `iat` check. Bounded in time
 * (entries expire with the proof window) and in memory (at most `limit` entries, the oldest evicted:
 * a proof that old is close to expiry anyway). Check and store are one synchronous step, so two
 * concurrent requests with one proof cannot both pass.
 */
export class ReplayCache {
  readonly #seen = new Map<string, number>()

  constructor(readonly limit: number) {}

  /** True when `jti` is new (and now remembered until `expiresAt`, epoch seconds). */
  remember(jti: string, expiresAt: number, now: number): boolean {
    const known = this.#seen.get(jti)
    if (known !== undefined && known > now) return false
    this.#seen.delete(jti)
    if (this.#seen.size >= this.limit) {
      for (const [key, expiry] of this.#seen) {
        if (expiry <= now) this.#seen.delete(key)
      }
      while (this.#seen.size >= this.limit) this.#seen.delete(this.#seen.keys().next().value as string)
    }
    this.#seen.set(jti, expiresAt)
    return true
  }

  get size(): number {
    return this.#seen.size
  }
}

/** RFC 9449 §9 nonces: one current value, replaced every `lifetime` seconds; the previous one still counts. */
export class NonceSource {
  #current = NonceSource.#fresh()
  #previous: string | undefined
  #issuedAt: number

  constructor(
    private readonly lifetimeSeconds: number,
    now: number,
  ) {
    this.#issuedAt = now
  }

  static #fresh(): string {
    return randomBytes(16).toString('base64url')
  }

  current(now: number): string {
    if (now - this.#issuedAt >= this.lifetimeSeconds) {
      this.#previous = this.#current
      this.#current = NonceSource.#fresh()
      this.#issuedAt = now
    }
    return this.#current
  }

  accepts(nonce: unknown, now: number): boolean {
    const current = this.current(now)
    return typeof nonce === 'string' && (nonce === current || nonce === this.#previous)
  }
}

/**
 * RFC 9449 §4.3 check 9 / RFC 3986 §6.2: scheme and host lower-cased, default port dropped, query
 * and fragment ignored. Undefined for anything that is not an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  // URL already lower-cases scheme and host and drops a default port.
  return `${url.protocol}//${url.host}${url.pathname || '/'}`
}

/** RFC 9449 §4.2: `ath` is the base64url SHA-256 of the access token's ASCII bytes. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url')
}

export interface ProofCheck {
  proof: string
  method: string
  /** URLs the request may name as `htu` (as reached, and the resource itself). */
  urls: readonly string[]
  accessToken: string
  /** The token's `cnf.jkt`. */
  jkt: string
}

/** Verifies DPoP proofs for one resource, in the order of the SDK's resource verifier. */
export class InboundDpop {
  readonly mode: DpopMode
  readonly requireNonce: boolean
  readonly #maxAge: number
  readonly #skew: number
  readonly #replays: ReplayCache
  readonly #nonces: NonceSource | undefined

  constructor(options: InboundDpopOptions) {
    if (!DPOP_MODES.includes(options.mode)) throw new Error(`unknown DPoP mode ${JSON.stringify(options.mode)} (off, allowed or required)`)
    this.mode = options.mode
    this.requireNonce = options.requireNonce ?? false
    this.#maxAge = options.maxProofAgeSeconds ?? 300
    this.#skew = options.clockSkewSeconds ?? 30
    this.#replays = new ReplayCache(options.replayCacheSize ?? 10_000)
    this.#nonces = this.requireNonce ? new NonceSource(options.nonceLifetimeSeconds ?? 60, nowSeconds()) : undefined
  }

  /** The nonce to announce in `DPoP-Nonce`, when nonces are on. */
  nonce(): string | undefined {
    return this.#nonces?.current(nowSeconds())
  }

  get replayCacheSize(): number {
    return this.#replays.size
  }

  async verify(check: ProofCheck): Promise<void> {
    let header
    try {
      header = decodeProtectedHeader(check.proof)
    } catch {
      throw proofError('DPoP proof is not a compact JWS')
    }
    if (header.typ !== 'dpop+jwt') throw proofError(`DPoP proof typ must be "dpop+jwt", not ${JSON.stringify(header.typ ?? null)}`)
    const alg = typeof header.alg === 'string' ? header.alg : ''
    if (!(DPOP_PROOF_ALGORITHMS as readonly string[]).includes(alg)) {
      throw proofError(`DPoP proof alg ${JSON.stringify(alg)} is not accepted (expected ${DPOP_PROOF_ALGORITHMS.join(' or ')})`)
    }
    const jwk = header.jwk as JWK | undefined
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw proofError('DPoP proof header has no jwk')
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) throw proofError('DPoP proof jwk contains private key material')

    let payload: Record<string, unknown>
    try {
      const key = await importJWK(jwk, alg)
      // Time claims are checked below with the proof window; jose would only look at exp/nbf.
      ;({payload} = await jwtVerify(check.proof, key, {algorithms: [alg], typ: 'dpop+jwt'}))
    } catch {
      throw proofError('DPoP proof signature does not verify with its jwk')
    }

    const {htm, htu, iat, jti, ath} = payload
    if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number' || !Number.isFinite(iat) || typeof jti !== 'string' || jti === '') {
      throw proofError('DPoP proof lacks one of htm, htu, iat, jti')
    }
    // RFC 9110 §9.1: method names are case-sensitive.
    if (htm !== check.method) throw proofError(`DPoP proof htm ${JSON.stringify(htm)} does not match the request method ${check.method}`)
    const target = normalizeHtu(htu)
    if (target === undefined || !check.urls.some((u) => normalizeHtu(u) === target)) {
      throw proofError(`DPoP proof htu ${JSON.stringify(htu.slice(0, 200))} does not match the request URL`)
    }
    const now = nowSeconds()
    if (iat > now + this.#skew) throw proofError(`DPoP proof iat is ${iat - now} s in the future (clock skew over ${this.#skew} s)`)
    // As Authplane's SDKs count (ts-sdk verifyDpopProof, python-sdk _validate_dpop_temporal): the
    // maximum age plus the clock skew, so 330 s with the defaults; the text says both.
    if (now - iat > this.#maxAge + this.#skew) {
      throw proofError(`DPoP proof is ${now - iat} s old (over ${this.#maxAge + this.#skew} s: ${this.#maxAge} s plus ${this.#skew} s of clock skew; check the clock)`)
    }
    if (this.#nonces && !this.#nonces.accepts(payload.nonce, now)) {
      throw new DpopProofError('use_dpop_nonce', payload.nonce === undefined ? 'DPoP proof has no nonce; use the one in DPoP-Nonce' : 'DPoP proof nonce is stale; use the one in DPoP-Nonce')
    }
    // RFC 9449 §7.1: proofs sent to a resource carry the hash of the token they accompany.
    if (typeof ath !== 'string') throw proofError('DPoP proof has no ath (access token hash)')
    if (ath !== accessTokenHash(check.accessToken)) throw proofError('DPoP proof ath does not match the access token')
    if ((await calculateJwkThumbprint(jwk, 'sha256')) !== check.jkt) {
      throw proofError('DPoP proof key does not match the token\'s cnf.jkt (the token is bound to another key)')
    }
    // Last, so that a refused proof does not burn its jti.
    if (!this.#replays.remember(jti, iat + this.#maxAge + this.#skew, now)) throw proofError('DPoP proof was already used (jti replay)')
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
