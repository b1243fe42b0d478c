// Client authentication at the token, introspection and revocation endpoints, with the real
// server's order of checks and texts.
import type {Client} from '../domain/client.js'
import {invalidClient} from '../http/oauth-error.js'
import type {ServerContext} from './context.js'

/** What the request carried: `Authorization: Basic`, else `client_id`/`client_secret` in the form. */
export interface ClientCredentials {
  id: string
  secret: string
}

/**
 * Client authentication in the real server's order (internal/services/client_credentials.go):
 * missing id or secret, unknown id, then status (a suspended or revoked client is told so even
 * with a wrong secret), then public client, then the secret. All are 401 invalid_client.
 */
export function authenticateClient(ctx: ServerContext, {id, secret}: ClientCredentials): Client {
  if (id === '' || secret === '') throw invalidClient()
  const client = ctx.store.clientById(id)
  if (client === undefined) throw invalidClient()
  if (client.status !== 'active') throw invalidClient('client is suspended or revoked')
  if (client.secret_hash === null || !ctx.hasher.verify(secret, client.secret_hash)) throw invalidClient()
  return client
}

/**
 * Client authentication at the revocation endpoint (internal/services/revocation.go
 * `RevokeToken`): a public client names itself with `client_id` and needs no secret (RFC 7009
 * §2.1: it can revoke only its own tokens anyway); a confidential client authenticates as
 * everywhere else. A suspended or revoked client is refused (the real server since 0.1.2).
 */
export function authenticateRevokingClient(ctx: ServerContext, {id, secret}: ClientCredentials): Client {
  if (id === '') throw invalidClient()
  const client = ctx.store.clientById(id)
  if (client === undefined) throw invalidClient()
  if (client.status !== 'active') throw invalidClient('client is suspended or revoked')
  if (client.token_endpoint_auth_method === 'none' && client.secret_hash === null) return client
  if (secret === '' || client.secret_hash === null || !ctx.hasher.verify(secret, client.secret_hash)) throw invalidClient()
  return client
}
