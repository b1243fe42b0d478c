import {calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK} from 'jose'

const DPOP_ALGS = ['ES256', 'RS256', 'PS256']
// RFC 9449 §11.1: proofs are short-lived; the real server accepts an iat within a minute.
const MAX_SKEW_SECONDS = 60

export class DpopError extends Error {}

/** Strips query and fragment: RFC 9449 §4.3 compares htu without them. */
function normalizeHtu(u: string): string | undefined {
  try {
    const url = new URL(u)
    return `${url.protocol}//${url.host}${url.pathname}`
  } catch {
    return undefined
  }
}

/**
 * Verifies an RFC 9449 DPoP proof sent to the token endpoint and returns the RFC 7638 thumbprint
 * of its key (the token's `cnf.jkt`). `expectedHtu` lists the URLs the endpoint is reachable at.
 */
export async function verifyDpopProof(proof: string, expectedHtu: readonly string[]): Promise<string> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(proof)
  } catch {
    throw new DpopError('DPoP proof is not a JWS')
  }
  if (header.typ !== 'dpop+jwt') throw new DpopError('DPoP proof typ must be "dpop+jwt"')
  const jwk = header.jwk as JWK | undefined
  if (jwk === undefined || typeof jwk !== 'object') throw new DpopError('DPoP proof header lacks jwk')
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new DpopError('DPoP proof jwk must be a public key')
  let payload: Record<string, unknown>
  try {
    ;({payload} = await jwtVerify(proof, EmbeddedJWK, {typ: 'dpop+jwt', algorithms: DPOP_ALGS}))
  } catch (err) {
    throw new DpopError(`DPoP proof signature is invalid: ${(err as Error).message}`)
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') throw new DpopError('DPoP proof lacks jti')
  if (payload.htm !== 'POST') throw new DpopError('DPoP proof htm must be "POST"')
  const htu = typeof payload.htu === 'string' ? normalizeHtu(payload.htu) : undefined
  if (htu === undefined || !expectedHtu.some((e) => normalizeHtu(e) === htu)) throw new DpopError('DPoP proof htu does not match the token endpoint')
  const iat = payload.iat
  if (typeof iat !== 'number' || Math.abs(Date.now() / 1000 - iat) > MAX_SKEW_SECONDS) {
    throw new DpopError('DPoP proof iat is missing or outside the acceptable window')
  }
  return calculateJwkThumbprint(jwk, 'sha256')
}
