// POST /oauth/token: reads the form, the client's credentials and the DPoP proof the way the real
// server does, and hands them to the grant (api/public/oauth/handlers.go).
import type {IncomingMessage, ServerResponse} from 'node:http'
import {GRANT_JWT_BEARER, GRANT_TOKEN_EXCHANGE, goQuote} from '../../domain/client.js'
import {invalidRequest, NO_STORE, OAuthError} from '../../http/oauth-error.js'
import {extractClientAuth, first, readOAuthForm} from '../../http/oauth-form.js'
import {goJson, send} from '../../http/respond.js'
import {clientCredentialsGrant} from '../../services/client-credentials.js'
import type {ServerContext} from '../../services/context.js'
import {exchangeAuthorizationCode, refreshAccessToken, type UserGrantRequest} from '../../services/user-grants.js'

// Grants the real server knows but serves only when switched on (off by default, as here).
const DISABLED_GRANTS: Record<string, string> = {
  [GRANT_TOKEN_EXCHANGE]: 'feature token_exchange is disabled (set token_exchange.enabled=true to enable)',
  [GRANT_JWT_BEARER]: 'feature jwt_bearer is disabled (set xaa.enabled=true to enable)',
}

// `resource` may repeat (RFC 8707 §2); only its first value counts, as everywhere here.
const USER_GRANT_PARAMS = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'client_id', 'client_secret'] as const

export async function token(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ctx.stats.tokenRequests++
  // RFC 9449 §8: every token-endpoint answer, success or error, offers a fresh nonce.
  res.setHeader('DPoP-Nonce', ctx.dpop.issueNonce())
  const form = await readOAuthForm(req)
  const grantType = first(form, 'grant_type') ?? ''
  const disabled = DISABLED_GRANTS[grantType]
  if (disabled !== undefined) throw new OAuthError(400, 'unsupported_grant_type', disabled)
  // Like Go's Header.Get: the first DPoP header counts.
  const dpopProof = req.headersDistinct.dpop?.[0]
  if (grantType === 'authorization_code' || grantType === 'refresh_token') {
    // RFC 6749 §3.1: parameters MUST NOT be included more than once. The real server's FormValue
    // takes the first, which lets a second redirect_uri or code ride along unnoticed; the user
    // grants refuse it (client_credentials keeps the real server's reading, docs/fidelity.md).
    const twice = USER_GRANT_PARAMS.find((name) => (form.get(name)?.length ?? 0) > 1)
    if (twice !== undefined) throw invalidRequest(`the ${twice} parameter is included more than once (RFC 6749 section 3.1)`)
    const {id: clientId, secret} = extractClientAuth(req, form)
    const request: UserGrantRequest = {clientId, secret, param: (name) => first(form, name), dpopProof}
    const body = grantType === 'authorization_code' ? await exchangeAuthorizationCode(ctx, request) : await refreshAccessToken(ctx, request)
    return send(res, 200, 'application/json', JSON.stringify(body), NO_STORE)
  }
  if (grantType !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${goQuote(grantType)} is not supported`)
  }
  const body = await clientCredentialsGrant(ctx, {credentials: extractClientAuth(req, form), scope: first(form, 'scope'), resource: first(form, 'resource'), dpopProof})
  send(res, 200, 'application/json', goJson(body), NO_STORE)
}
