// Local users (internal/services/user_auth.go and admin.go of the real server): creation with a
// bcrypt hash, force logout, deletion, and withdrawn consent, each ending the tokens it must.
import type {ConsentGrant, User, UserRole} from '../domain/user.js'
import {ProblemError} from '../http/respond.js'
import {randomId} from '../store/secrets.js'
import type {ServerContext} from './context.js'
import {hashPassword, MAX_PASSWORD_BYTES, passwordTooLong} from './passwords.js'
import {revokeFamily} from './user-grants.js'

export const USER_EXISTS = 'user with this email already exists'

export interface NewUser {
  email: string
  name?: string
  password: string
  role?: UserRole
}

/** Creates a local user; throws ProblemError 400/409 like POST /admin/users. */
export async function createUser(ctx: ServerContext, n: NewUser): Promise<User> {
  if (n.email === '' || n.password === '') throw new ProblemError(400, 'email and password are required')
  // Go's bcrypt refuses more than 72 bytes instead of silently ignoring the rest.
  if (passwordTooLong(n.password)) throw new ProblemError(400, `password must be at most ${MAX_PASSWORD_BYTES} bytes`)
  const t = new Date().toISOString()
  const user: User = {
    id: randomId(), email: n.email, name: n.name ?? '', password_hash: await hashPassword(n.password), role: n.role ?? 'user',
    status: 'active', provider: 'local', created_at: t, updated_at: t,
  }
  if (!ctx.users.insertUser(user)) throw new ProblemError(409, `create user: ${USER_EXISTS}`)
  return user
}

/** Revokes every active family of the user (and the access tokens they issued); returns how many. */
export function forceLogout(ctx: ServerContext, userId: string): number {
  const ids = ctx.users.activeFamilyIdsOfUser(userId)
  for (const id of ids) revokeFamily(ctx, id)
  return ids.length
}

/** Deletes the user after revoking every token family it holds. */
export function deleteUser(ctx: ServerContext, userId: string): void {
  ctx.users.transaction(() => {
    forceLogout(ctx, userId)
    ctx.users.deleteUser(userId)
  })
}

/** Withdraws a consent grant; what it authorized ends too: the families issued under it, and their tokens. */
export function revokeConsentGrant(ctx: ServerContext, grant: ConsentGrant): void {
  ctx.users.transaction(() => {
    for (const familyId of ctx.users.activeFamilyIdsOfGrant(grant)) revokeFamily(ctx, familyId)
    ctx.users.revokeGrant(grant.id, new Date().toISOString())
  })
}
