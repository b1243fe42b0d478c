import {createHash, randomBytes} from 'node:crypto'
import type {Client} from '../domain/client.js'
import {pkceMatches} from '../domain/pkce.js'
import type {AuthSession, TokenFamily} from '../domain/user.js'
import {invalidClient, OAuthError} from '../http/oauth-error.js'
import type {ServerContext} from './context.js'
import {bindDpopProof} from './dpop-bind.js'
import {words} from '../domain/scope.js'

// The token endpoint's user grants (RFC 6749 §4.1.3 and §6), in the real server's order of checks.
// Its wire texts are its domain errors' messages, reproduced here.


const INVALID_GRANT = 'the authorization grant is invalid, expired, or revoked'
const CODE_USED = 'authorization code has already been used'
const FAMILY_REVOKED = 'token family revoked due to reuse detection'

function invalidGrant(description = INVALID_GRANT): OAuthError {
  return new OAuthError(400, 'invalid_grant', description)
}

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url')
}

/** 32 random bytes, base64url: codes and refresh tokens. Only their hashes are stored. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The client of a user grant. A public client (`none`) proves nothing here (PKCE or the refresh
 * token is its proof) and must not send a secret; a confidential one must send the right one.
 */
function authenticateGrantClient(ctx: ServerContext, clientId: string, secret: string | undefined): Client {
  const client = ctx.store.clientById(clientId)
  if (client === undefined) throw invalidClient()
  if (client.status !== 'active') throw invalidClient('client is suspended or revoked')
  if (client.token_endpoint_auth_method === 'none') {
    if (secret !== undefined && secret !== '') throw invalidClient()
  } else if (secret === undefined || secret === '' || !ctx.hasher.verify(secret, client.secret_hash)) {
    throw invalidClient()
  }
  return client
}

/** RFC 8707 §2.2: a resource named at the token endpoint must be the one the grant covers. */
function checkRequestedResource(ctx: ServerContext, requested: string | undefined, authorized: string): void {
  if (requested === undefined || requested === '' || requested === authorized) return
  // Scheme and host are case-insensitive (RFC 3986 §6.2.2.1); the rest is compared byte for byte.
  const fold = (u: string): string | undefined => {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s.exec(u)
    return m === null ? undefined : `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}${m[3]}`
  }
  const a = fold(requested)
  if (a !== undefined && a === fold(authorized)) return
  if (ctx.store.resourceScopesByUri(requested) === undefined && ctx.store.resourceBySlug(requested) === undefined) {
    throw new OAuthError(400, 'invalid_target', `resource "${requested}" is not a registered resource`)
  }
  throw new OAuthError(400, 'invalid_target', `resource "${requested}" was not authorized by this grant`)
}

function userMustBeActive(ctx: ServerContext, userId: string): void {
  const user = ctx.users.userById(userId)
  // A deleted and a disabled account answer alike: the caller must not tell them apart.
  if (user === undefined || user.status !== 'active') throw invalidGrant()
}

/** Revokes a family and every access token it issued (they introspect as inactive from now on). */
export function revokeFamily(ctx: ServerContext, familyId: string): void {
  for (const jti of ctx.users.revokeFamily(familyId)) ctx.store.revokeToken(jti)
}

interface Issue {
  client: Client
  userId: string
  scope: string
  resource: string
  familyId: string
  jkt: string | undefined
}

function mintForFamily(ctx: ServerContext, i: Issue): {accessToken: string; refreshToken: string} {
  const audience = i.resource === '' ? ctx.issuer : i.resource
  const scopes = words(i.scope)
  const minted = ctx.minter.mint({clientId: i.client.id, subject: i.userId, audience, scopes, jkt: i.jkt, ttlSeconds: ctx.userTokenTtlSeconds})
  ctx.store.recordToken({jti: minted.jti, client_id: i.client.id, aud: audience, scope: scopes.join(' '), iat: minted.iat, exp: minted.exp, cnf_jkt: i.jkt ?? null, revoked: 0})
  ctx.users.linkAccessToken(minted.jti, i.familyId)
  const refreshToken = newOpaqueToken()
  const now = Math.floor(Date.now() / 1000)
  ctx.users.insertRefresh({id: randomBytes(16).toString('base64url'), family_id: i.familyId, token_hash: sha256(refreshToken), expires_at: now + ctx.refreshTokenTtlSeconds, created_at: now})
  ctx.stats.tokensIssued++
  return {accessToken: minted.jwt, refreshToken}
}

/** The token response of a user grant (RFC 6749 §5.1). */
function tokenResponse(ctx: ServerContext, t: {accessToken: string; refreshToken: string}, scope: string, jkt: string | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {access_token: t.accessToken, token_type: jkt === undefined ? 'Bearer' : 'DPoP', expires_in: ctx.userTokenTtlSeconds, refresh_token: t.refreshToken}
  if (scope !== '') body.scope = scope
  return body
}

/** A user-grant request as the token endpoint read it: the client's credentials, the form, the DPoP proof. */
export interface UserGrantRequest {
  clientId: string
  secret: string
  /** The first value of a form parameter. */
  param: (name: string) => string | undefined
  dpopProof: string | undefined
}

/**
 * A replayed code (RFC 6749 §4.1.2: "SHOULD revoke all tokens previously issued based on that
 * authorization code"). Only a replay that proves it holds the code's client and verifier revokes,
 * so a stranger who merely saw a used code cannot end the legitimate session.
 */
