// A kept sign-in in use: its access token, refreshed before it expires (RFC 6749 §6; the rotated
// refresh token replaces the old one), and signing out (RFC 7009 revocation, then forgetting).
// Nothing here speaks MCP: `token mint --user-token` and `logout` load neither the MCP SDK nor zod.
import type * as oauth from 'oauth4webapi'

import {describeToken} from '../authplane/token.js'
import type {LoginRecord} from '../config/store.js'
import {ApDemoError, ConfigError, CredentialsError} from '../errors.js'
import type {AuthorizationTarget} from '../login/authorize.js'
import {findLogin, forgetLogin, loginsFor, saveLogin} from '../login/sessions.js'
import type {RevocationOutcome} from '../login/tokens.js'
import type {WalkthroughContext} from './context.js'
import type {MintResult} from './token.js'

/** A token that expires within this is refreshed first: a call must not start with a token about to lapse. */
export const REFRESH_MARGIN_MS = 60_000

/** The authorization server of a kept sign-in, as oauth4webapi takes it (from what the login kept). */
export function loginServer(login: LoginRecord): oauth.AuthorizationServer {
  const s = login.server
  return {
    issuer: s.issuer,
    authorization_endpoint: s.authorization_endpoint,
    token_endpoint: s.token_endpoint,
    ...(s.revocation_endpoint ? {revocation_endpoint: s.revocation_endpoint} : {}),
    ...(s.registration_endpoint ? {registration_endpoint: s.registration_endpoint} : {}),
    ...(s.authorization_response_iss_parameter_supported !== undefined ? {authorization_response_iss_parameter_supported: s.authorization_response_iss_parameter_supported} : {}),
    ...(s.token_endpoint_auth_methods_supported ? {token_endpoint_auth_methods_supported: s.token_endpoint_auth_methods_supported} : {}),
    ...(s.scopes_supported ? {scopes_supported: s.scopes_supported} : {}),
  }
}

export function loginTarget(login: LoginRecord, scopes = login.requestedScopes): AuthorizationTarget {
  return {server: loginServer(login), client: login.client, resource: login.resource, scopes}
}

/** The scopes the token holds: what the server said it granted, else what was asked for (RFC 6749 §5.1). */
export function heldScopes(login: LoginRecord): string[] {
  return login.scope !== undefined ? login.scope.split(' ').filter(Boolean) : login.requestedScopes
}

export function needsRefresh(login: LoginRecord, now = Date.now()): boolean {
  return login.expiresAt !== undefined && login.expiresAt - now <= REFRESH_MARGIN_MS
}

/** The sign-in for the MCP server of `ctx`, if the user has one. */
export function currentLogin(ctx: WalkthroughContext): LoginRecord | undefined {
  return findLogin(ctx.store, ctx.profile, ctx.mcpUrl)
}

export interface FreshLogin {
  login: LoginRecord
  refreshed: boolean
}

/**
 * The sign-in with a usable access token: as kept while it has more than a minute left (or no
 * known expiry), else refreshed first (always, with `force`). A refresh the server refuses ends the
 * sign-in: it is forgotten, and the error says to sign in again.
 */
