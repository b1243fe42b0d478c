// Subpaths, not 'jose' (see src/trace/sequence.ts): token mint stays small.
import {decodeProtectedHeader} from 'jose/decode/protected_header'
import {decodeJwt} from 'jose/jwt/decode'
import type {JWTPayload, ProtectedHeaderParameters} from 'jose'
import {AuthplaneProtocolError} from './errors.js'

export interface DescribedToken {
  header: ProtectedHeaderParameters
  claims: JWTPayload
}

/**
 * Decodes (does NOT verify) an RFC 9068 JWT access token for display (`--decode`). The signature is
 * the resource server's business; this only shows what the authorization server put in the token.
 */
export function describeToken(accessToken: string): DescribedToken {
  try {
    return {header: decodeProtectedHeader(accessToken), claims: decodeJwt(accessToken)}
  } catch (cause) {
    throw new AuthplaneProtocolError(
      `The access token is not a decodable JWT: ${cause instanceof Error ? cause.message : String(cause)}`,
      {cause},
    )
  }
}
