// Bearer-token checks of the tier-01 MCP server (authplane-contract.md §5) and the cache of the
// issuer's metadata and JWKS they depend on. The checks run in the contract's order so that a token
// with several defects is always reported for the same (first) one.
import {decodeProtectedHeader, errors, importJWK, jwtVerify, type CryptoKey, type JWK, type JWTPayload} from 'jose'

import {DPOP_PROOF_ALGORITHMS, DpopProofError, type InboundDpop} from './dpop.js'

/** Algorithms the real server signs with; anything else (`none`, HS256, ...) is refused up front. */
export const ACCEPTED_ALGORITHMS = ['ES256', 'RS256'] as const

/** RFC 9068 access tokens are `at+jwt`; the `application/` prefix is optional (RFC 7515 §4.1.9). */
const ACCESS_TOKEN_TYP = 'at+jwt'

const CLOCK_SKEW_SECONDS = 30
const FETCH_TIMEOUT_MS = 5000

export interface Principal {
  token: string
  sub: string
  clientId: string
  scopes: string[]
  expiresAt: number
  /** RFC 9449: the key thumbprint the token is bound to, when it came with a valid proof. */
  jkt?: string
}

/**
 * Why a request was refused. `status` 401/403 become RFC 6750 bearer errors; 503 means the
 * issuer's metadata or keys could not be obtained, which says nothing about the token itself.
 */
export class AuthFailure extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    readonly error: 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable' | 'invalid_dpop_proof' | 'use_dpop_nonce',
    readonly description: string,
    /** The authentication scheme whose challenge carries the error (RFC 9449 §7.1). */
    readonly scheme: 'Bearer' | 'DPoP' = 'Bearer',
    /** The scopes the request needs, when they are more than the server's base scope (per-tool scopes). */
    readonly scope?: string,
  ) {
    super(description)
    this.name = 'AuthFailure'
  }
}

const invalid = (description: string) => new AuthFailure(401, 'invalid_token', description)
const invalidDpop = (description: string) => new AuthFailure(401, 'invalid_token', description, 'DPoP')
const unavailable = (description: string) => new AuthFailure(503, 'temporarily_unavailable', description)

/**
 * Token-supplied strings end up inside a response header: keep them short and printable so a
 * hostile `iss` cannot break or bloat the header.
 */
function shown(value: unknown): string {
  if (value === undefined) return '(none)'
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  const printable = text.replace(/[^\x20-\x7e]/g, '?')
  return `"${printable.length > 120 ? `${printable.slice(0, 117)}...` : printable}"`
}

/**
 * RFC 7230 quoted-string: `"` and `\` get a backslash; anything a header cannot carry (controls,
 * non-ASCII from configuration) becomes `?` so that setting the header can never throw.
 */
export function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

export function wwwAuthenticate(
  error: string,
  description: string,
  scope: string,
  resourceMetadataUrl: string,
): string {
  return (
    `Bearer error=${quote(error)}, error_description=${quote(description)}, ` +
    `scope=${quote(scope)}, resource_metadata=${quote(resourceMetadataUrl)}`
  )
}

/**
 * The challenges of a refusal once DPoP is on (RFC 9449 §7.1): the scheme the failure concerns
 * carries the error; `allowed` adds a bare challenge of the other scheme, `required` offers DPoP only.
 * The DPoP challenge lists the proof algorithms in `algs`.
 */
export function dpopChallenges(failure: AuthFailure, mode: 'allowed' | 'required', scope: string, resourceMetadataUrl: string): string {
  const algs = `algs=${quote(DPOP_PROOF_ALGORITHMS.join(' '))}`
  const common = `scope=${quote(failure.scope ?? scope)}, resource_metadata=${quote(resourceMetadataUrl)}`
  const scheme = mode === 'required' ? 'DPoP' : failure.scheme
  const withError = `${scheme} error=${quote(failure.error)}, error_description=${quote(failure.description)}, ${common}${scheme === 'DPoP' ? `, ${algs}` : ''}`
  if (mode === 'required') return withError
  return scheme === 'DPoP' ? `${withError}, Bearer ${common}` : `${withError}, DPoP ${algs}`
}

function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

interface IssuerMetadata {
  jwksUri: string
}

export interface BearerVerifierOptions {
  issuer: string
  issuerFetchUrl?: string
  resource: string
  requiredScope: string
  /** Aborts in-flight discovery fetches when the server stops. */
  signal: AbortSignal
  /** Inbound DPoP; absent = mode `off`. */
  dpop?: InboundDpop
}

/** The request a proof must be bound to (RFC 9449 §4.3 checks 8 and 9). */
export interface ProofTarget {
  method: string
  /** The URLs the request may name as htu: as reached (Host header) and the resource. */
  urls: readonly string[]
}