export async function freshLogin(ctx: WalkthroughContext, login: LoginRecord, options: {force?: boolean} = {}): Promise<FreshLogin> {
  if (!options.force && !needsRefresh(login)) return {login, refreshed: false}
  if (!login.refreshToken) {
    throw new CredentialsError('login_expired', `the sign-in for ${login.resource} at ${login.issuer} has ${options.force ? 'a token the server refuses' : 'expired'}, and the server gave no refresh token`, {
      hint: `Sign in again: ap-demo login --mcp-url ${login.mcpUrl}`,
      details: {issuer: login.issuer, resource: login.resource, expiresAt: login.expiresAt ? new Date(login.expiresAt).toISOString() : null},
    })
  }
  const {refreshTokens} = await import('../login/tokens.js')
  let tokens
  try {
    tokens = await refreshTokens(loginTarget(login), login.refreshToken, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
  } catch (error) {
    if (error instanceof ApDemoError && (error.code === 'refresh_refused' || error.code === 'invalid_client')) {
      forgetLogin(ctx.store, ctx.profile, login)
      throw new CredentialsError(error.code, error.message, {hint: `The sign-in was forgotten. Sign in again: ap-demo login --mcp-url ${login.mcpUrl}`, details: error.details, cause: error})
    }
    throw error
  }
  const now = Date.now()
  const next: LoginRecord = {...login, accessToken: tokens.accessToken, tokenType: tokens.tokenType, refreshedAt: new Date(now).toISOString()}
  // RFC 6749 §6: without a new refresh token the old one stays valid; with one, the old one is spent.
  if (tokens.refreshToken) next.refreshToken = tokens.refreshToken
  if (tokens.expiresIn !== undefined) next.expiresAt = now + tokens.expiresIn * 1000
  else delete next.expiresAt
  if (tokens.scope !== undefined) next.scope = tokens.scope
  const sub = tokenSubject(tokens.accessToken)
  if (sub !== undefined) next.sub = sub
  saveLogin(ctx.store, ctx.profile, next)
  return {login: next, refreshed: true}
}

/** The `sub` of a JWT access token; undefined for an opaque one (a client need not read its tokens). */
export function tokenSubject(accessToken: string): string | undefined {
  try {
    const sub = describeToken(accessToken).claims.sub
    return typeof sub === 'string' ? sub : undefined
  } catch {
    return undefined
  }
}

export interface SignOutOutcome {
  issuer: string
  resource: string
  clientId: string
  sub?: string
  /** What was revoked at the server: the refresh token (the whole grant, at Authplane), else the access token. */
  revokedToken: 'refresh_token' | 'access_token'
  revocation: RevocationOutcome
}

/**
 * `ap-demo logout`: each sign-in for the MCP server (or all) is revoked at its authorization
 * server (RFC 7009) and then forgotten, whatever the server answered: a server that cannot or will
 * not revoke it is reported, and the token stays valid there until it expires.
 */
export async function signOut(ctx: WalkthroughContext, options: {all?: boolean}): Promise<SignOutOutcome[]> {
  const {revokeToken} = await import('../login/tokens.js')
  const outcomes: SignOutOutcome[] = []
  for (const login of loginsFor(ctx.store, ctx.profile, options.all ? undefined : ctx.mcpUrl)) {
    const hint = login.refreshToken ? 'refresh_token' : 'access_token'
    const revocation = await revokeToken(loginTarget(login), login.refreshToken ?? login.accessToken, hint, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
    forgetLogin(ctx.store, ctx.profile, login)
    outcomes.push({issuer: login.issuer, resource: login.resource, clientId: login.clientId, ...(login.sub ? {sub: login.sub} : {}), revokedToken: hint, revocation})
  }
  return outcomes
}

/** No sign-in for the MCP server of `ctx`: what to run. */
export function notSignedIn(ctx: WalkthroughContext): ConfigError {
  return new ConfigError('not_signed_in', `no user is signed in for ${ctx.mcpUrl} (profile "${ctx.profile}")`, {
    hint: `Sign in first: ap-demo login${ctx.mcpUrl ? ` --mcp-url ${ctx.mcpUrl}` : ''}`,
    details: {mcpUrl: ctx.mcpUrl, profile: ctx.profile},
  })
}

/**
 * `token mint --user-token`: the signed-in user's access token for the MCP server, refreshed first
 * when it is about to expire (always with `refresh`), shaped like a minted token for the output.
 */
export async function userTokenForMint(ctx: WalkthroughContext, options: {refresh?: boolean}): Promise<{minted: MintResult; login: LoginRecord; refreshed: boolean}> {
  const kept = currentLogin(ctx)
  if (!kept) throw notSignedIn(ctx)
  const {login, refreshed} = await freshLogin(ctx, kept, {force: options.refresh})
  const expiresIn = login.expiresAt === undefined ? undefined : Math.max(0, Math.round((login.expiresAt - Date.now()) / 1000))
  const token = {accessToken: login.accessToken, tokenType: login.tokenType, raw: {}, fromCache: !refreshed, ...(expiresIn === undefined ? {} : {expiresIn}), ...(login.scope === undefined ? {} : {scope: login.scope})}
  try {
    const described = describeToken(login.accessToken)
    return {minted: {token, header: described.header as Record<string, unknown>, claims: described.claims as Record<string, unknown>, clientId: login.clientId}, login, refreshed}
  } catch {
    return {minted: {token, header: {}, claims: {}, clientId: login.clientId, opaque: true}, login, refreshed}
  }
}
