import {createHash, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ServerContext} from './context.js'
import {BodyTooLargeError, ProblemError, readBody, sendJson, sendNoContent, sendProblem} from './http.js'
import {newClientSecret, randomId} from './secrets.js'
import {userAdmin} from './users-admin.js'
import type {AuthMethod, BackendKind, Client, ClientStatus, Policy, Resource, ScopeDef} from './store.js'

const ADMIN_BODY_LIMIT = 1024 * 1024
const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,63}$/
const RESOURCE_KEYS = new Set(['slug', 'uri', 'backend_kind', 'broker_provider_id', 'display_name', 'scopes', 'policy'])
const SCOPE_KEYS = new Set(['name', 'description', 'upstream'])
const GRANT_TYPES = new Set([
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
])
const AUTH_METHODS = new Set<AuthMethod>(['none', 'client_secret_basic', 'client_secret_post'])
const CLIENT_STATUSES = new Set<ClientStatus>(['active', 'suspended', 'revoked'])
// The real server wraps client validation errors twice; clients match on this text.
const CLIENT_INVALID = 'client authentication failed: client validation failed: '

type Json = Record<string, unknown>

export function bad(detail: string): ProblemError {
  return new ProblemError(400, detail)
}

export function now(): string {
  return new Date().toISOString()
}

// --- admin key --------------------------------------------------------------------------------

function unauthorized(res: ServerResponse, description: string): void {
  // The admin API deliberately uses a plain OAuth-style body here, not problem+json, and always
  // 401 (never 403) so a wrong key and a missing key look alike to a caller.
  sendJson(res, 401, {error: 'unauthorized', error_description: description}, {'WWW-Authenticate': 'Bearer realm="admin"'})
}

/** Returns true when the request carries the admin key; otherwise answers 401 itself. */
function checkAdminKey(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): boolean {
  if (ctx.adminKey.length === 0) {
    unauthorized(res, 'admin API key not configured')
    return false
  }
  const header = req.headers.authorization
  if (header === undefined || !header.startsWith('Bearer ') || header.length === 'Bearer '.length) {
    unauthorized(res, 'missing API key')
    return false
  }
  // Hashing both sides first gives equal-length inputs, so timingSafeEqual also hides the length.
  const given = createHash('sha256').update(header.slice('Bearer '.length)).digest()
  const expected = createHash('sha256').update(ctx.adminKey).digest()
  if (!timingSafeEqual(given, expected)) {
    unauthorized(res, 'invalid API key')
    return false
  }
  return true
}

// --- request helpers --------------------------------------------------------------------------

export async function readJsonObject(req: IncomingMessage): Promise<Json> {
  let raw: Buffer
  try {
    raw = await readBody(req, ADMIN_BODY_LIMIT)
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ProblemError(413, 'request body exceeds 1 MiB')
    throw err
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw.toString('utf8'))
  } catch {
    throw bad('invalid JSON body')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('invalid JSON body: expected a JSON object')
  return parsed as Json
}

export function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = q.get(name)
  if (raw === null || raw === '') return def
  if (!/^\d+$/.test(raw)) throw bad(`${name} must be an integer between ${min} and ${max}`)
  const n = Number(raw)
  if (n < min || n > max) throw bad(`${name} must be an integer between ${min} and ${max}`)
  return n
}

function stringArray(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`${field} must be an array of strings`)
  return v as string[]
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    return false
  }
}

// --- resources --------------------------------------------------------------------------------

function parseSlug(v: unknown): string {
  if (typeof v !== 'string') throw bad('invalid slug')
  const slug = v.toLowerCase()
  if (!SLUG_RE.test(slug)) throw bad('invalid slug')
  return slug
}

function parseUri(v: unknown): string {
  if (typeof v !== 'string' || !isHttpUrl(v)) throw bad('uri must be an absolute http(s) URL with a host')
  // Stored as given: the token's aud is this string byte for byte (RFC 8707 §2 exact matching).
  return v
}

function parseBackendKind(v: unknown): BackendKind {
  if (v !== 'mint' && v !== 'broker') throw bad('backend_kind must be "mint" or "broker"')
  return v
}

