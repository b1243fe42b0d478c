// /admin/resources (api/admin/resources.go, internal/services/resource_admin.go of the real
// server): create, list, look up by slug, get, patch and delete, with its rules and messages.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {goQuote} from '../../domain/client.js'
import {SCOPE_TOKEN_RE, SLUG_RE, uriProblem, type BackendKind, type Policy, type Resource, type ScopeDef} from '../../domain/resource.js'
import {ProblemError, sendJson, sendNoContent} from '../../http/respond.js'
import {randomId} from '../../store/secrets.js'
import type {ServerContext} from '../../services/context.js'
import {bad, intParam, now, readJsonObject, stringArray, type Json} from './common.js'

const RESOURCE_KEYS = new Set(['slug', 'uri', 'backend_kind', 'broker_provider_id', 'display_name', 'scopes', 'policy'])
const SCOPE_KEYS = new Set(['name', 'description', 'upstream'])


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

export async function resources(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, q: URLSearchParams): Promise<void> {
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

