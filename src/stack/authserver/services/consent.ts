// The consent step (internal/services/consent.go of the real server): the session waiting for a
// decision, and what an approval records.
import {randomBytes} from 'node:crypto'
import type {Client} from '../domain/client.js'
import type {Resource} from '../domain/resource.js'
import type {AuthSession} from '../domain/user.js'
import {words} from '../domain/scope.js'
import {completeAuthorization} from './authorize.js'
import type {ServerContext} from './context.js'

export interface PendingConsent {
  session: AuthSession
  client: Client
  resource?: Resource
}

/**
 * A session that still waits for `userId`'s consent, with its client (and resource, when it names
 * one). The session belongs to the user who was signed in when it was opened: another user's
 * consent must not complete it, or the client would receive a code for the wrong account.
 */
export function pendingConsent(ctx: ServerContext, sessionId: string, userId: string): PendingConsent | undefined {
  const session = sessionId === '' ? undefined : ctx.users.sessionById(sessionId)
  if (session === undefined || session.code_hash !== null || session.expires_at < Date.now() / 1000) return undefined
  if (session.user_id === '' || session.user_id !== userId) return undefined
  const client = ctx.store.clientById(session.client_id)
  if (client === undefined || client.status !== 'active') return undefined
  if (session.resource_id === '') return {session, client}
  const resource = ctx.store.resourceById(session.resource_id)
  return resource === undefined ? undefined : {session, client, resource}
}

/**
 * Records the user's consent for the approved scopes (remembered per user, client and resource)
 * and completes the authorization; returns the client's redirect URI, or undefined when the
 * session was completed meanwhile.
 */
export function approveConsent(ctx: ServerContext, pending: PendingConsent, approvedScope: string, userId: string): string | undefined {
  const {session, client, resource} = pending
  if (resource !== undefined) {
    const now = new Date().toISOString()
    ctx.users.upsertGrant({id: randomBytes(16).toString('base64url'), user_id: userId, client_id: client.id, resource_id: resource.id, scopes: words(approvedScope), created_at: now, updated_at: now})
  }
  return completeAuthorization(ctx, session, approvedScope, userId)
}