function parseScopes(v: unknown): ScopeDef[] {
  if (!Array.isArray(v)) throw bad('scopes must be an array of {name, description, upstream} objects')
  const seen = new Set<string>()
  return v.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(`scopes[${i}] must be an object`)
    const o = item as Json
    for (const k of Object.keys(o)) if (!SCOPE_KEYS.has(k)) throw bad(`scopes[${i}]: unknown field "${k}"`)
    if (typeof o.name !== 'string' || o.name.trim() === '') throw bad(`scopes[${i}]: name must not be empty`)
    // RFC 6749 §3.3: a scope token cannot contain spaces (the scope parameter is space-delimited).
    if (/[\s"\\]/.test(o.name)) throw bad(`scopes[${i}]: invalid scope name "${o.name}"`)
    if (seen.has(o.name)) throw bad(`duplicate scope name "${o.name}"`)
    seen.add(o.name)
    for (const f of ['description', 'upstream'] as const) {
      if (o[f] !== undefined && typeof o[f] !== 'string') throw bad(`scopes[${i}].${f} must be a string`)
    }
    return {name: o.name, description: (o.description as string | undefined) ?? '', upstream: (o.upstream as string | undefined) ?? ''}
  })
}

function parsePolicy(ctx: ServerContext, v: unknown): Policy {
  const obj = (x: unknown, what: string): Json => {
    if (x === undefined || x === null) return {}
    if (typeof x !== 'object' || Array.isArray(x)) throw bad(`${what} must be an object`)
    return x as Json
  }
  const p = obj(v, 'policy')
  for (const k of Object.keys(p)) if (k !== 'exchange' && k !== 'runtime') throw bad(`policy: unknown field "${k}"`)
  const ex = obj(p.exchange, 'policy.exchange')
  for (const k of Object.keys(ex)) if (k !== 'allowed_client_ids') throw bad(`policy.exchange: unknown field "${k}"`)
  const rt = obj(p.runtime, 'policy.runtime')
  for (const k of Object.keys(rt)) if (k !== 'client_ids') throw bad(`policy.runtime: unknown field "${k}"`)
  const ids = (x: unknown, field: string): string[] => {
    const list = x === undefined || x === null ? [] : stringArray(x, field)
    for (const id of list) if (!ctx.store.clientExists(id)) throw bad(`${field}: unknown client id "${id}"`)
    return [...new Set(list)]
  }
  return {
    exchange: {allowed_client_ids: ids(ex.allowed_client_ids, 'policy.exchange.allowed_client_ids')},
    runtime: {client_ids: ids(rt.client_ids, 'policy.runtime.client_ids')},
  }
}

/** Applies the present fields of `body` onto `base` (a blank resource for create). */
function applyResourceFields(ctx: ServerContext, base: Resource, body: Json, creating: boolean): Resource {
  for (const k of Object.keys(body)) if (!RESOURCE_KEYS.has(k)) throw bad(`unknown field "${k}"`)
  const r: Resource = {...base}
  if (creating || body.slug !== undefined) r.slug = parseSlug(body.slug)
  if (creating || body.uri !== undefined) r.uri = parseUri(body.uri)
  if (creating || body.backend_kind !== undefined) r.backend_kind = parseBackendKind(body.backend_kind)
  if (body.broker_provider_id !== undefined) {
    if (typeof body.broker_provider_id !== 'string') throw bad('broker_provider_id must be a string')
    r.broker_provider_id = body.broker_provider_id
  }
  if (body.display_name !== undefined) {
    if (typeof body.display_name !== 'string') throw bad('display_name must be a string')
    r.display_name = body.display_name
  }
  if (body.scopes !== undefined) r.scopes = parseScopes(body.scopes)
  if (body.policy !== undefined) r.policy = parsePolicy(ctx, body.policy)

  if (r.backend_kind === 'broker') {
    // A broker resource forwards to an upstream identity provider registered on the real server.
    // This embedded server has no provider registry, so no provider id can ever be valid.
    if (r.broker_provider_id === '') throw bad('broker_provider_id is required for backend_kind "broker"')
    throw bad(`broker_provider_id "${r.broker_provider_id}" does not name an existing provider (the embedded server has no providers; use backend_kind "mint")`)
  }
  if (r.broker_provider_id !== '') throw bad('broker_provider_id must be empty for backend_kind "mint"')
  for (const s of r.scopes) if (s.upstream !== '') throw bad(`scope "${s.name}": upstream must be empty for a mint resource`)
  return r
}

