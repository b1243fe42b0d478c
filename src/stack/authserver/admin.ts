import {createHash, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {applyDefaults, ClientValidationError, decodeStruct, GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, goQuote, INVALID_CLIENT_TEXT, JsonShapeError,
  validateClientParams, type ClientParams, type FieldKind} from './client-rules.js'
import type {ServerContext} from './context.js'
import {methodMatches, ProblemError, readGoJson, sendGoMethodNotAllowed, sendGoNotFound, sendJson, sendNoContent, sendProblem} from './http.js'
import {policyRoute} from './admin-policy.js'
import {clientIp} from './ratelimit.js'
import {DCR_MODES, type DcrMode} from './register.js'
import {newClientSecret, randomId} from './secrets.js'
import {userAdminRoute} from './users-admin.js'
import type {AuthMethod, BackendKind, Client, ClientStatus, Policy, Resource, ScopeDef} from './store.js'

const ADMIN_BODY_LIMIT = 1024 * 1024
const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,63}$/
const RESOURCE_KEYS = new Set(['slug', 'uri', 'backend_kind', 'broker_provider_id', 'display_name', 'scopes', 'policy'])
const SCOPE_KEYS = new Set(['name', 'description', 'upstream'])
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), for resource scopes and client ceilings alike.
const SCOPE_TOKEN_RE = /^[\x21\x23-\x5B\x5D-\x7E]+$/

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

export function readJsonObject(req: IncomingMessage): Promise<Json | null> {
  return readGoJson(req, ADMIN_BODY_LIMIT)
}

/** A strict integer query parameter (Go's strconv.Atoi: optional sign, digits), else `message`. */
function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number, message: string): number {
  const raw = q.get(name)
  if (raw === null || raw === '') return def
  if (!/^[+-]?\d+$/.test(raw)) throw bad(message)
  const n = Number(raw)
  if (n < min || n > max) throw bad(message)
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

function parseSlug(v: string): string {
  const slug = v.toLowerCase()
  if (!SLUG_RE.test(slug)) throw bad('invalid slug')
  return slug
}

/** Go's json type error for a request struct field, as the real handler reports it. */
function wrongType(field: string, v: unknown, want: string, creating: boolean): ProblemError {
  const got = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v
  return bad(`invalid JSON body: json: cannot unmarshal ${got} into Go struct field ${creating ? 'createResourceRequest' : 'patchResourceRequest'}.${field} of type ${want}`)
}

/**
 * The real resource rules (internal/domain/resource/resource.go), with its messages. An empty
 * uri is allowed, as there (the slug is the identifier). On top of them, RFC 8707 §2: a resource
 * indicator has no fragment, and (issue 10) no userinfo.
 */
function uriProblem(uri: string): string | undefined {
  if (uri === '') return undefined
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)
  if (scheme === null) return 'uri must be absolute (include scheme + host)'
  const s = scheme[1]!.toLowerCase()
  if (s !== 'http' && s !== 'https') return `uri scheme must be http or https, got ${goQuote(scheme[1]!)}`
  if (!isHttpUrl(uri)) return 'uri must include a host'
  if (uri.includes('#')) return 'uri must not contain a fragment (RFC 8707 section 2)'
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(uri)) return 'uri must not contain userinfo (RFC 8707 section 2)'
  return undefined
}

