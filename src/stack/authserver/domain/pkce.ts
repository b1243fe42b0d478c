// PKCE (RFC 7636) as the real server checks it (internal/crypto/pkce.go): S256 only, verifiers of
// 43-128 unreserved characters. The same rule for the challenge (RFC 7636 §4.2) is this server's
// own: the real one stores any challenge and fails only when the code is redeemed.
import {createHash} from 'node:crypto'

const UNRESERVED_43_128 = /^[A-Za-z0-9._~-]{43,128}$/

/** The real server's text for any method but S256 (`ValidateChallengeMethod`); undefined for S256. */
export function challengeMethodProblem(method: string): string | undefined {
  return method === 'S256' ? undefined : `unsupported code_challenge_method ${JSON.stringify(method)}: only S256 is allowed`
}

/** RFC 7636 §4.2: BASE64URL of a SHA-256 is 43 characters; the grammar allows 43 to 128 unreserved ones. */
export function challengeProblem(challenge: string): string | undefined {
  if (challenge.length < 43 || challenge.length > 128) return 'code_challenge length must be between 43 and 128'
  if (!UNRESERVED_43_128.test(challenge)) return 'code_challenge contains invalid characters'
  return undefined
}

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) must equal the stored challenge. */
export function pkceMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !UNRESERVED_43_128.test(verifier)) return false
  return createHash('sha256').update(verifier, 'ascii').digest('base64url') === challenge
}