function saveResource(ctx: ServerContext, r: Resource, isNew: boolean, previousSlug?: string): void {
  if (r.slug !== previousSlug) {
    const other = ctx.store.resourceBySlug(r.slug)
    if (other !== undefined && other.id !== r.id) throw new ProblemError(409, `slug "${r.slug}" is already in use`)
  }
  try {
    ctx.store.saveResource(r, isNew)
  } catch (err) {
    // Two admin calls racing on one slug: the UNIQUE index is the final arbiter.
    if ((err as {code?: string}).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new ProblemError(409, `slug "${r.slug}" is already in use`)
    throw err
  }
}

async function resources(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, q: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET'
  if (id === undefined) {
    if (method === 'GET') {
      const slug = q.get('slug')
      if (slug !== null) {
        const r = ctx.store.resourceBySlug(slug.toLowerCase())
        if (r === undefined) throw new ProblemError(404, 'resource not found')
        return sendJson(res, 200, r)
      }
      const kind = q.get('backend_kind')
      if (kind !== null && kind !== '' && kind !== 'mint' && kind !== 'broker') throw bad('backend_kind must be "mint" or "broker"')
      const limit = intParam(q, 'limit', 100, 1, 500)
      const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER)
      return sendJson(res, 200, ctx.store.listResources(limit, offset, kind === null || kind === '' ? undefined : kind))
    }
    if (method === 'POST') {
      const body = await readJsonObject(req)
      const t = now()
      const blank: Resource = {id: randomId(), slug: '', uri: '', backend_kind: 'mint', broker_provider_id: '', display_name: '', scopes: [],
        policy: {exchange: {allowed_client_ids: []}, runtime: {client_ids: []}}, created_at: t, updated_at: t}
      const r = applyResourceFields(ctx, blank, body, true)
      saveResource(ctx, r, true)
      return sendJson(res, 201, r)
    }
    throw new ProblemError(405, `method ${method} not allowed`, {Allow: 'GET, POST'})
  }
  const existing = ctx.store.resourceById(id)
  if (method !== 'GET' && method !== 'PATCH' && method !== 'DELETE') {
    throw new ProblemError(405, `method ${method} not allowed`, {Allow: 'GET, PATCH, DELETE'})
  }
  if (existing === undefined) throw new ProblemError(404, 'resource not found')
  if (method === 'GET') return sendJson(res, 200, existing)
  if (method === 'DELETE') {
    ctx.store.deleteResource(id)
    return sendNoContent(res)
  }
  const body = await readJsonObject(req)
  const r = applyResourceFields(ctx, existing, body, false)
  r.updated_at = now()
  saveResource(ctx, r, false, existing.slug)
  return sendJson(res, 200, ctx.store.resourceById(id))
}

// --- clients ----------------------------------------------------------------------------------

function clientInvalid(detail: string): ProblemError {
  return bad(CLIENT_INVALID + detail)
}

interface ClientFields {
  name: string
  redirect_uris: string[]
  grant_types: string[]
  scope: string
}

function validateClientFields(f: {name: unknown; redirect_uris: unknown; grant_types: unknown; scope: unknown}): ClientFields {
  if (typeof f.name !== 'string' || f.name.trim() === '') throw clientInvalid('client_name is required')
  if ([...f.name].length > 255) throw clientInvalid('client_name must be at most 255 characters')
  let grants: string[]
  if (f.grant_types === undefined || f.grant_types === null) grants = []
  else if (!Array.isArray(f.grant_types) || f.grant_types.some((g) => typeof g !== 'string')) throw clientInvalid('grant_types must be an array of strings')
  else grants = [...new Set(f.grant_types as string[])]
  if (grants.length === 0) grants = ['authorization_code', 'refresh_token']
  for (const g of grants) if (!GRANT_TYPES.has(g)) throw clientInvalid(`unsupported grant_type "${g}"`)
  let uris: string[]
  if (f.redirect_uris === undefined || f.redirect_uris === null) uris = []
  else if (!Array.isArray(f.redirect_uris) || f.redirect_uris.some((u) => typeof u !== 'string')) throw clientInvalid('redirect_uris must be an array of strings')
  else uris = f.redirect_uris as string[]
  for (const u of uris) {
    try {
      new URL(u)
    } catch {
      throw clientInvalid(`redirect_uri "${u}" is not an absolute URI`)
    }
  }
  if (uris.length === 0 && (grants.includes('authorization_code') || grants.includes('refresh_token'))) {
    throw clientInvalid('redirect_uris is required for the authorization_code and refresh_token grants')
  }
  if (f.scope !== undefined && f.scope !== null && typeof f.scope !== 'string') throw clientInvalid('scope must be a space-separated string')
  const scope = [...new Set(((f.scope as string | undefined | null) ?? '').split(/\s+/).filter((s) => s !== ''))].join(' ')
  return {name: f.name, redirect_uris: uris, grant_types: grants, scope}
}

