// RFC 7662 token introspection: who may see a token as active, and what they see
// (internal/ports/input/introspect.go of the real server).
import type {Client} from '../domain/client.js'
import type {ServerContext} from './context.js'

/** RFC 7662 view of a token for `caller`, or undefined when the caller may not see it as active. */
export function inspect(ctx: ServerContext, tokenValue: string, caller: Client): Record<string, unknown> | undefined {
  const verified = ctx.signer.verify(tokenValue)
  if (verified === undefined) return undefined
  const c = verified.payload
  const nowS = Math.floor(Date.now() / 1000)
  if (c.iss !== ctx.issuer || typeof c.jti !== 'string' || typeof c.exp !== 'number' || c.exp <= nowS) return undefined
  if (typeof c.nbf === 'number' && c.nbf > nowS + 30) return undefined
  const row = ctx.store.tokenByJti(c.jti)
  if (row === undefined || row.revoked !== 0) return undefined
  const owner = ctx.store.clientById(row.client_id)
  if (owner === undefined || owner.status !== 'active') return undefined
  if (caller.id !== row.client_id && !ctx.store.runtimeAllowed(row.aud, caller.id)) return undefined
  // The real server's IntrospectResponse: `aud` a single string, empty members omitted, no nbf.
  const view: Record<string, unknown> = {active: true}
  if (row.scope !== '') view.scope = row.scope
  Object.assign(view, {client_id: row.client_id, sub: c.sub, aud: row.aud, iss: c.iss, exp: c.exp, iat: c.iat, jti: c.jti,
    // RFC 9449 §6.2: a DPoP-bound token introspects with token_type DPoP and its cnf.
    token_type: row.cnf_jkt === null ? 'Bearer' : 'DPoP'})
  if (row.cnf_jkt !== null) view.cnf = {jkt: row.cnf_jkt}
  return view
}
