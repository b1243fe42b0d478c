import chalk from 'chalk'

import type {UserView} from '../../admin/client.js'
import {terminalSafe} from '../../terminal-text.js'

export interface SetupUserResult {
  action: 'created' | 'kept' | 'disabled' | 'enabled' | 'unchanged' | 'deleted' | 'listed'
  profile: string
  users: UserView[]
  /** A generated password, shown once (it is kept nowhere else); null otherwise. */
  password: string | null
  /** Where the password of a created user came from. */
  passwordSource: 'env AP_DEMO_USER_PASSWORD' | 'generated' | null
}

const check = () => chalk.green('✔')

function userLine(u: UserView): string {
  return `${u.email}  ${u.status}  ${u.role}${u.name ? `  ${u.name}` : ''}  (id ${u.id})`
}

export function renderUser(r: SetupUserResult): string[] {
  r = terminalSafe(r)
  if (r.action === 'listed') return r.users.length === 0 ? ['no users'] : r.users.map(userLine)
  const u = r.users[0]!
  const verb = {created: 'created', kept: 'already exists, kept (password unchanged)', disabled: 'disabled', enabled: 'enabled', unchanged: `already ${u.status}`, deleted: 'deleted'}[r.action]
  const lines = [`${check()} user ${chalk.bold(u.email)} ${verb}`, `  id       ${u.id}`, `  status   ${u.status}`, `  role     ${u.role}`]
  if (r.password !== null) lines.push(`  password ${r.password}  ${chalk.dim('(generated; shown only now)')}`)
  else if (r.passwordSource !== null) lines.push(`  password from ${r.passwordSource}`)
  return lines
}

/** The stack up banner's line for --user. */
export function renderStackUser(user: {email: string; created: boolean; password: string | null; passwordSource: string}): string {
  user = terminalSafe(user)
  if (!user.created) return `  user       ${user.email} (exists; password unchanged)`
  return user.password !== null ? `  user       ${user.email}, password ${user.password}  ${chalk.dim('(generated; shown only now)')}` : `  user       ${user.email}, password from ${user.passwordSource}`
}