function responseTypes(grants: string[]): string[] {
  return grants.includes('authorization_code') ? ['code'] : []
}

/** Read view: `id`/`name`, unlike the create response's `client_id`/`client_name` (a real-server quirk). */
function clientView(c: Client): Json {
  return {
    id: c.id, name: c.name, redirect_uris: c.redirect_uris, grant_types: c.grant_types, response_types: c.response_types,
    token_endpoint_auth_method: c.token_endpoint_auth_method, scope: c.scope, status: c.status,
    registration_source: c.registration_source, agent: c.agent, agent_description: c.agent_description,
    issued_at: c.issued_at, updated_at: c.updated_at,
  }
}

function createClient(ctx: ServerContext, body: Json): Json {
  const f = validateClientFields({name: body.client_name, redirect_uris: body.redirect_uris, grant_types: body.grant_types, scope: body.scope})
  const method = body.token_endpoint_auth_method ?? 'none'
  if (typeof method !== 'string' || !AUTH_METHODS.has(method as AuthMethod)) {
    throw clientInvalid(`unsupported token_endpoint_auth_method "${String(method)}"`)
  }
  if (body.agent !== undefined && typeof body.agent !== 'boolean') throw clientInvalid('agent must be a boolean')
  if (body.agent_description !== undefined && typeof body.agent_description !== 'string') throw clientInvalid('agent_description must be a string')
  const secret = method === 'none' ? undefined : newClientSecret()
  const t = now()
  const c: Client = {
    id: randomId(), name: f.name, secret_hash: secret === undefined ? null : ctx.hasher.hash(secret),
    redirect_uris: f.redirect_uris, grant_types: f.grant_types, response_types: responseTypes(f.grant_types),
    token_endpoint_auth_method: method as AuthMethod, scope: f.scope, status: 'active', registration_source: 'admin',
    agent: (body.agent as boolean | undefined) ?? false, agent_description: (body.agent_description as string | undefined) ?? '',
    issued_at: t, updated_at: t,
  }
  ctx.store.insertClient(c)
  const out: Json = {client_id: c.id}
  // Shown exactly once: only a hash is stored, so it can never be read back (rotate instead).
  if (secret !== undefined) out.client_secret = secret
  Object.assign(out, {
    client_name: c.name, redirect_uris: c.redirect_uris, grant_types: c.grant_types, response_types: c.response_types,
    token_endpoint_auth_method: c.token_endpoint_auth_method, scope: c.scope, status: c.status,
    registration_source: c.registration_source, agent: c.agent, agent_description: c.agent_description, issued_at: c.issued_at,
  })
  return out
}