function parseScopes(v: unknown, creating: boolean): ScopeDef[] {
  if (!Array.isArray(v)) throw wrongType('scopes', v, `[]dto.ScopeView`, creating)
  const seen = new Set<string>()
  return v.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw wrongType(`scopes`, item, 'dto.ScopeView', creating)
    const o = item as Json
    for (const k of Object.keys(o)) if (!SCOPE_KEYS.has(k)) throw bad(`invalid JSON body: json: unknown field ${goQuote(k)}`)
    for (const f of ['name', 'description', 'upstream'] as const) {
      if (o[f] !== undefined && o[f] !== null && typeof o[f] !== 'string') throw wrongType(`scopes.${f}`, o[f], 'string', creating)
    }
    const name = (o.name as string | undefined) ?? ''
    if (name === '') throw bad(`scopes[${i}].name must not be empty`)
    if (seen.has(name)) throw bad(`scopes[${i}].name ${goQuote(name)} duplicates an earlier entry`)
    // RFC 6749 §3.3: the name is used as a scope token in requests, so it must be one.
    if (!SCOPE_TOKEN_RE.test(name)) throw bad(`scopes[${i}].name ${goQuote(name)} is not a valid scope token (RFC 6749 section 3.3)`)
    seen.add(name)
    return {name, description: (o.description as string | undefined) ?? '', upstream: (o.upstream as string | undefined) ?? ''}
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
    for (const id of list) {
      if (id === '') throw bad(`${field} must not contain empty entries`)
      if (!ctx.store.clientExists(id)) throw bad(`client_id ${goQuote(id)} in ${field} does not exist`)
    }
    return [...new Set(list)]
  }
  return {
    exchange: {allowed_client_ids: ids(ex.allowed_client_ids, 'policy.exchange.allowed_client_ids')},
    runtime: {client_ids: ids(rt.client_ids, 'policy.runtime.client_ids')},
  }
}

/** Applies the present fields of `body` onto `base` (a blank resource for create), then validates like the real service. */
function applyResourceFields(ctx: ServerContext, base: Resource, body: Json, creating: boolean): Resource {
  // The real handler decodes with DisallowUnknownFields; Go's error text follows the prefix.
  for (const k of Object.keys(body)) if (!RESOURCE_KEYS.has(k)) throw bad(`invalid JSON body: json: unknown field ${goQuote(k)}`)
  for (const k of ['slug', 'uri', 'backend_kind', 'broker_provider_id', 'display_name'] as const) {
    if (body[k] !== undefined && body[k] !== null && typeof body[k] !== 'string') throw wrongType(k, body[k], 'string', creating)
  }
  const r: Resource = {...base}
  const str = (k: string): string | undefined => (body[k] === undefined || body[k] === null ? undefined : (body[k] as string))
  if (creating || str('slug') !== undefined) r.slug = parseSlug(str('slug') ?? '')
  if (str('uri') !== undefined) r.uri = str('uri')!
  if (str('backend_kind') !== undefined || creating) r.backend_kind = (str('backend_kind') ?? '') as BackendKind
  if (str('broker_provider_id') !== undefined) r.broker_provider_id = str('broker_provider_id')!
  if (str('display_name') !== undefined) r.display_name = str('display_name')!
  if (body.scopes !== undefined && body.scopes !== null) r.scopes = parseScopes(body.scopes, creating)
  if (body.policy !== undefined && body.policy !== null) r.policy = parsePolicy(ctx, body.policy)

  // Resource.Validate's order: slug (above), backend kind and provider, uri, scopes.
  if (r.backend_kind === 'mint') {
    if (r.broker_provider_id !== '') throw bad('mint resource must not reference a broker provider')
  } else if (r.backend_kind === 'broker') {
    if (r.broker_provider_id === '') throw bad('broker resource must reference a broker provider')
  } else {
    throw bad(`backend_kind must be mint or broker, got ${goQuote(r.backend_kind)}`)
  }
  const uri = uriProblem(r.uri)
  if (uri !== undefined) throw bad(uri)
  if (r.backend_kind === 'broker') {
    // A broker resource forwards to an upstream provider registered on the real server. This
    // embedded server has no provider registry, so no provider id can ever be valid.
    throw bad(`broker_provider_id ${goQuote(r.broker_provider_id)} does not exist`)
  }
  for (const s of r.scopes) if (s.upstream !== '') throw bad(`scope ${goQuote(s.name)}: upstream must be empty for a mint resource`)
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
      const slug = q.get('slug') ?? ''
      if (slug !== '') {
        // The lookup is one row; list filters beside it would look like they filter, so they are refused.
        for (const other of ['backend_kind', 'broker_provider_id', 'limit', 'offset']) {
          if ((q.get(other) ?? '') !== '') throw bad(`slug lookup is mutually exclusive with ${other}`)
        }
        const r = ctx.store.resourceBySlug(slug.toLowerCase())
        if (r === undefined) throw new ProblemError(404, 'resource not found')
        return sendJson(res, 200, r)
      }
      const kind = q.get('backend_kind') ?? ''
      if (kind !== '' && kind !== 'mint' && kind !== 'broker') throw bad('backend_kind must be mint or broker')
      const limit = intParam(q, 'limit', 100, 1, 500, 'limit must be 1..500')
      const offset = intParam(q, 'offset', 0, 0, 2 ** 30, 'offset must be a non-negative integer')
      // Mint resources have no provider, and no broker resource can exist here: any provider filter matches nothing.
      if ((q.get('broker_provider_id') ?? '') !== '') return sendJson(res, 200, [])
      return sendJson(res, 200, ctx.store.listResources(limit, offset, kind === '' ? undefined : kind))
    }
    {
      const body = await readJsonObject(req)
      const t = now()
      const blank: Resource = {id: randomId(), slug: '', uri: '', backend_kind: 'mint', broker_provider_id: '', display_name: '', scopes: [],
        policy: {exchange: {allowed_client_ids: []}, runtime: {client_ids: []}}, created_at: t, updated_at: t}
      const r = applyResourceFields(ctx, blank, body ?? {}, true)
      saveResource(ctx, r, true)
      return sendJson(res, 201, r)
    }
  }
  const existing = ctx.store.resourceById(id ?? '')
  if (existing === undefined) throw new ProblemError(404, 'resource not found')
  if (method === 'GET') return sendJson(res, 200, existing)
  if (method === 'DELETE') {
    ctx.store.deleteResource(id)
    return sendNoContent(res)
  }
  const body = (await readJsonObject(req)) ?? {}
  // An empty patch is a read: nothing written, updated_at unchanged (as in the real service).
  if (Object.values(body).every((v) => v === undefined || v === null) && Object.keys(body).every((k) => RESOURCE_KEYS.has(k))) return sendJson(res, 200, existing)
  const r = applyResourceFields(ctx, existing, body, false)
  r.updated_at = now()
  saveResource(ctx, r, false, existing.slug)
  return sendJson(res, 200, ctx.store.resourceById(id))
}

