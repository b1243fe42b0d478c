import {randomFillSync} from 'node:crypto'
import {generateSigningKey, JwtSigner} from '../store/keys.js'

export interface MintedToken {
  jwt: string
  jti: string
  iat: number
  exp: number
}

export interface AccessTokenRequest {
  clientId: string
  /** `sub`: the user for user grants; the client itself (the real server's choice) otherwise. */
  subject?: string
  audience: string
  /** Granted scopes, already sorted and de-duplicated. */
  scopes: readonly string[]
  /** RFC 9449 §6.1 confirmation: the DPoP key's RFC 7638 thumbprint. */
  jkt?: string
  /** Lifetime in seconds; default the minter's (the client_credentials lifetime). */
  ttlSeconds?: number
}

// Token ids come from a pooled CSPRNG buffer: one randomFill per 256 tokens instead of one
// per token keeps the call off the hot path's profile. Each slice is used exactly once.
const POOL = Buffer.alloc(16 * 256)
let poolOffset = POOL.length

function randomJti(): string {
  if (poolOffset === POOL.length) {
    randomFillSync(POOL)
    poolOffset = 0
  }
  const id = POOL.toString('base64url', poolOffset, poolOffset + 16)
  poolOffset += 16
  return id
}

/** Builds RFC 9068 access tokens. Shared by the token endpoint and the signing benchmark. */
export class AccessTokenMinter {
  constructor(
    private readonly signer: JwtSigner,
    private readonly issuer: () => string,
    private readonly ttlSeconds: number,
  ) {}

  mint(req: AccessTokenRequest): MintedToken {
    const iat = Math.floor(Date.now() / 1000)
    const exp = iat + (req.ttlSeconds ?? this.ttlSeconds)
    const jti = randomJti()
    // Claim order mirrors the real server's tokens; aud is always a one-element array (the real
    // server never emits the string form, and some resource servers only accept the array).
    const claims: Record<string, unknown> = {iss: this.issuer(), sub: req.subject ?? req.clientId, aud: [req.audience], client_id: req.clientId}
    if (req.scopes.length > 0) claims.scope = req.scopes.join(' ')
    claims.jti = jti
    claims.iat = iat
    claims.nbf = iat
    claims.exp = exp
    if (req.jkt !== undefined) claims.cnf = {jkt: req.jkt}
    return {jwt: this.signer.sign(claims), jti, iat, exp}
  }
}

/**
 * A closure that signs one representative access token per call with a fresh key, through the
 * same minter the token endpoint uses, so a benchmark can measure the single-core signing rate.
 */
export function signBenchmarkToken(): () => string {
  const minter = new AccessTokenMinter(new JwtSigner(generateSigningKey()), () => 'http://localhost:9000', 3600)
  const req: AccessTokenRequest = {clientId: 'bench-client-id-000000', audience: 'http://localhost:8080/mcp', scopes: ['mcp:echo']}
  return () => minter.mint(req).jwt
}