async function clients(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, action: string | undefined, q: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET'
  if (id === undefined) {
    if (method === 'GET') {
      const status = q.get('status')
      if (status !== null && status !== '' && !CLIENT_STATUSES.has(status as ClientStatus)) throw bad('status must be one of active, suspended, revoked')
      const limit = intParam(q, 'limit', 50, 1, 500)
      const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER)
      return sendJson(res, 200, ctx.store.listClients(limit, offset, status === null || status === '' ? undefined : status).map(clientView))
    }
    if (method === 'POST') return sendJson(res, 201, createClient(ctx, await readJsonObject(req)))
    throw new ProblemError(405, `method ${method} not allowed`, {Allow: 'GET, POST'})
  }

  if (action === 'rotate-secret') {
    if (method !== 'POST') throw new ProblemError(405, `method ${method} not allowed`, {Allow: 'POST'})
    const c = ctx.store.clientById(id)
    if (c === undefined) throw new ProblemError(404, 'client not found')
    if (c.token_endpoint_auth_method === 'none') throw bad('client has no secret to rotate (token_endpoint_auth_method is "none")')
    const secret = newClientSecret()
    ctx.store.setClientSecret(id, ctx.hasher.hash(secret), now())
    return sendJson(res, 200, {client_id: id, client_secret: secret})
  }
  if (action === 'suspend' || action === 'revoke' || action === 'reactivate') {
    if (method !== 'PATCH') throw new ProblemError(405, `method ${method} not allowed`, {Allow: 'PATCH'})
    if (!ctx.store.clientExists(id)) throw new ProblemError(404, 'client not found')
    const status: ClientStatus = action === 'suspend' ? 'suspended' : action === 'revoke' ? 'revoked' : 'active'
    ctx.store.setClientStatus(id, status, now())
    return sendJson(res, 200, {status})
  }
  if (action !== undefined) throw new ProblemError(404, 'not found')

  if (method === 'GET') {
    const c = ctx.store.clientById(id)
    if (c === undefined) throw new ProblemError(404, 'client not found')
    return sendJson(res, 200, clientView(c))
  }
  if (method === 'PATCH') {
    const body = await readJsonObject(req)
    const c = ctx.store.clientById(id)
    // The real server answers an unknown id on PATCH with 400, not 404 (its update path
    // validates before looking up); clients of the API rely on the status, so it is kept.
    if (c === undefined) throw clientInvalid('client not found')
    const f = validateClientFields({
      name: body.client_name ?? c.name,
      redirect_uris: body.redirect_uris ?? c.redirect_uris,
      grant_types: body.grant_types ?? c.grant_types,
      scope: body.scope ?? c.scope,
    })
    const updated: Client = {...c, ...f, response_types: responseTypes(f.grant_types), updated_at: now()}
    ctx.store.updateClient(updated)
    return sendJson(res, 200, clientView(updated))
  }
  if (method === 'DELETE') {
    if (!ctx.store.clientExists(id)) throw new ProblemError(404, 'client not found')
    const force = q.get('force') === 'true'
    const live = ctx.store.liveTokenCount(id, Math.floor(Date.now() / 1000))
    if (live > 0 && !force) {
      throw new ProblemError(409, `client has ${live} live access token${live === 1 ? '' : 's'}; revoke them, wait for them to expire, or delete with ?force=true`)
    }
    ctx.store.deleteClient(id)
    return sendNoContent(res)
  }
  throw new ProblemError(405, `method ${method} not allowed`, {Allow: 'GET, PATCH, DELETE'})
}

// --- routing ----------------------------------------------------------------------------------

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin.invalid')
  const segs = url.pathname.split('/').slice(1)
  if (segs[0] !== 'admin') throw new ProblemError(404, 'not found')
  if (!checkAdminKey(ctx, req, res)) return
  const [, collection, rawId, action, ...rest] = segs
  if (rest.length > 0 || rawId === '' || action === '') throw new ProblemError(404, 'not found')
  const id = rawId === undefined ? undefined : decodeURIComponent(rawId)
  if (collection === 'resources' && action === undefined) return resources(ctx, req, res, id, url.searchParams)
  if (collection === 'clients') return clients(ctx, req, res, id, action, url.searchParams)
  if (collection === 'users' || collection === 'grants') return userAdmin(ctx, req, res, collection, id, action, url.searchParams)
  throw new ProblemError(404, 'not found')
}

export function adminHandler(ctx: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(ctx, req, res).catch((err: unknown) => {
      if (err instanceof ProblemError) return sendProblem(res, err.status, err.detail, err.headers)
      if (err instanceof URIError) return sendProblem(res, 404, 'not found')
      // Details of unexpected failures stay in the log; the caller only learns it was our fault.
      console.error('[authserver] admin request failed:', err)
      sendProblem(res, 500, 'internal error')
    })
  }
}
