// The authorization request (RFC 6749 §4.1.1 with PKCE and RFC 8707 resources) as the real
// server's AuthorizeService handles it (internal/services/authorize.go): the resource, the scope,
// the session it opens, the consent it may skip, and the code that completes it.
import {randomBytes} from 'node:crypto'
import type {Client} from '../domain/client.js'
import {withParams} from '../domain/redirect.js'
import type {Resource} from '../domain/resource.js'
import {CODE_TTL_SECONDS, type AuthSession} from '../domain/user.js'
import {CimdRefusal, isMetadataDocumentUrl, registerFromMetadataDocument} from './cimd.js'
import type {ServerContext} from './context.js'
import {newOpaqueToken, sha256} from './user-grants.js'
import {words} from '../domain/scope.js'

/**
 * The client a `client_id` names (`lookupClient` in the real server's svc/authorize.go): a known
 * client, else, for an http(s) URL with CIMD on, the client its metadata document registers.
 * Undefined when neither; why a document was refused goes to the log, as there.
 */
export async function clientForAuthorization(ctx: ServerContext, clientId: string): Promise<Client | undefined> {
  const known = ctx.store.clientById(clientId)
  if (known !== undefined || !isMetadataDocumentUrl(clientId) || ctx.cimd === undefined) return known
  try {
    return await registerFromMetadataDocument(ctx, clientId)
  } catch (err) {
    if (!(err instanceof CimdRefusal)) throw err
    console.error(`[authserver] cimd auto-registration failed: client_id=${JSON.stringify(clientId)}: ${err.message}`)
    return undefined
  }
}

export type ResourceProblem = 'Unknown Resource' | 'Ambiguous Resource'

/** RFC 8707 `resource` as the real server resolves it: a registered URI (unique), else a slug. */
export function resolveResource(ctx: ServerContext, given: string): {resource: Resource} | {error: ResourceProblem} {
  const byUri = ctx.store.resourcesByUri(given)
  if (byUri.length > 1) return {error: 'Ambiguous Resource'}
  const r = byUri[0] ?? ctx.store.resourceBySlug(given.toLowerCase())
  return r === undefined ? {error: 'Unknown Resource'} : {resource: r}
}

/** A scope the authorization request may not have; its message follows the real server's "…: ". */
export class ScopeError extends Error {}


/**
 * The scope of an authorization request. Omitted: refused while `oauth.require_scope` is on (the
 * real server's default, RFC 6749 §3.3); with it off, the resource's scopes (all resources'
 * without one) narrowed to the client's ceiling, for MCP clients that omit it. Present: within the
 * ceiling (when the client has one) and within the resource's catalog.
 */
export function authorizeScope(ctx: ServerContext, client: Client, requested: string, resource: Resource | undefined): string {
  const ceiling = words(client.scope)
  let scope = words(requested)
  if (scope.length === 0 && ctx.oauth.requireScope) throw new ScopeError('scope parameter is required (oauth.require_scope=true)')
  if (scope.length === 0) {
    const catalog = resource !== undefined ? resource.scopes.map((s) => s.name) : ctx.store.allScopeNames()
    scope = ceiling.length > 0 ? catalog.filter((s) => ceiling.includes(s)) : catalog
    if (scope.length === 0) {
      const reason = ceiling.length > 0
        ? "the client's registered scopes and the resource's scopes do not overlap"
        : resource === undefined ? 'no registered resource declares any scope' : 'the requested resource declares no scopes'
      throw new ScopeError(`no scope is available to this client on the requested resource: ${reason}`)
    }
  }
  if (ceiling.length > 0) {
    // The real server's scopeDenialError text, as at the token endpoint.
    if (scope.some((s) => !ceiling.includes(s))) throw new ScopeError("the requested scope exceeds the client's registered scopes")
  }
  if (resource !== undefined) {
    const names = resource.scopes.map((s) => s.name)
    if (names.length === 0) throw new ScopeError(`no scopes registered for resource "${resource.uri}"`)
    for (const s of scope) if (!names.includes(s)) throw new ScopeError(`scope "${s}" not allowed for resource "${resource.uri}"`)
  }
  return scope.join(' ')
}

/** Does the user's live consent for (client, resource) cover every scope asked? */
export function grantCovers(ctx: ServerContext, userId: string, clientId: string, resourceId: string, scope: string): boolean {
  const grant = ctx.users.liveGrant(userId, clientId, resourceId)
  return grant !== undefined && words(scope).every((s) => grant.scopes.includes(s))
}

/** What an authorization request asks for, once client, redirect URI, PKCE, resource and scope passed. */
export interface NewAuthorization {
  client: Client
  /** The signed-in user, or '' when the browser has yet to sign in. */
  userId: string
  redirectUri: string
  scope: string
  resource: Resource | undefined
  state: string
  codeChallenge: string
}

/** Stores the authorization session; codes live as long as it does. */
export function openAuthorizationSession(ctx: ServerContext, a: NewAuthorization): AuthSession {
  const nowS = Math.floor(Date.now() / 1000)
  const session: AuthSession = {
    id: randomBytes(16).toString('base64url'), client_id: a.client.id, user_id: a.userId, redirect_uri: a.redirectUri, scope: a.scope,
    // The canonical URI, not the slug the client may have sent: it becomes the token's audience.
    resource: a.resource?.uri ?? '', resource_id: a.resource?.id ?? '', state: a.state, code_challenge: a.codeChallenge,
    code_hash: null, expires_at: nowS + CODE_TTL_SECONDS, consumed_at: null, created_at: nowS,
  }
  ctx.users.insertSession(session)
  return session
}

/**
 * Attaches a fresh code to the session; returns the client's redirect URI with `code` and
 * `state`, or undefined when the session already has a code.
 */
export function completeAuthorization(ctx: ServerContext, session: AuthSession, scope: string, userId: string): string | undefined {
  const code = newOpaqueToken()
  if (!ctx.users.issueCode(session.id, sha256(code), scope, userId)) return undefined
  return withParams(session.redirect_uri, {code, state: session.state})
}
