import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ConsentGrant, TokenFamily, User} from '../../domain/user.js'
import {ProblemError, sendJson, sendNoContent} from '../../http/respond.js'
import type {ServerContext} from '../../services/context.js'
import {createUser, deleteUser, forceLogout, revokeConsentGrant as revokeGrant, USER_EXISTS} from '../../services/users.js'
import {decodeClientBody, now, readJsonObject, type Route} from './common.js'

// The admin API's users and grants, as the real server has them: /admin/users (list, create, get,
// patch, delete, disable/enable, tokens, force logout, grants) and /admin/grants/{consent|broker}/{id}.
// Error details are its wrapped Go errors' texts ("get user: user not found").

type Json = Record<string, unknown>

/** The read view: never the password hash. */
export function userView(u: User): Json {
  return {id: u.id, email: u.email, name: u.name, role: u.role, status: u.status, provider: u.provider, created_at: u.created_at}
}

function consentGrantView(g: ConsentGrant): Json {
  const view: Json = {id: g.id, user_id: g.user_id, client_id: g.client_id, resource_id: g.resource_id, scopes: g.scopes, created_at: g.created_at, updated_at: g.updated_at}
  if (g.revoked_at !== null) view.revoked_at = g.revoked_at
  return view
}

function tokenView(f: TokenFamily): Json {
  return {jti: f.id, type: 'authorization_code', client_id: f.client_id, user_id: f.user_id, scope: f.scope, resource: f.resource, status: f.status, created_at: f.created_at}
}

const CREATE_FIELDS = {email: 'string', name: 'string', password: 'string', role: 'string'} as const
const PATCH_FIELDS = {email: 'string', name: 'string'} as const

async function createUserRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Go's decoder: unknown fields ignored, a wrongly typed one is an invalid body.
  const f = decodeClientBody(await readJsonObject(req), {...CREATE_FIELDS}) as Partial<Record<keyof typeof CREATE_FIELDS, string>>
  const user = await createUser(ctx, {
    email: f.email ?? '', name: f.name, password: f.password ?? '',
    // Anything but "admin" makes an ordinary user, as on the real server.
    role: f.role === 'admin' ? 'admin' : 'user',
  })
  return sendJson(res, 201, userView(user))
}

function existing(ctx: ServerContext, id: string | undefined, detail = 'user not found'): User {
  const user = id === undefined ? undefined : ctx.users.userById(id)
  if (user === undefined) throw new ProblemError(404, detail)
  return user
}

async function userRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, q: URLSearchParams): Promise<void> {
  if (req.method === 'PATCH') {
    const f = decodeClientBody(await readJsonObject(req), {...PATCH_FIELDS}) as Partial<Record<keyof typeof PATCH_FIELDS, string>>
    const user = existing(ctx, id)
    const updated: User = {...user, email: f.email ?? user.email, name: f.name ?? user.name, updated_at: now()}
    if (!ctx.users.updateUser(updated)) throw new ProblemError(409, `update user: ${USER_EXISTS}`)
    return sendJson(res, 200, userView(updated))
  }
  const user = existing(ctx, id)
  if (req.method === 'DELETE') {
    const live = ctx.users.activeFamilyIdsOfUser(user.id).length
    if (live > 0 && q.get('force') !== 'true') throw new ProblemError(409, 'user has active tokens — use force=true to revoke and delete')
    deleteUser(ctx, user.id)
    return sendNoContent(res)
  }
  return sendJson(res, 200, userView(user))
}

/** PATCH /admin/users/{id}/disable|enable: a state machine, disable only from active and back. */
async function transition(ctx: ServerContext, res: ServerResponse, id: string | undefined, action: 'disable' | 'enable'): Promise<void> {
  const user = existing(ctx, id, 'get user: user not found')
  const to = action === 'disable' ? 'disabled' : 'active'
  if (user.status === to) throw new ProblemError(409, `${action}: invalid user state transition from ${user.status} to ${to}`)
  ctx.users.updateUser({...user, status: to, updated_at: now()})
  return sendJson(res, 200, {status: to})
}

async function tokens(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, q: URLSearchParams): Promise<void> {
  const user = existing(ctx, id)
  if (req.method === 'DELETE') return sendJson(res, 200, {user_id: user.id, tokens_revoked: forceLogout(ctx, user.id)})
  // Like the real handler: `strconv.Atoi` with its error ignored, and a limit of 0 or less is 50.
  const atoi = (name: string): number => (/^[+-]?\d+$/.test(q.get(name) ?? '') ? Number(q.get(name)) : 0)
  const limit = atoi('limit') > 0 ? atoi('limit') : 50
  const offset = Math.max(0, atoi('offset'))
  const {families, total} = ctx.users.familiesOfUser(user.id, limit, offset)
  return sendJson(res, 200, {tokens: families.map(tokenView), total})
}

async function revokeConsentGrant(ctx: ServerContext, res: ServerResponse, id: string): Promise<void> {
  const grant = ctx.users.grantById(id)
  if (grant === undefined) throw new ProblemError(404, 'consent grant not found')
  revokeGrant(ctx, grant)
  return sendNoContent(res)
}

/**
 * The users and grants routes of the admin API (method lists as the real server registers them),
 * or undefined when the path is not one of them.
 */
export function userAdminRoute(collection: string | undefined, rawId: string | undefined, action: string | undefined): Route | undefined {
  if (collection === 'users') {
    if (rawId === undefined) return {methods: ['GET', 'POST'], handle: (c, req, res) => (req.method === 'POST' ? createUserRoute(c, req, res) : Promise.resolve(sendJson(res, 200, c.users.listUsers().map(userView))))}
    if (action === undefined) return {methods: ['DELETE', 'GET', 'PATCH'], handle: userRoute}
    if (action === 'disable' || action === 'enable') return {methods: ['PATCH'], handle: (c, _req, res, id) => transition(c, res, id, action)}
    if (action === 'tokens') return {methods: ['DELETE', 'GET'], handle: tokens}
    if (action === 'grants') {
      return {methods: ['GET'], handle: async (c, _req, res, id) => sendJson(res, 200, {consent_grants: c.users.grantsOfUser(existing(c, id).id).map(consentGrantView), broker_grants: []})}
    }
  }
  if (collection === 'grants' && action !== undefined && (rawId === 'consent' || rawId === 'broker')) {
    const id = decodeURIComponent(action)
    // The embedded server brokers no upstream credentials, so there is never a broker grant.
    if (rawId === 'broker') return {methods: ['DELETE'], handle: async () => {
      throw new ProblemError(404, 'broker grant not found')
    }}
    return {methods: ['DELETE'], handle: (c, _req, res) => revokeConsentGrant(c, res, id)}
  }
  return undefined
}
