// /admin/clients (api/admin/handlers.go, internal/services/admin.go of the real server): create
// with the once-shown secret, list, read, patch, delete, rotate-secret and the lifecycle state
// machine.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {applyDefaults, ClientValidationError, GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, goQuote, INVALID_CLIENT_TEXT,
  validateClientParams, type AuthMethod, type Client, type ClientParams, type ClientStatus} from '../../domain/client.js'
import {SCOPE_TOKEN_RE} from '../../domain/resource.js'
import type {FieldKind} from '../../http/body.js'
import {ProblemError, sendJson, sendNoContent} from '../../http/respond.js'
import {newClientSecret, randomId} from '../../store/secrets.js'
import type {ServerContext} from '../../services/context.js'
import {atoi, bad, decodeClientBody, now, readJsonObject, type Json} from './common.js'
import {words} from '../../domain/scope.js'

const CLIENT_FIELDS: Record<string, FieldKind> = {
  client_name: 'string', redirect_uris: 'strings', grant_types: 'strings', response_types: 'strings',
  token_endpoint_auth_method: 'string', scope: 'string', agent: 'bool', agent_description: 'string',
}
const CLIENT_PATCH_FIELDS: Record<string, FieldKind> = {client_name: 'string', redirect_uris: 'strings', grant_types: 'strings', scope: 'string'}

function validated(p: ClientParams): ClientParams {
  try {
    validateClientParams(p)
  } catch (err) {
    if (err instanceof ClientValidationError) throw bad(err.message)
    throw err
  }
  return p
}

/**
 * The real server's storage answers an unknown client id with its invalid_client sentinel; only
 * GET translates that to 404. Every other client route reports it as a 400 with the sentinel text
 * (wrapped by the service as "get client: ..." for the lifecycle transitions).
 */
function clientOr400(ctx: ServerContext, id: string, prefix = ''): Client {
  const c = ctx.store.clientById(id)
  if (c === undefined) throw bad(prefix + INVALID_CLIENT_TEXT)
  return c
}

/** Read view: `id`/`name`, unlike the create response's `client_id`/`client_name` (a real-server quirk). */
function clientView(c: Client): Json {
  return {
    id: c.id, name: c.name, redirect_uris: c.redirect_uris, grant_types: c.grant_types, response_types: c.response_types,
    token_endpoint_auth_method: c.token_endpoint_auth_method, scope: c.scope, status: c.status,
    registration_source: c.registration_source, agent: c.agent, agent_description: c.agent_description,
    // The Client ID Metadata Document a client was registered from (its id is that URL).
    cimd_url: c.registration_source === 'cimd' ? c.id : '', issued_at: c.issued_at, updated_at: c.updated_at,
  }
}

function createClient(ctx: ServerContext, body: Json | null): Json {
  const f = decodeClientBody(body, CLIENT_FIELDS)
  const grants = (f.grant_types as string[] | undefined) ?? []
  const p = validated(applyDefaults({
    name: (f.client_name as string | undefined) ?? '',
    redirectUris: (f.redirect_uris as string[] | undefined) ?? [],
    // The project contract keeps the admin API's historical default of both user grants; the
    // real server's validator would default to authorization_code alone (docs/fidelity.md).
    grantTypes: grants.length === 0 ? [GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN] : grants,
    responseTypes: (f.response_types as string[] | undefined) ?? [],
    authMethod: (f.token_endpoint_auth_method as string | undefined) ?? '',
    agentDescription: (f.agent_description as string | undefined) ?? '',
  }))
  const scope = scopeCeiling(f.scope)
  const secret = p.authMethod === 'none' ? undefined : newClientSecret()
  const t = now()
  const c: Client = {
    id: randomId(), name: p.name, secret_hash: secret === undefined ? null : ctx.hasher.hash(secret),
    redirect_uris: p.redirectUris, grant_types: p.grantTypes, response_types: p.responseTypes,
    token_endpoint_auth_method: p.authMethod as AuthMethod, scope, status: 'active', registration_source: 'admin',
    agent: (f.agent as boolean | undefined) ?? false, agent_description: p.agentDescription, application_type: '',
    issued_at: t, updated_at: t,
  }
  ctx.store.insertClient(c)
  const out: Json = {client_id: c.id}
  // Shown exactly once: only a hash is stored, so it can never be read back (rotate instead).
  if (secret !== undefined) out.client_secret = secret
  Object.assign(out, {
    client_name: c.name, redirect_uris: c.redirect_uris, grant_types: c.grant_types, response_types: c.response_types,
    token_endpoint_auth_method: c.token_endpoint_auth_method, scope: c.scope, status: c.status,
    registration_source: c.registration_source, agent: c.agent, agent_description: c.agent_description, issued_at: c.issued_at.replace(/\.\d{3}Z$/, 'Z'),
  })
  return out
}

