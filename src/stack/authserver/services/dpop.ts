// RFC 9449 DPoP at the token endpoint, as the real server does it (internal/crypto/dpop.go,
// internal/services/client_credentials.go, api/public/oauth/dpop.go): every structural or
// cryptographic fault is the one `invalid_dpop_proof` "DPoP proof is invalid"; proofs are
// single-use (a replayed jti is refused); every token-endpoint response carries a fresh
// `DPoP-Nonce`; and when nonces are required a proof without a valid one is `use_dpop_nonce`.
import {randomFillSync} from 'node:crypto'
import {calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK} from 'jose'
import {AuthServerConfigError} from '../domain/config.js'
import type {DpopStore} from '../store/dpop-store.js'

const DPOP_ALGS = ['ES256', 'RS256', 'PS256']

/** The DPoP settings of the real server (`AUTHPLANE_DPOP_*`). */
export interface DpopSettings {
  /** `AUTHPLANE_DPOP_REQUIRE_NONCE`: proofs must carry a nonce this server issued. Default false. */
  requireNonce: boolean
  /** `AUTHPLANE_DPOP_PROOF_LIFETIME`: the largest |now - iat| accepted, 10..300 s. Default 60 s. */
  proofLifetimeSeconds: number
  /** `AUTHPLANE_DPOP_NONCE_TTL`: how long an issued nonce stays valid. Default 60 s. */
  nonceTtlSeconds: number
}

export const DEFAULT_DPOP: DpopSettings = {requireNonce: false, proofLifetimeSeconds: 60, nonceTtlSeconds: 60}

/** Checks the settings the way the real server's config validation does at boot. */
export function dpopSettings(partial: Partial<DpopSettings> | undefined): DpopSettings {
  const s = {...DEFAULT_DPOP, ...partial}
  if (!Number.isFinite(s.proofLifetimeSeconds) || s.proofLifetimeSeconds < 10 || s.proofLifetimeSeconds > 300) {
    throw new AuthServerConfigError(`dpop.proof_lifetime must be between 10s and 300s, got ${s.proofLifetimeSeconds}s`)
  }
  if (!Number.isFinite(s.nonceTtlSeconds) || s.nonceTtlSeconds <= 0) throw new AuthServerConfigError('dpop.nonce_ttl must be positive when dpop is enabled')
  return s
}

/** A refusal with the real server's error code and description. */
export class DpopError extends Error {
  constructor(
    readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce',
    description: string,
  ) {
    super(description)
  }
}

const INVALID = (): DpopError => new DpopError('invalid_dpop_proof', 'DPoP proof is invalid')

export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof key: the token's `cnf.jkt`. */
  jkt: string
  jti: string
  nonce: string
}

/** Scheme, host and path, compared case-insensitively on scheme and host (query and fragment ignored). */
function htuParts(u: string): {origin: string; path: string} | undefined {
  try {
    const url = new URL(u)
    return {origin: `${url.protocol}//${url.host}`.toLowerCase(), path: url.pathname}
  } catch {
    return undefined
  }
}

/**
 * Verifies the structure, signature and claims of a proof sent to the token endpoint.
 * `expectedHtu` lists the URLs the endpoint is reachable at.
 */
export async function verifyDpopProof(proof: string, expectedHtu: readonly string[], lifetimeSeconds: number): Promise<VerifiedProof> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(proof)
  } catch {
    throw INVALID()
  }
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') throw INVALID()
  const jwk = header.jwk as JWK | undefined
  if (jwk === undefined || typeof jwk !== 'object') throw INVALID()
  // Public keys only, and only EC or RSA (the real server also refuses RSA under 2048 bits).
  if ('d' in jwk || 'p' in jwk || 'k' in jwk || (jwk.kty !== 'EC' && jwk.kty !== 'RSA')) throw INVALID()
  if (jwk.kty === 'RSA' && (typeof jwk.n !== 'string' || Buffer.from(jwk.n, 'base64url').length < 256)) throw INVALID()
  let payload: Record<string, unknown>
  try {
    ;({payload} = await jwtVerify(proof, EmbeddedJWK, {algorithms: DPOP_ALGS}))
  } catch {
    throw INVALID()
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') throw INVALID()
  if (typeof payload.htm !== 'string' || payload.htm.toUpperCase() !== 'POST') throw INVALID()
  const htu = typeof payload.htu === 'string' ? htuParts(payload.htu) : undefined
  if (htu === undefined || !expectedHtu.some((e) => {
    const x = htuParts(e)
    return x !== undefined && x.origin === htu.origin && x.path === htu.path
  })) throw INVALID()
  const iat = payload.iat
  if (typeof iat !== 'number' || iat === 0 || Math.abs(Date.now() / 1000 - iat) > lifetimeSeconds) throw INVALID()
  const nonce = typeof payload.nonce === 'string' ? payload.nonce : ''
  return {jkt: await calculateJwkThumbprint(jwk, 'sha256'), jti: payload.jti, nonce}
}

/**
 * Server nonces and the jti replay cache, kept in the database as the real server keeps them, so
 * a restart neither accepts a replayed proof nor forgets the nonces it has handed out.
 */
// Nonces come from a pooled CSPRNG buffer (one randomFill per 128 nonces): a nonce is issued on
// every token-endpoint response, so one randomBytes call each would sit on the hot path.
const NONCE_BYTES = 32
const NONCE_POOL = Buffer.alloc(NONCE_BYTES * 128)
let noncePoolOffset = NONCE_POOL.length

function randomNonce(): string {
  if (noncePoolOffset === NONCE_POOL.length) {
    randomFillSync(NONCE_POOL)
    noncePoolOffset = 0
  }
  const nonce = NONCE_POOL.toString('base64url', noncePoolOffset, noncePoolOffset + NONCE_BYTES)
  noncePoolOffset += NONCE_BYTES
  return nonce
}

export class DpopState {
  private lastSweep = 0

  constructor(
    readonly settings: DpopSettings,
    private readonly store: DpopStore,
  ) {}

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return
    this.lastSweep = now
    this.store.purgeExpired(now)
  }

  /** A fresh nonce (32 random bytes, base64url) valid for the nonce TTL. */
  issueNonce(): string {
    const nonce = randomNonce()
    // Nonces are only ever checked when they are required; otherwise there is nothing to keep.
    if (this.settings.requireNonce) {
      const now = Date.now()
      this.sweep(now)
      this.store.issueNonce(nonce, now + this.settings.nonceTtlSeconds * 1000)
    }
    return nonce
  }

  /**
   * The checks after a proof verified: the nonce when nonces are required, then the jti, which is
   * consumed (kept for twice the proof lifetime) so the same proof never works twice.
   */
  accept(proof: VerifiedProof): void {
    const now = Date.now()
    this.sweep(now)
    if (this.settings.requireNonce) {
      if (proof.nonce === '') throw new DpopError('use_dpop_nonce', 'server nonce is required in DPoP proof')
      if (!this.store.nonceValid(proof.nonce, now)) throw new DpopError('use_dpop_nonce', 'DPoP proof nonce does not match server-issued nonce')
    }
    if (!this.store.consumeJti(proof.jti, now + this.settings.proofLifetimeSeconds * 2000, now)) {
      throw new DpopError('invalid_dpop_proof', 'DPoP proof jti has already been used')
    }
  }
}
