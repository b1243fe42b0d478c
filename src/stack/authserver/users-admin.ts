import type {IncomingMessage, ServerResponse} from 'node:http'
import {bad, intParam, now, readJsonObject} from './admin.js'
import type {ServerContext} from './context.js'
import {revokeFamily} from './grants.js'
import {ProblemError, sendJson, sendNoContent} from './http.js'
import {hashPassword, MAX_PASSWORD_BYTES, passwordTooLong} from './passwords.js'
import {randomId} from './secrets.js'
import type {ConsentGrant, TokenFamily, User, UserRole} from './user-store.js'

// The admin API's users and grants, as the real server has them: /admin/users (list, create, get,
// patch, delete, disable/enable, tokens, force logout, grants) and /admin/grants/{consent|broker}/{id}.
// Error details are its wrapped Go errors' texts ("get user: user not found").

type Json = Record<string, unknown>

const USER_EXISTS = 'user with this email already exists'

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

function notAllowed(method: string, allow: string): ProblemError {
  return new ProblemError(405, `method ${method} not allowed`, {Allow: allow})
}

/** A string field of a JSON body; a wrong type is what Go's decoder calls an invalid body. */
function optionalString(body: Json, field: string): string | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw bad('invalid JSON body')
  return v
}

export interface NewUser {
  email: string
  name?: string
  password: string
  role?: UserRole
}

/** Creates a local user; throws ProblemError 400/409 like POST /admin/users. */
export async function createUser(ctx: ServerContext, n: NewUser): Promise<User> {
  if (n.email === '' || n.password === '') throw bad('email and password are required')
  // Go's bcrypt refuses more than 72 bytes instead of silently ignoring the rest.
  if (passwordTooLong(n.password)) throw bad(`password must be at most ${MAX_PASSWORD_BYTES} bytes`)
  const t = now()
  const user: User = {
    id: randomId(), email: n.email, name: n.name ?? '', password_hash: await hashPassword(n.password), role: n.role ?? 'user',
    status: 'active', provider: 'local', created_at: t, updated_at: t,
  }
  if (!ctx.users.insertUser(user)) throw new ProblemError(409, `create user: ${USER_EXISTS}`)
  return user
}

/** Revokes every active family of the user (and the access tokens they issued); returns how many. */
function forceLogout(ctx: ServerContext, userId: string): number {
  const ids = ctx.users.activeFamilyIdsOfUser(userId)
  for (const id of ids) revokeFamily(ctx, id)
  return ids.length
}

async function users(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, action: string | undefined, q: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET'
  if (id === undefined) {
    if (method === 'GET') return sendJson(res, 200, ctx.users.listUsers().map(userView))
    if (method !== 'POST') throw notAllowed(method, 'GET, POST')
    const body = await readJsonObject(req)
    const user = await createUser(ctx, {
      email: optionalString(body, 'email') ?? '', name: optionalString(body, 'name'), password: optionalString(body, 'password') ?? '',
      // Anything but "admin" makes an ordinary user, as on the real server.
      role: optionalString(body, 'role') === 'admin' ? 'admin' : 'user',
    })
    return sendJson(res, 201, userView(user))
  }
  const user = ctx.users.userById(id)

  if (action === 'disable' || action === 'enable') {
    if (method !== 'PATCH') throw notAllowed(method, 'PATCH')
    if (user === undefined) throw new ProblemError(404, 'get user: user not found')
    const from = user.status
    const to = action === 'disable' ? 'disabled' : 'active'
    // A state machine: disable only from active, enable only from disabled.
    if (from === to) throw new ProblemError(409, `${action}: invalid user state transition from ${from} to ${to}`)
    ctx.users.updateUser({...user, status: to, updated_at: now()})
    return sendJson(res, 200, {status: to})
  }
  if (action === 'tokens') {
    if (user === undefined) throw new ProblemError(404, 'user not found')
    if (method === 'GET') {
      const limit = intParam(q, 'limit', 50, 1, 500)
      const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER)
      const {families, total} = ctx.users.familiesOfUser(id, limit, offset)
      return sendJson(res, 200, {tokens: families.map(tokenView), total})
    }
    if (method === 'DELETE') return sendJson(res, 200, {user_id: id, tokens_revoked: forceLogout(ctx, id)})
    throw notAllowed(method, 'GET, DELETE')
  }
  if (action === 'grants') {
    if (method !== 'GET') throw notAllowed(method, 'GET')
    if (user === undefined) throw new ProblemError(404, 'user not found')
    return sendJson(res, 200, {consent_grants: ctx.users.grantsOfUser(id).map(consentGrantView), broker_grants: []})
  }
  if (action !== undefined) throw new ProblemError(404, 'not found')

  if (method === 'GET') {
    if (user === undefined) throw new ProblemError(404, 'user not found')
    return sendJson(res, 200, userView(user))
  }
  if (method === 'PATCH') {
    const body = await readJsonObject(req)
    if (user === undefined) throw new ProblemError(404, 'user not found')
    const email = optionalString(body, 'email')
    const name = optionalString(body, 'name')
    const updated: User = {...user, email: email ?? user.email, name: name ?? user.name, updated_at: now()}
    if (!ctx.users.updateUser(updated)) throw new ProblemError(409, `update user: ${USER_EXISTS}`)
    return sendJson(res, 200, userView(updated))
  }
  if (method === 'DELETE') {
    if (user === undefined) throw new ProblemError(404, 'user not found')
    const live = ctx.users.activeFamilyIdsOfUser(id).length
    if (live > 0 && q.get('force') !== 'true') throw new ProblemError(409, 'user has active tokens — use force=true to revoke and delete')
    ctx.users.transaction(() => {
      forceLogout(ctx, id)
      ctx.users.deleteUser(id)
    })
    return sendNoContent(res)
  }
  throw notAllowed(method, 'GET, PATCH, DELETE')
}

async function grants(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, kind: string | undefined, id: string | undefined): Promise<void> {
  if (kind === undefined || id === undefined || (kind !== 'consent' && kind !== 'broker')) throw new ProblemError(404, 'not found')
  const method = req.method ?? 'GET'
  if (method !== 'DELETE') throw notAllowed(method, 'DELETE')
  // The embedded server brokers no upstream credentials, so there is never a broker grant.
  if (kind === 'broker') throw new ProblemError(404, 'broker grant not found')
  const grant = ctx.users.grantById(id)
  if (grant === undefined) throw new ProblemError(404, 'consent grant not found')
  // Revoking consent also ends what it authorized: the families issued under it, and their tokens.
  ctx.users.transaction(() => {
    for (const familyId of ctx.users.activeFamilyIdsOfGrant(grant)) revokeFamily(ctx, familyId)
    ctx.users.revokeGrant(id, now())
  })
  return sendNoContent(res)
}

/** Routes /admin/users[/{id}[/{action}]] and /admin/grants/{kind}/{id}; the admin key is already checked. */
export function userAdmin(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, collection: 'users' | 'grants', id: string | undefined, action: string | undefined, q: URLSearchParams): Promise<void> {
  const decoded = action === undefined ? undefined : decodeURIComponent(action)
  return collection === 'users' ? users(ctx, req, res, id, decoded, q) : grants(ctx, req, res, id, decoded)
}
