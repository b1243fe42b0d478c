// RFC 7009 token revocation (internal/services/revocation.go `RevokeToken` of the real server): a
// refresh token takes its whole family with it, and every access token the family issued; an
// access token (a JWT from this server) is revoked by its jti. Only the client a token was issued
// to revokes it.
import type {Client} from '../domain/client.js'
import type {ServerContext} from './context.js'
import {revokeFamily, sha256} from './user-grants.js'

/**
 * Revokes `token` when `caller` is the client it was issued to. RFC 7009 §2.2: unknown, invalid
 * or foreign tokens are not an error, so the endpoint cannot be used to probe which tokens exist.
 */
export function revokeToken(ctx: ServerContext, caller: Client, token: string): void {
  const refresh = ctx.users.refreshByHash(sha256(token))
  if (refresh !== undefined) {
    const family = ctx.users.familyById(refresh.family_id)
    if (family !== undefined && family.client_id === caller.id && family.status === 'active') revokeFamily(ctx, family.id)
    return
  }
  const verified = ctx.signer.verify(token)
  const jti = verified?.payload.jti
  if (typeof jti === 'string') {
    const row = ctx.store.tokenByJti(jti)
    if (row !== undefined && row.client_id === caller.id) ctx.store.revokeToken(jti)
  }
}
