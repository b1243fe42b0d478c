import chalk from 'chalk'

import {terminalSafe} from '../../terminal-text.js'

import type {SignInResult} from '../../walkthrough/login.js'
import type {SignOutOutcome} from '../../walkthrough/user-session.js'

/** `login --json`: what was found and kept; never a token. */
export interface LoginResult {
  mcpUrl: string
  resource: string
  issuer: string
  clientId: string
  /** given: --client-id; cimd: a Client ID Metadata Document; reused: the client of an earlier sign-in; registered: RFC 7591. */
  registration: SignInResult['registration']
  reregistered: boolean
  clientAuthMethod: string
  requestedScopes: string[]
  /** What the server granted, when it said. */
  scope: string | null
  sub: string | null
  expiresAt: string | null
  refreshToken: boolean
  discovery: {resourceMetadata: string | null; authorizationServerMetadata: string | null; source: string; scopeSource: string}
}

export function loginResult(r: SignInResult): LoginResult {
  const l = r.login
  return {
    mcpUrl: l.mcpUrl,
    resource: l.resource,
    issuer: l.issuer,
    clientId: l.clientId,
    registration: r.registration,
    reregistered: r.reregistered,
    clientAuthMethod: r.client.authMethod,
    requestedScopes: l.requestedScopes,
    scope: l.scope ?? null,
    sub: l.sub ?? null,
    expiresAt: l.expiresAt === undefined ? null : new Date(l.expiresAt).toISOString(),
    refreshToken: l.refreshToken !== undefined,
    discovery: {
      resourceMetadata: 'url' in r.target.resourceMetadata ? r.target.resourceMetadata.url : null,
      authorizationServerMetadata: r.target.server.metadataUrl ?? null,
      source: r.target.server.source,
      scopeSource: r.target.scopeSource,
    },
  }
}

export function renderLogin(result: LoginResult): string[] {
  const r = terminalSafe(result)
  const who = r.sub ? `as ${r.sub}` : '(the token is opaque: no user id to show)'
  const expiry = r.expiresAt ? `token expires ${r.expiresAt}` : 'no expiry given'
  return [
    `${chalk.green('Signed in')} to ${r.mcpUrl} ${who}`,
    chalk.dim(`  issuer ${r.issuer}, client ${r.clientId}, scope "${r.scope ?? r.requestedScopes.join(' ')}", ${expiry}${r.refreshToken ? ', refresh token kept' : ', no refresh token'}`),
  ]
}

/** `logout --json`. */
export interface LogoutResult {
  mcpUrl: string | null
  signedOut: Array<{issuer: string; resource: string; clientId: string; sub: string | null; revoked: boolean; revokedToken: string; reason: string | null}>
}

export function logoutResult(mcpUrl: string | null, outcomes: SignOutOutcome[]): LogoutResult {
  return {
    mcpUrl,
    signedOut: outcomes.map((o) => ({
      issuer: o.issuer,
      resource: o.resource,
      clientId: o.clientId,
      sub: o.sub ?? null,
      revoked: o.revocation.revoked,
      revokedToken: o.revokedToken,
      reason: o.revocation.revoked ? null : o.revocation.reason === 'no_endpoint' ? 'no revocation_endpoint' : o.revocation.summary,
    })),
  }
}

/** One line per sign-in ended; a server that did not revoke is a warning of its own (see logoutWarnings). */
export function renderLogout(result: LogoutResult): string[] {
  const r = terminalSafe(result)
  if (r.signedOut.length === 0) return [`Not signed in${r.mcpUrl ? ` for ${r.mcpUrl}` : ''}: nothing to do.`]
  return r.signedOut.map((o) => `${chalk.green('Signed out')} of ${o.resource} (issuer ${o.issuer}${o.sub ? `, user ${o.sub}` : ''}): ${o.revoked ? `${o.revokedToken.replace('_', ' ')} revoked at the server, forgotten here` : 'forgotten here'}`)
}

export function logoutWarnings(result: LogoutResult): string[] {
  const r = terminalSafe(result)
  return r.signedOut
    .filter((o) => !o.revoked)
    .map((o) =>
      o.reason === 'no revocation_endpoint'
        ? `${o.issuer} offers no token revocation (no revocation_endpoint): the ${o.revokedToken.replace('_', ' ')} stays valid there until it expires.`
        : `${o.issuer} did not revoke the ${o.revokedToken.replace('_', ' ')} (${o.reason}); it was forgotten here and stays valid there until it expires.`,
    )
}