/**
 * Verifies access tokens against one issuer. Discovery is lazy: the MCP server must come up while
 * the authorization server is still starting (or down), and answer 503 until it is reachable.
 */
export class BearerVerifier {
  readonly #opts: BearerVerifierOptions
  #metadata: IssuerMetadata | undefined
  #metadataLoading: Promise<IssuerMetadata> | undefined
  #keys: Map<string, JWK> | undefined
  #keysLoading: Promise<Map<string, JWK>> | undefined
  readonly #imported = new Map<string, CryptoKey | Uint8Array>()

  constructor(opts: BearerVerifierOptions) {
    this.#opts = opts
  }

  /** The nonce to send in `DPoP-Nonce`, when the resource demands nonces. */
  dpopNonce(): string | undefined {
    return this.#opts.dpop?.nonce()
  }

  /** The URL metadata is fetched from (RFC 8414 §3.1: well-known segment before the issuer path). */
  get metadataUrl(): string {
    const issuerUrl = new URL(this.#opts.issuer)
    const origin = new URL(this.#opts.issuerFetchUrl ?? this.#opts.issuer).origin
    const path = issuerUrl.pathname.replace(/\/+$/, '')
    return `${origin}/.well-known/oauth-authorization-server${path}`
  }

  async verify(authorization: string | undefined, dpopHeader: string | undefined, target?: ProofTarget): Promise<Principal> {
    const mode = this.#opts.dpop?.mode ?? 'off'
    if (authorization === undefined || authorization.trim() === '') throw invalid('Missing Authorization header')
    const match = /^(Bearer|DPoP) +([^\s]+) *$/i.exec(authorization)
    if (!match?.[2]) {
      throw invalid(mode === 'off' ? 'Authorization header must have the form "Bearer <token>"' : 'Authorization header must have the form "Bearer <token>" or "DPoP <token>"')
    }
    const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer'
    const token = match[2]
    if (mode === 'off') {
      // This tier only understands plain bearer tokens; accepting a DPoP proof without validating it
      // would let a stolen sender-constrained token through, so its mere presence is refused.
      if (dpopHeader !== undefined || scheme === 'DPoP') {
        throw invalid('DPoP is not supported by this resource; send a plain Bearer token without a DPoP header')
      }
    } else if (scheme === 'DPoP' && dpopHeader === undefined) {
      throw new AuthFailure(401, 'invalid_dpop_proof', 'the DPoP scheme needs a DPoP proof header', 'DPoP')
    } else if (dpopHeader !== undefined && (dpopHeader.includes(',') || dpopHeader.trim() === '')) {
      // RFC 9449 §4.3 check 1: exactly one proof (Node joins repeated headers with commas).
      throw new AuthFailure(401, 'invalid_dpop_proof', 'exactly one DPoP proof header is allowed', 'DPoP')
    }

    let header
    try {
      if (token.split('.').length !== 3) throw new Error('not three segments')
      header = decodeProtectedHeader(token)
    } catch {
      throw invalid('malformed token: not a compact JWS')
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw invalid('token header has no kid')
    // Checked before any key lookup: `alg: none` and HMAC tokens must never reach key selection.
    if (typeof header.alg !== 'string' || !(ACCEPTED_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw invalid(`token alg ${shown(header.alg)} is not accepted (expected ES256 or RS256)`)
    }
    if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== ACCESS_TOKEN_TYP) {
      throw invalid(`token typ ${shown(header.typ)} is not at+jwt (RFC 9068 access token)`)
    }

    const key = await this.#keyFor(header.kid, header.alg)

    let payload: JWTPayload
    try {
      ;({payload} = await jwtVerify(token, key, {
        algorithms: [...ACCEPTED_ALGORITHMS],
        issuer: this.#opts.issuer,
        audience: this.#opts.resource,
        clockTolerance: CLOCK_SKEW_SECONDS,
        typ: ACCESS_TOKEN_TYP,
      }))
    } catch (err) {
      throw this.#describe(err)
    }

    const now = Math.floor(Date.now() / 1000)
    // RFC 9068 §2.2 makes exp and iat mandatory; jose only checks them when present.
    if (typeof payload.exp !== 'number') throw invalid('token has no exp claim')
    if (typeof payload.iat !== 'number') throw invalid('token has no iat claim')
    if (payload.iat > now + CLOCK_SKEW_SECONDS) throw invalid('token iat is in the future')
    for (const claim of ['sub', 'client_id', 'jti'] as const) {
      const value = payload[claim]
      if (typeof value !== 'string' || value === '') throw invalid(`token has no ${claim} claim`)
    }
    const jkt = await this.#checkBinding(payload, token, scheme, dpopHeader, target)
    const scopes = typeof payload['scope'] === 'string' ? payload['scope'].split(' ').filter(Boolean) : []
    if (!scopes.includes(this.#opts.requiredScope)) {
      throw new AuthFailure(403, 'insufficient_scope', `token lacks the required scope ${this.#opts.requiredScope}`, scheme)
    }
    const principal: Principal = {
      token,
      sub: payload.sub as string,
      clientId: payload['client_id'] as string,
      scopes,
      expiresAt: payload.exp,
    }
    if (jkt !== undefined) principal.jkt = jkt
    return principal
  }

  /**
   * RFC 9449 §7: the token's `cnf` against the scheme and proof it came with, per mode (the SDK's
   * three modes: not configured, supported, required). Returns the bound thumbprint.
   */
  async #checkBinding(payload: JWTPayload, token: string, scheme: 'Bearer' | 'DPoP', dpopHeader: string | undefined, target: ProofTarget | undefined): Promise<string | undefined> {
    const dpop = this.#opts.dpop
    const cnf = payload['cnf']
    if (!dpop || dpop.mode === 'off') {
      if (cnf !== undefined) throw invalid('token is sender-constrained (cnf claim); this resource accepts only plain Bearer tokens')
      return undefined
    }
    if (cnf === undefined) {
      if (dpop.mode === 'required') {
        throw invalidDpop('this resource requires DPoP-bound access tokens (RFC 9449); the token has no cnf.jkt: mint it with a DPoP proof')
      }
      if (scheme === 'DPoP' || dpopHeader !== undefined) {
        throw invalidDpop('the token is not DPoP-bound (no cnf.jkt), so a DPoP proof has nothing to bind to; send it as a plain Bearer token')
      }
      return undefined
    }
    const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as {jkt?: unknown}).jkt : undefined
    if (typeof jkt !== 'string' || jkt === '') throw invalidDpop('token has a cnf claim without jkt; its binding cannot be checked')
    // RFC 9449 §7.1 sends a bound token as `DPoP <token>`. Authplane's resource servers also take
    // it as `Bearer <token>` next to its proof: the ts-sdk's token extraction accepts either scheme,
    // and its Python adapters (on the MCP Python SDK) read only Bearer; the binding is checked the
    // same way. Without a proof a bound token is refused, whatever the scheme (§7.2).
    if (dpopHeader === undefined) {
      throw invalidDpop('the token is DPoP-bound (cnf.jkt) and came without a DPoP proof; send the proof in the DPoP header (with "Authorization: DPoP <token>", or Bearer as Authplane\'s Python adapters take it)')
    }
    try {
      await dpop.verify({proof: dpopHeader, method: target?.method ?? 'POST', urls: target?.urls ?? [this.#opts.resource], accessToken: token, jkt})
    } catch (err) {
      if (err instanceof DpopProofError) throw new AuthFailure(401, err.error, err.message, 'DPoP')
      throw err
    }
    return jkt
  }

  #describe(err: unknown): AuthFailure {
    if (err instanceof errors.JWTExpired) return invalid('token expired')
    if (err instanceof errors.JWTClaimValidationFailed) {
      const payload = err.payload
      switch (err.claim) {
        case 'iss':
          return err.reason === 'missing'
            ? invalid('token has no iss claim')
            : invalid(`unexpected issuer ${shown(payload.iss)} (expected ${this.#opts.issuer})`)
        case 'aud':
          return invalid(`token audience does not include ${this.#opts.resource}`)
        case 'nbf':
          return invalid('token is not yet valid (nbf is in the future)')
        case 'typ':
          return invalid('token typ is not at+jwt (RFC 9068 access token)')
        default:
          return invalid(`token claim ${err.claim} is invalid: ${err.message}`)
      }
    }
    if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('token signature is invalid')
    if (err instanceof errors.JOSEAlgNotAllowed) return invalid('token alg is not accepted')
    if (err instanceof errors.JOSEError) return invalid(`malformed token: ${err.message}`)
    return invalid('token could not be verified')
  }

  async #keyFor(kid: string, alg: string): Promise<CryptoKey | Uint8Array> {
    const cacheKey = `${alg}\u0000${kid}`
    const cached = this.#imported.get(cacheKey)
    if (cached) return cached

    const hadKeys = this.#keys !== undefined
    let jwk = (await this.#loadKeys(false)).get(kid)
    // A kid we have never seen usually means the issuer rotated its key: re-read the JWKS once
    // (unless it was just read for this request), and refuse if the key is still absent.
    if (!jwk && hadKeys) jwk = (await this.#loadKeys(true)).get(kid)
    if (!jwk) throw invalid(`no key with kid ${shown(kid)} in the issuer's JWKS`)
    if (jwk.alg !== undefined && jwk.alg !== alg) {
      throw invalid(`token alg ${alg} does not match the alg ${shown(jwk.alg)} of key ${shown(kid)}`)
    }
    const expectedKty = alg === 'RS256' ? 'RSA' : 'EC'
    if (jwk.kty !== expectedKty) throw invalid(`key ${shown(kid)} cannot verify ${alg} signatures`)
    let key: CryptoKey | Uint8Array
    try {
      key = await importJWK(jwk, alg)
    } catch {
      throw invalid(`key ${shown(kid)} from the issuer's JWKS cannot be used for ${alg}`)
    }
    this.#imported.set(cacheKey, key)
    return key
  }

  async #loadKeys(force: boolean): Promise<Map<string, JWK>> {
    if (this.#keys && !force) return this.#keys
    // Concurrent misses share one fetch instead of each hitting the issuer.
    this.#keysLoading ??= this.#fetchKeys().finally(() => {
      this.#keysLoading = undefined
    })
    return this.#keysLoading
  }

  async #fetchKeys(): Promise<Map<string, JWK>> {
    const metadata = await this.#loadMetadata()
    const body = await this.#fetchJson(metadata.jwksUri, 'JWKS')
    const keys = (body as {keys?: unknown}).keys
    if (!Array.isArray(keys)) throw unavailable(`JWKS at ${metadata.jwksUri} has no "keys" array`)
    const byKid = new Map<string, JWK>()
    for (const entry of keys as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue
      const jwk = entry as JWK
      if (typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue
      byKid.set(jwk.kid, jwk)
    }
    // Imported keys of kids that vanished must not outlive the JWKS that announced them.
    for (const cacheKey of [...this.#imported.keys()]) {
      if (!byKid.has(cacheKey.slice(cacheKey.indexOf('\u0000') + 1))) this.#imported.delete(cacheKey)
    }
    this.#keys = byKid
    return byKid
  }

  async #loadMetadata(): Promise<IssuerMetadata> {
    if (this.#metadata) return this.#metadata
    this.#metadataLoading ??= this.#fetchMetadata().finally(() => {
      this.#metadataLoading = undefined
    })
    return this.#metadataLoading
  }

  async #fetchMetadata(): Promise<IssuerMetadata> {
    const url = this.metadataUrl
    const body = (await this.#fetchJson(url, 'authorization server metadata')) as Record<string, unknown>
    // RFC 8414 §3.3: the document must name exactly the issuer we were configured with, or tokens
    // would be checked against keys of a different issuer (pitfall: localhost vs authserver host).
    if (body['issuer'] !== this.#opts.issuer) {
      throw unavailable(
        `authorization server metadata at ${url} announces issuer ${shown(body['issuer'])}, ` +
          `expected exactly ${this.#opts.issuer}`,
      )
    }
    const announced = body['jwks_uri']
    let jwksUrl: URL
    try {
      if (typeof announced !== 'string') throw new Error('missing')
      jwksUrl = new URL(announced)
    } catch {
      throw unavailable(`authorization server metadata at ${url} has no valid jwks_uri`)
    }
    // In Docker topologies the announced issuer host may not resolve from here; the keys live on
    // the same server as the metadata, so fetch them through the same reachable origin.
    const fetchOrigin = new URL(url).origin
    const issuerOrigin = new URL(this.#opts.issuer).origin
    if (this.#opts.issuerFetchUrl !== undefined && fetchOrigin !== issuerOrigin && jwksUrl.origin === issuerOrigin) {
      jwksUrl = new URL(`${jwksUrl.pathname}${jwksUrl.search}`, fetchOrigin)
    }
    this.#metadata = {jwksUri: jwksUrl.href}
    return this.#metadata
  }

  async #fetchJson(url: string, what: string): Promise<unknown> {
    let response: Response
    try {
      response = await fetch(url, {
        headers: {accept: 'application/json'},
        redirect: 'error',
        signal: AbortSignal.any([this.#opts.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
      })
    } catch (err) {
      const reason = err instanceof Error && err.name === 'TimeoutError' ? 'timed out after 5 s' : 'is unreachable'
      throw unavailable(`${what} at ${url} ${reason}`)
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {})
      throw unavailable(`${what} at ${url} answered HTTP ${response.status}`)
    }
    try {
      const body: unknown = await response.json()
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object')
      return body
    } catch {
      throw unavailable(`${what} at ${url} is not a JSON object`)
    }
  }
}