function onCodeReplay(ctx: ServerContext, session: AuthSession, clientId: string | undefined, verifier: string | undefined): void {
  if (clientId !== session.client_id || !pkceMatches(verifier, session.code_challenge)) return
  const family = ctx.users.familyBySession(session.id)
  if (family !== undefined && family.status === 'active') revokeFamily(ctx, family.id)
}

/** RFC 6749 §4.1.3: the authorization code grant; returns the token response. */
export async function exchangeAuthorizationCode(ctx: ServerContext, r: UserGrantRequest): Promise<Record<string, unknown>> {
  const value = r.param
  const {clientId, secret} = r
  const code = value('code') ?? ''
  const verifier = value('code_verifier')
  const nowS = Math.floor(Date.now() / 1000)

  // 1. Consume first, atomically: whatever fails afterwards, this code is spent.
  const session = code === '' ? undefined : ctx.users.sessionByCode(sha256(code))
  if (session === undefined) throw invalidGrant()
  if (!ctx.users.consumeSession(session.id, nowS)) {
    onCodeReplay(ctx, session, clientId, verifier)
    throw invalidGrant(CODE_USED)
  }
  if (session.expires_at < nowS) throw invalidGrant()
  if (clientId !== session.client_id) throw invalidClient()
  if (value('redirect_uri') !== session.redirect_uri) throw invalidGrant()
  const client = authenticateGrantClient(ctx, session.client_id, secret)
  if (!pkceMatches(verifier, session.code_challenge)) throw new OAuthError(400, 'invalid_grant', 'PKCE verification failed')
  checkRequestedResource(ctx, value('resource'), session.resource)
  userMustBeActive(ctx, session.user_id)
  const jkt = await bindDpopProof(ctx, r.dpopProof)

  const family: Omit<TokenFamily, 'status'> = {
    id: randomBytes(16).toString('base64url'), client_id: client.id, user_id: session.user_id, scope: session.scope,
    resource: session.resource, auth_session_id: session.id, created_at: new Date().toISOString(),
  }
  const tokens = ctx.users.transaction(() => {
    ctx.users.insertFamily(family)
    return mintForFamily(ctx, {client, userId: session.user_id, scope: session.scope, resource: session.resource, familyId: family.id, jkt})
  })
  return tokenResponse(ctx, tokens, session.scope, jkt)
}

/** RFC 6749 §6: never wider than the family's grant; narrowed to the client's current ceiling. */
function refreshScope(requested: string | undefined, familyScope: string, client: Client): string {
  const granted = words(familyScope)
  const ceiling = words(client.scope)
  const scopeError = (): OAuthError => new OAuthError(400, 'invalid_scope', 'the requested scope is invalid or not allowed')
  if (requested !== undefined && requested.trim() !== '') {
    const asked = words(requested)
    if (asked.some((s) => !granted.includes(s))) throw scopeError()
    if (ceiling.length > 0 && asked.some((s) => !ceiling.includes(s))) throw scopeError()
    return asked.join(' ')
  }
  if (ceiling.length === 0 || granted.every((s) => ceiling.includes(s))) return familyScope
  const narrowed = granted.filter((s) => ceiling.includes(s))
  if (narrowed.length === 0) throw scopeError()
  return narrowed.join(' ')
}

/** RFC 6749 §6: the refresh token grant, with rotation and reuse detection; returns the token response. */
export async function refreshAccessToken(ctx: ServerContext, r: UserGrantRequest): Promise<Record<string, unknown>> {
  const value = r.param
  const {clientId, secret} = r
  const presented = value('refresh_token') ?? ''
  const nowS = Math.floor(Date.now() / 1000)

  const rt = presented === '' ? undefined : ctx.users.refreshByHash(sha256(presented))
  if (rt === undefined || rt.expires_at < nowS) throw invalidGrant()
  const family = ctx.users.familyById(rt.family_id)
  if (family === undefined) throw invalidGrant()
  if (family.status !== 'active') throw invalidGrant(FAMILY_REVOKED)
  // The caller proves it is the client before the token is spent: otherwise anyone holding a
  // leaked value could burn it and trigger the reuse response against the real client.
  if (clientId !== family.client_id) throw invalidClient()
  const client = authenticateGrantClient(ctx, family.client_id, secret)
  checkRequestedResource(ctx, value('resource'), family.resource)
  const scope = refreshScope(value('scope'), family.scope, client)

  if (!ctx.users.consumeRefresh(rt.id, nowS)) {
    // Reuse of a rotated token: someone else holds a copy. RFC 9700 §4.14.2: revoke the family.
    revokeFamily(ctx, family.id)
    throw invalidGrant(FAMILY_REVOKED)
  }
  userMustBeActive(ctx, family.user_id)
  const jkt = await bindDpopProof(ctx, r.dpopProof)
  // A force logout may have revoked the family while the proof was checked.
  if (ctx.users.familyById(family.id)?.status !== 'active') throw invalidGrant(FAMILY_REVOKED)
  const tokens = ctx.users.transaction(() => mintForFamily(ctx, {client, userId: family.user_id, scope, resource: family.resource, familyId: family.id, jkt}))
  return tokenResponse(ctx, tokens, scope, jkt)
}