// --- clients ----------------------------------------------------------------------------------

const CLIENT_FIELDS: Record<string, FieldKind> = {
  client_name: 'string', redirect_uris: 'strings', grant_types: 'strings', response_types: 'strings',
  token_endpoint_auth_method: 'string', scope: 'string', agent: 'bool', agent_description: 'string',
}
const CLIENT_PATCH_FIELDS: Record<string, FieldKind> = {client_name: 'string', redirect_uris: 'strings', grant_types: 'strings', scope: 'string'}

/** Go's encoding/json into the handler's request struct: a wrong JSON type is "invalid JSON body". */
export function decodeClientBody(body: Json | null, kinds: Record<string, FieldKind>): Record<string, unknown> {
  try {
    return decodeStruct(body, kinds)
  } catch (err) {
    if (err instanceof JsonShapeError) throw bad('invalid JSON body')
    throw err
  }
}

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
    // Client ID Metadata Document URL: always empty here (the embedded server has no CIMD).
    cimd_url: '', issued_at: c.issued_at, updated_at: c.updated_at,
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
  const tokens = [...new Set(((v as string | undefined) ?? '').split(' ').filter((s) => s !== ''))]
  for (const t of tokens) {
    if (!SCOPE_TOKEN_RE.test(t)) throw bad(`${INVALID_CLIENT_TEXT}: client validation failed: invalid scope token ${goQuote(t)} (RFC 6749 section 3.3)`)
  }
  return tokens.join(' ')
}

/** Lenient integer like Go's strconv.Atoi with the error ignored: anything unparsable is 0. */
function atoi(v: string | null): number {
  if (v === null || !/^[+-]?\d+$/.test(v)) return 0
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : 0
}

const TRANSITIONS: Record<string, {to: ClientStatus; from?: ClientStatus; verb: string}> = {
  suspend: {to: 'suspended', from: 'active', verb: 'suspend'},
  reactivate: {to: 'active', from: 'suspended', verb: 'reactivate'},
  // Revocation is allowed from any state, including revoked.
  revoke: {to: 'revoked', verb: 'revoke'},
}