/** A scope ceiling: RFC 6749 §3.3 scope tokens, space-separated; stored de-duplicated in order. */
function scopeCeiling(v: unknown): string {
  const tokens = words((v as string | undefined) ?? '')
  for (const t of tokens) {
    if (!SCOPE_TOKEN_RE.test(t)) throw bad(`${INVALID_CLIENT_TEXT}: client validation failed: invalid scope token ${goQuote(t)} (RFC 6749 section 3.3)`)
  }
  return tokens.join(' ')
}

export const TRANSITIONS: Record<string, {to: ClientStatus; from?: ClientStatus; verb: string}> = {
  suspend: {to: 'suspended', from: 'active', verb: 'suspend'},
  reactivate: {to: 'active', from: 'suspended', verb: 'reactivate'},
  // Revocation is allowed from any state, including revoked.
  revoke: {to: 'revoked', verb: 'revoke'},
}

export async function clients(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, action: string | undefined, q: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET'
  if (id === undefined) {
    if (method === 'GET') {
      // Like the real handler: unparsable or non-positive limit means 50, offset falls back to 0,
      // and an unknown status or source simply matches nothing.
      const limit = atoi(q.get('limit'))
      const offset = Math.max(0, atoi(q.get('offset')))
      const list = ctx.store.listClients(limit <= 0 ? 50 : Math.min(limit, 10_000), offset, {status: q.get('status') ?? '', source: q.get('source') ?? ''})
      return sendJson(res, 200, list.map(clientView))
    }
    return sendJson(res, 201, createClient(ctx, await readJsonObject(req)))
  }

  if (action === 'rotate-secret') {
    const c = clientOr400(ctx, id)
    if (c.secret_hash === null) throw bad(`${INVALID_CLIENT_TEXT}: cannot rotate secret for public client`)
    const secret = newClientSecret()
    ctx.store.setClientSecret(id, ctx.hasher.hash(secret), now())
    return sendJson(res, 200, {client_id: id, client_secret: secret})
  }
  if (action !== undefined) {
    const tr = TRANSITIONS[action]!
    const c = clientOr400(ctx, id, 'get client: ')
    // The real server's client state machine: a transition from any other state is a 409.
    if (tr.from !== undefined && c.status !== tr.from) {
      throw new ProblemError(409, `${tr.verb}: invalid client state transition from ${c.status} to ${tr.to}`)
    }
    ctx.store.setClientStatus(id, tr.to, now())
    return sendJson(res, 200, {status: tr.to})
  }

  if (method === 'GET') {
    const c = ctx.store.clientById(id)
    if (c === undefined) throw new ProblemError(404, 'client not found')
    return sendJson(res, 200, clientView(c))
  }
  if (method === 'PATCH') {
    const f = decodeClientBody(await readJsonObject(req), CLIENT_PATCH_FIELDS)
    const c = clientOr400(ctx, id)
    const p = validated({
      name: (f.client_name as string | undefined) ?? c.name,
      redirectUris: (f.redirect_uris as string[] | undefined) ?? c.redirect_uris,
      grantTypes: (f.grant_types as string[] | undefined) ?? c.grant_types,
      responseTypes: c.response_types,
      authMethod: c.token_endpoint_auth_method,
      agentDescription: c.agent_description,
    })
    const scope = f.scope === undefined ? c.scope : scopeCeiling(f.scope)
    const updated: Client = {...c, name: p.name, redirect_uris: p.redirectUris, grant_types: p.grantTypes, scope, updated_at: now()}
    ctx.store.updateClient(updated)
    return sendJson(res, 200, clientView(updated))
  }
  // DELETE
  clientOr400(ctx, id)
  const force = q.get('force') === 'true'
  const live = ctx.store.liveTokenCount(id, Math.floor(Date.now() / 1000))
  if (live > 0 && !force) throw new ProblemError(409, 'client has active tokens — use force=true to revoke and delete')
  ctx.store.deleteClient(id)
  return sendNoContent(res)
}

