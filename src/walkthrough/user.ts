import {randomBytes} from 'node:crypto'

import type {UserRole, UserView} from '../admin/client.js'
import {ENV} from '../config/settings.js'
import {InputError, RejectedError} from '../errors.js'
import type {WalkthroughContext} from './context.js'
import {adminClient} from './resource.js'

// Local users of the authorization server, for interactive MCP clients (login and consent pages).
// Managed through the admin API, so this works against the embedded stack and the real server alike.

/** Where a new user's password comes from: the environment, else generated. */
export const USER_PASSWORD_ENV = ENV.userPassword

const EMAIL_RE = /^[^\s@]+@[^\s@]+$/

export interface UserPassword {
  password: string
  /** True when ap-demo made it up: then it must be shown once, since nothing else keeps it. */
  generated: boolean
}

/** `AP_DEMO_USER_PASSWORD` (from the environment or ./.env), else 18 random bytes (24 base64url characters). */
export function userPassword(lookup: (name: string) => string | undefined): UserPassword {
  const given = lookup(USER_PASSWORD_ENV)
  if (given !== undefined && given !== '') {
    // bcrypt, which the server uses, reads at most 72 bytes; the real server refuses more.
    if (Buffer.byteLength(given, 'utf8') > 72) throw new InputError('password_too_long', `${USER_PASSWORD_ENV} is longer than 72 bytes`, {hint: 'bcrypt reads at most 72 bytes; choose a shorter password.'})
    return {password: given, generated: false}
  }
  return {password: randomBytes(18).toString('base64url'), generated: true}
}

export function checkEmail(email: string, where: string): string {
  const e = email.trim()
  if (!EMAIL_RE.test(e)) throw new InputError('bad_email', `${where} "${email}" is not an email address`, {hint: 'Example: you@example.com'})
  return e
}

export interface EnsureUserResult {
  action: 'created' | 'kept'
  user: UserView
  /** Only for a user created with a generated password. */
  password?: string
}

/**
 * Creates the user unless one with this email exists (emails are unique, case-insensitively),
 * which is kept as it is: its password is never changed or read.
 */
export async function ensureUser(ctx: WalkthroughContext, spec: {email: string; name?: string; role?: UserRole}, password: UserPassword): Promise<EnsureUserResult> {
  const admin = adminClient(ctx)
  const existing = await admin.findUserByEmail(spec.email)
  if (existing) return {action: 'kept', user: existing}
  const user = await admin.createUser({email: spec.email, password: password.password, name: spec.name, role: spec.role})
  return {action: 'created', user, password: password.generated ? password.password : undefined}
}

async function userByEmail(ctx: WalkthroughContext, email: string): Promise<UserView> {
  const user = await adminClient(ctx).findUserByEmail(email)
  if (!user) {
    throw new RejectedError('user_not_found', `no user with email ${email} on ${ctx.adminUrl}`, {
      hint: 'List them with: ap-demo setup user --list',
      details: {email, adminUrl: ctx.adminUrl},
    })
  }
  return user
}

/** Disables or enables the user; already in that state is not an error (`changed` says). */
export async function setUserEnabled(ctx: WalkthroughContext, email: string, enabled: boolean): Promise<{user: UserView; changed: boolean}> {
  const user = await userByEmail(ctx, email)
  const wanted = enabled ? 'active' : 'disabled'
  if (user.status === wanted) return {user, changed: false}
  const status = await adminClient(ctx).setUserEnabled(user.id, enabled)
  return {user: {...user, status: status || wanted}, changed: true}
}

/** Deletes the user; with `force`, also when it still holds tokens (they are revoked). */
export async function removeUser(ctx: WalkthroughContext, email: string, force: boolean): Promise<UserView> {
  const user = await userByEmail(ctx, email)
  await adminClient(ctx).deleteUser(user.id, force)
  return user
}

export async function listUsers(ctx: WalkthroughContext): Promise<UserView[]> {
  return adminClient(ctx).listUsers()
}
