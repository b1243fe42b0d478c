// What a signed-in client does with its refresh token: use it before the access token expires
// (RFC 6749 §6, with the RFC 8707 resource again, and the rotated refresh token kept), and revoke
// it when the user signs out (RFC 7009), with the client authentication the registration calls for.
import * as oauth from 'oauth4webapi'

import {CheckFailedError} from '../errors.js'
import {oauthClient, tokenRefused, tokenSet, type AuthorizationTarget, type RequestOptions, type UserTokenSet} from './authorize.js'
import {clientAuthFor} from './registration.js'
import {clientFetch, describeOAuthError, jsonResponse, oauthError, reaching, type OAuthErrorBody} from './responses.js'

function insecure(url: string): boolean {
  return new URL(url).protocol === 'http:'
}

/** RFC 6749 §6: a new access token (and, with rotation, a new refresh token) for the same grant. */
export async function refreshTokens(target: Omit<AuthorizationTarget, 'scopes'>, refreshToken: string, options: RequestOptions): Promise<UserTokenSet> {
  const endpoint = target.server.token_endpoint!
  const client = oauthClient(target.client)
  const response = await reaching('refresh', endpoint, options.timeoutMs, (signal) =>
    oauth.refreshTokenGrantRequest(target.server, client, clientAuthFor(target.client), refreshToken, {
      additionalParameters: {resource: target.resource},
      signal,
      [oauth.customFetch]: clientFetch(options.observer),
      [oauth.allowInsecureRequests]: insecure(endpoint),
    }),
  )
  const text = await response.text()
  if (response.status !== 200) throw tokenRefused('refresh', target, endpoint, response.status, text)
  let processed: oauth.TokenEndpointResponse
  try {
    processed = await oauth.processRefreshTokenResponse(target.server, client, jsonResponse(text))
  } catch (cause) {
    throw new CheckFailedError('token_response_invalid', `the refresh response of ${endpoint} is not usable: ${(cause as Error).message}`, {hint: 'RFC 6749 §5.1 says what a token response holds.', details: {url: endpoint}, cause})
  }
  return tokenSet(processed, endpoint)
}

export type RevocationOutcome =
  | {revoked: true}
  | {revoked: false; reason: 'no_endpoint'}
  | {revoked: false; reason: 'refused'; error: OAuthErrorBody; summary: string}
  | {revoked: false; reason: 'unreachable'; summary: string}

/**
 * RFC 7009 §2.1 revocation of `token`. A server without a revocation endpoint, one that refuses
 * (Authplane before public clients could revoke answers 401 invalid_client to a client without a
 * secret), or one that cannot be reached is reported as such, not thrown: signing out locally must
 * work whatever the server says.
 */
export async function revokeToken(target: Pick<AuthorizationTarget, 'server' | 'client'>, token: string, hint: 'refresh_token' | 'access_token', options: RequestOptions): Promise<RevocationOutcome> {
  const endpoint = target.server.revocation_endpoint
  if (!endpoint) return {revoked: false, reason: 'no_endpoint'}
  let response: Response
  try {
    response = await reaching('revocation', endpoint, options.timeoutMs, (signal) =>
      oauth.revocationRequest(target.server, oauthClient(target.client), clientAuthFor(target.client), token, {
        additionalParameters: {token_type_hint: hint},
        signal,
        [oauth.customFetch]: clientFetch(options.observer),
        [oauth.allowInsecureRequests]: insecure(endpoint),
      }),
    )
  } catch (error) {
    return {revoked: false, reason: 'unreachable', summary: (error as Error).message}
  }
  const text = await response.text()
  if (response.status === 200) return {revoked: true}
  const error = oauthError(response.status, text)
  return {revoked: false, reason: 'refused', error, summary: `${response.status} ${describeOAuthError(error)}`}
}