async function clients(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, action: string | undefined, q: URLSearchParams): Promise<void> {
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

// --- routing ----------------------------------------------------------------------------------

// The real server registers one Go ServeMux pattern per method and path, each wrapped in the
// admin-key middleware: an unknown path or method is answered by the mux itself (plain text,
// before any key check), a known one checks the key first.
const MAX_PATH_PARAM = 256
export type Route = {methods: string[]; handle: (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, q: URLSearchParams) => Promise<void>}

function routeFor(segs: string[]): Route | undefined {
  const [root, collection, rawId, action, ...rest] = segs
  if (root === 'admin' && collection === 'resources' && rawId !== undefined && rawId !== '' && action === 'policy') {
    const p = policyRoute(decodeURIComponent(rawId), rest)
    return p === undefined ? undefined : {methods: p.methods, handle: (c, req, res) => p.handle(c, req, res)}
  }
  if (root !== 'admin' || rest.length > 0 || rawId === '' || action === '') return undefined
  if (collection === 'resources' && action === undefined) {
    return {methods: rawId === undefined ? ['GET', 'POST'] : ['DELETE', 'GET', 'PATCH'], handle: (c, req, res, id, q) => resources(c, req, res, id, q)}
  }
  if (collection === 'clients') {
    if (rawId === undefined) return {methods: ['GET', 'POST'], handle: (c, req, res, _id, q) => clients(c, req, res, undefined, undefined, q)}
    if (action === undefined) return {methods: ['DELETE', 'GET', 'PATCH'], handle: (c, req, res, id, q) => clients(c, req, res, id, undefined, q)}
    if (action === 'rotate-secret') return {methods: ['POST'], handle: (c, req, res, id, q) => clients(c, req, res, id, action, q)}
    if (action in TRANSITIONS) return {methods: ['PATCH'], handle: (c, req, res, id, q) => clients(c, req, res, id, action, q)}
  }
  const users = userAdminRoute(collection, rawId, action)
  if (users !== undefined) return users
  if (collection === 'settings' && rawId === 'dcr' && action === undefined) {
    return {methods: ['GET', 'PATCH'], handle: (c, req, res) => dcrSettings(c, req, res)}
  }
  return undefined
}

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin.invalid')
  const segs = url.pathname.split('/').slice(1)
  const r = routeFor(segs)
  if (r === undefined) return sendGoNotFound(res)
  const method = req.method ?? 'GET'
  if (!methodMatches(method, r.methods)) return sendGoMethodNotAllowed(res, r.methods)
  if (!checkAdminKey(ctx, req, res)) return
  let id: string | undefined
  if (segs[2] !== undefined) {
    id = decodeURIComponent(segs[2])
    // The real handlers bound path parameters (defence in depth) before any lookup.
    if (id.length > MAX_PATH_PARAM) throw bad(`${segs[3] === 'policy' ? 'slug' : 'id'} too long`)
  }
  return r.handle(ctx, req, res, id, url.searchParams)
}

// --- DCR settings -----------------------------------------------------------------------------

async function dcrSettings(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'PATCH') {
    const f = decodeClientBody(await readJsonObject(req), {mode: 'string'})
    const mode = (f.mode as string | undefined) ?? ''
    if (mode === '') throw bad('mode is required')
    if (!(DCR_MODES as readonly string[]).includes(mode)) throw bad('invalid mode: must be open, admin_only, or approved_redirects')
    ctx.dcr.mode = mode as DcrMode
  }
  return sendJson(res, 200, {mode: ctx.dcr.mode})
}

export function adminHandler(ctx: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (ctx.limits.admin !== undefined && !ctx.limits.admin.allow(clientIp(req))) {
      // The admin limiter's own body: plain JSON, not problem+json.
      req.resume()
      return sendJson(res, 429, {error: 'slow_down', error_description: 'rate limit exceeded'}, {'Retry-After': '1'})
    }
    route(ctx, req, res).catch((err: unknown) => {
      if (err instanceof ProblemError) return sendProblem(res, err.status, err.detail, err.headers)
      if (err instanceof URIError) return sendGoNotFound(res)
      // Details of unexpected failures stay in the log; the caller only learns it was our fault.
      console.error('[authserver] admin request failed:', err)
      sendProblem(res, 500, 'internal error')
    })
  }
}
