// RFC 7009 token revocation (internal/services/revocation.go of the real server).
import type {Client} from '../domain/client.js'
import type {ServerContext} from './context.js'

/**
 * Revokes `token` when `caller` is the client it was issued to. RFC 7009 §2.2: unknown, invalid
 * or foreign tokens are not an error, so the endpoint cannot be used to probe which tokens exist.
 */
export function revokeToken(ctx: ServerContext, caller: Client, token: string): void {
  const verified = ctx.signer.verify(token)
  const jti = verified?.payload.jti
  if (typeof jti === 'string') {
    const row = ctx.store.tokenByJti(jti)
    if (row !== undefined && row.client_id === caller.id) ctx.store.revokeToken(jti)
  }
}
