// GET /oauth/authorize (RFC 6749 §4.1.1 with PKCE and RFC 8707 resources). Status codes, page
// titles and messages are the real server's (api/public/oauth/authorize.go).
import type {IncomingMessage, ServerResponse} from 'node:http'
import {challengeMethodProblem, challengeProblem} from '../../domain/pkce.js'
import {redirectUriRegistered, withParams} from '../../domain/redirect.js'
import type {Resource} from '../../domain/resource.js'
import {authorizeScope, clientForAuthorization, completeAuthorization, grantCovers, openAuthorizationSession, resolveResource, ScopeError} from '../../services/authorize.js'
import type {ServerContext} from '../../services/context.js'
import {allowed, currentUser, redirect} from './common.js'
import {sendErrorPage} from './html.js'

const RESOURCE_PAGES = {
  'Unknown Resource': 'The requested resource is not registered with this authorization server.',
  'Ambiguous Resource': 'The resource identifier matches more than one resource. Use the resource slug to disambiguate.',
} as const

export async function authorize(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowed(req, res, ['GET'])) return
  const q = new URL(req.url ?? '/', 'http://authorize.invalid').searchParams
  const param = (name: string): string => q.get(name) ?? ''

  // Until client and redirect_uri are known good, errors are shown here and never sent to the
  // redirect_uri, which could be an attacker's (RFC 6749 §4.1.2.1).
  // RFC 6749 §3.1: a parameter sent twice is refused, not resolved by taking one of them. Before
  // the client and its redirect URI are settled, on this page; afterwards, at the client.
  const repeated = (names: readonly string[]): string | undefined => names.find((n) => q.getAll(n).length > 1)
  const early = repeated(['response_type', 'client_id', 'redirect_uri'])
  if (early !== undefined) return sendErrorPage(res, 400, 'Invalid Request', `The ${early} parameter is included more than once.`)
  if (param('response_type') !== 'code') {
    return sendErrorPage(res, 400, 'Authorization Error', 'The requested grant type or response type is not supported.')
  }
  const client = await clientForAuthorization(ctx, param('client_id'))
  if (client === undefined) return sendErrorPage(res, 400, 'Invalid Client', 'The client_id is not recognized.')
  if (client.status !== 'active') return sendErrorPage(res, 403, 'Client Suspended', 'This client has been suspended.')
  const redirectUri = param('redirect_uri')
  if (!redirectUriRegistered(client, redirectUri)) {
    return sendErrorPage(res, 400, 'Invalid Redirect URI', 'The redirect_uri does not match the client registration.')
  }
  const state = param('state')
  const toClient = (error: string, description: string): void => redirect(res, withParams(redirectUri, {error, error_description: description, state}))

  const late = repeated(['state', 'scope', 'code_challenge', 'code_challenge_method'])
  if (late !== undefined) return toClient('invalid_request', `the ${late} parameter is included more than once (RFC 6749 section 3.1)`)

  // OAuth 2.1 §4.1.1: PKCE is required, and only S256 (plain would leak the verifier). The texts
  // are the real server's ErrInvalidPKCE with internal/crypto/pkce.go's reasons.
  const challenge = param('code_challenge')
  if (challenge === '') return toClient('invalid_grant', 'PKCE verification failed: code_challenge is required')
  const methodProblem = challengeMethodProblem(param('code_challenge_method'))
  if (methodProblem !== undefined) return toClient('invalid_grant', `PKCE verification failed: ${methodProblem}`)
  const challengeShape = challengeProblem(challenge)
  if (challengeShape !== undefined) return toClient('invalid_grant', `PKCE verification failed: ${challengeShape}`)

  let resource: Resource | undefined
  if (param('resource') !== '') {
    const resolved = resolveResource(ctx, param('resource'))
    if ('error' in resolved) return sendErrorPage(res, 400, resolved.error, RESOURCE_PAGES[resolved.error])
    resource = resolved.resource
  }
  let scope: string
  try {
    scope = authorizeScope(ctx, client, param('scope'), resource)
  } catch (err) {
    if (err instanceof ScopeError) return toClient('invalid_scope', `the requested scope is invalid or not allowed: ${err.message}`)
    throw err
  }

  const signedIn = currentUser(ctx, req)
  const session = openAuthorizationSession(ctx, {client, userId: signedIn?.user.id ?? '', redirectUri, scope, resource, state, codeChallenge: challenge})
  if (signedIn === undefined) return redirect(res, `/login?redirect=${encodeURIComponent(req.url ?? '/')}`)
  // Consent is remembered per user, client and resource, and covers the scopes it named.
  if (resource === undefined || !grantCovers(ctx, signedIn.user.id, client.id, resource.id, scope)) {
    return redirect(res, `/consent?session_id=${encodeURIComponent(session.id)}`)
  }
  const back = completeAuthorization(ctx, session, scope, signedIn.user.id)
  if (back === undefined) return toClient('server_error', 'authorization failed')
  redirect(res, back)
}
