// OAuth errors of the public port (RFC 6749 §5.2), in the real server's OAuth + problem+json
// hybrid shape (api/shared/errors.go WriteOAuthError).
import type {ServerResponse} from 'node:http'
import {goJson, send, statusText, type Headers} from './respond.js'

export const NO_STORE: Headers = {'Cache-Control': 'no-store', Pragma: 'no-cache'}

/** An RFC 6749 §5.2 error, which the real server wraps in problem+json (both member sets present). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Headers = {},
  ) {
    super(description)
  }
}

export function sendOAuthError(res: ServerResponse, e: OAuthError): void {
  const body = {
    error: e.error,
    error_description: e.description,
    type: `https://docs.authplane.ai/errors/${e.error}`,
    title: statusText(e.status),
    detail: e.description,
    status: e.status,
  }
  // Like the real server's WriteOAuthError: no Cache-Control on errors (only successes are no-store).
  send(res, e.status, 'application/problem+json', goJson(body), e.headers)
}

export function invalidRequest(description: string): OAuthError {
  return new OAuthError(400, 'invalid_request', description)
}

// RFC 6749 §5.2: a failed client authentication is 401 with a challenge naming the scheme the
// client should use; the realm is the real server's.
export function invalidClient(description = 'client authentication failed'): OAuthError {
  return new OAuthError(401, 'invalid_client', description, {'WWW-Authenticate': 'Basic realm="authserver"'})
}
