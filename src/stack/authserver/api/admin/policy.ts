// The per-field policy endpoints of the admin API (api/admin/resources_policy.go and
// ResourceAdminService's Add/Remove/List methods), under /admin/resources/{slug}/policy/...:
// idempotent add/remove/list of `policy.exchange.allowed_client_ids` and
// `policy.runtime.client_ids`, and the broker-only `policy.connect.allowed_return_urls`
// (every resource here is a Mint resource, so those answer the real server's 400).
import type {IncomingMessage, ServerResponse} from 'node:http'
import {goQuote} from '../../domain/client.js'
import type {Resource} from '../../domain/resource.js'
import {readGoJson} from '../../http/body.js'
import {ProblemError, sendJson} from '../../http/respond.js'
import type {ServerContext} from '../../services/context.js'

const POLICY_BODY_LIMIT = 16 * 1024

type ListKind = 'exchange' | 'runtime'
const LISTS: Record<string, {kind: ListKind; field: string; member: string}> = {
  'exchange/allowed-clients': {kind: 'exchange', field: 'policy.exchange.allowed_client_ids', member: 'allowed_client_ids'},
  'runtime/client-ids': {kind: 'runtime', field: 'policy.runtime.client_ids', member: 'client_ids'},
}

export interface PolicyRoute {
  methods: string[]
  handle: (ctx: ServerContext, req: IncomingMessage, res: ServerResponse) => Promise<void>
}

function bad(detail: string): ProblemError {
  return new ProblemError(400, detail)
}

function bySlug(ctx: ServerContext, slug: string): Resource {
  const r = ctx.store.resourceBySlug(slug)
  if (r === undefined) throw new ProblemError(404, 'resource not found')
  return r
}

function listOf(r: Resource, kind: ListKind): string[] {
  return kind === 'exchange' ? r.policy.exchange.allowed_client_ids : r.policy.runtime.client_ids
}

/** Only `client_id` is accepted (DisallowUnknownFields); Go's messages for anything else. */
async function clientIdFrom(req: IncomingMessage): Promise<string> {
  const body = (await readGoJson(req, POLICY_BODY_LIMIT)) ?? {}
  for (const k of Object.keys(body)) if (k !== 'client_id') throw bad(`invalid JSON body: json: unknown field ${goQuote(k)}`)
  const v = body.client_id
  if (v !== undefined && v !== null && typeof v !== 'string') throw bad('invalid JSON body: json: cannot unmarshal into Go struct field .client_id of type string')
  return (v as string | undefined) ?? ''
}

function save(ctx: ServerContext, r: Resource, kind: ListKind, ids: string[]): void {
  const updated: Resource = {...r, policy: {...r.policy}, updated_at: new Date().toISOString()}
  if (kind === 'exchange') updated.policy.exchange = {allowed_client_ids: ids}
  else updated.policy.runtime = {client_ids: ids}
  ctx.store.saveResource(updated, false)
}

function listRoute(slug: string, list: {kind: ListKind; field: string; member: string}, clientId: string | undefined): PolicyRoute | undefined {
  if (clientId === undefined) {
    return {
      methods: ['GET', 'POST'],
      handle: async (ctx, req, res) => {
        if (req.method === 'POST') {
          const id = await clientIdFrom(req)
          if (id === '') throw bad('client_id is required')
          // The client must exist before the policy changes (checked before the resource).
          if (!ctx.store.clientExists(id)) throw bad(`client_id ${goQuote(id)} does not exist`)
          const r = bySlug(ctx, slug)
          const ids = listOf(r, list.kind)
          if (!ids.includes(id)) save(ctx, r, list.kind, [...ids, id])
          return sendJson(res, 200, {[list.member]: listOf(bySlug(ctx, slug), list.kind)})
        }
        return sendJson(res, 200, {[list.member]: listOf(bySlug(ctx, slug), list.kind)})
      },
    }
  }
  return {
    methods: ['DELETE'],
    handle: async (ctx, _req, res) => {
      if (clientId.length > 256) throw bad('client_id too long')
      const r = bySlug(ctx, slug)
      const ids = listOf(r, list.kind)
      if (ids.includes(clientId)) save(ctx, r, list.kind, ids.filter((x) => x !== clientId))
      return sendJson(res, 200, {[list.member]: listOf(bySlug(ctx, slug), list.kind)})
    },
  }
}

function returnUrlProblem(url: string): string | undefined {
  if (url === '') return 'url is required'
  if (/^https?:\/\/(localhost|127\.0\.0\.1):/.test(url)) return undefined
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)
  if (scheme === null) return 'url must be absolute (include scheme + host)'
  if (scheme[1] !== 'http' && scheme[1] !== 'https') return `url scheme must be http or https, got ${goQuote(scheme[1]!)}`
  if (!/^[a-z]+:\/\/[^/?#]/.test(url)) return 'url must include a host'
  return undefined
}

const MINT_ONLY = 'connect policy is not applicable to mint resources'

function returnUrlRoute(slug: string): PolicyRoute {
  return {
    methods: ['DELETE', 'GET', 'POST'],
    handle: async (ctx, req, res) => {
      if (req.method === 'POST') {
        const body = (await readGoJson(req, POLICY_BODY_LIMIT)) ?? {}
        for (const k of Object.keys(body)) if (k !== 'url') throw bad(`invalid JSON body: json: unknown field ${goQuote(k)}`)
        const problem = returnUrlProblem(typeof body.url === 'string' ? body.url : '')
        if (problem !== undefined) throw bad(problem)
      } else if (req.method === 'DELETE') {
        const url = new URL(req.url ?? '/', 'http://admin.invalid').searchParams.get('url') ?? ''
        if (url === '') throw bad('url query parameter is required')
      }
      bySlug(ctx, slug)
      // Every resource of the embedded server is a Mint resource.
      throw bad(MINT_ONLY)
    },
  }
}

/** The route for /admin/resources/{slug}/policy/<rest...>, or undefined when there is none. */
export function policyRoute(slug: string, rest: string[]): PolicyRoute | undefined {
  if (rest.length === 2 && rest.join('/') === 'connect/allowed-return-urls') return returnUrlRoute(slug)
  const list = LISTS[rest.slice(0, 2).join('/')]
  if (list === undefined || rest.length > 3 || rest[2] === '') return undefined
  return listRoute(slug, list, rest[2] === undefined ? undefined : decodeURIComponent(rest[2]))
}
