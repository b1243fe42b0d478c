// POST /oauth/introspect (RFC 7662) and POST /oauth/revoke (RFC 7009), as the real server's
// handlers read them (api/public/oauth/introspect.go, handlers.go): the token first, then the client.
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Client} from '../../domain/client.js'
import {invalidClient, invalidRequest} from '../../http/oauth-error.js'
import {extractClientAuth, first, readOAuthForm} from '../../http/oauth-form.js'
import {sendJson} from '../../http/respond.js'
import {authenticateClient, authenticateRevokingClient} from '../../services/client-auth.js'
import type {ServerContext} from '../../services/context.js'
import {inspect} from '../../services/introspection.js'
import {revokeToken} from '../../services/revocation.js'

export async function introspect(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readOAuthForm(req)
  // The real handler wants the token before it looks at the client.
  const value = first(form, 'token')
  if (value === undefined || value === '') throw invalidRequest('token parameter is required')
  let caller: Client
  try {
    caller = authenticateClient(ctx, extractClientAuth(req, form))
  } catch {
    throw invalidClient()
  }
  // RFC 7662 §2.2: anything the caller may not see is simply inactive, with no reason given.
  sendJson(res, 200, inspect(ctx, value, caller) ?? {active: false})
}

export async function revoke(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readOAuthForm(req)
  const value = first(form, 'token')
  if (value === undefined || value === '') throw invalidRequest('token parameter is required')
  const caller = authenticateRevokingClient(ctx, extractClientAuth(req, form))
  revokeToken(ctx, caller, value)
  res.writeHead(200, {'Content-Length': 0})
  res.end()
}
