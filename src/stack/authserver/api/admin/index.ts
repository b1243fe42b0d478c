// The admin port (api/admin/ of the real server): Go-ServeMux-like routing, the admin-key check
// (constant time, 401 JSON), its optional rate limit, and problem+json errors.
import {createHash, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {DCR_MODES, type DcrMode} from '../../domain/client.js'
import {clientIp} from '../../http/request.js'
import {methodMatches, ProblemError, sendGoMethodNotAllowed, sendGoNotFound, sendJson, sendProblem} from '../../http/respond.js'
import type {ServerContext} from '../../services/context.js'
import {clients, TRANSITIONS} from './clients.js'
import {bad, decodeClientBody, readJsonObject, type Route} from './common.js'
import {policyRoute} from './policy.js'
import {resources} from './resources.js'
import {userAdminRoute} from './users.js'

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


// --- routing ----------------------------------------------------------------------------------

// The real server registers one Go ServeMux pattern per method and path, each wrapped in the
// admin-key middleware: an unknown path or method is answered by the mux itself (plain text,
// before any key check), a known one checks the key first.
const MAX_PATH_PARAM = 256

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
