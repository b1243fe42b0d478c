import chalk from 'chalk'

import type {ResourceRecord} from '../../config/store.js'
import type {Removed} from '../../walkthrough/clean.js'
import type {VerifyReport} from '../../walkthrough/verify-failed.js'

export interface SetupResourceResult {
  action: 'created' | 'exists'
  profile: string
  resource: ResourceRecord
  /** Whether it is now the profile's current resource (else only remembered, for another server). */
  current: boolean
  /** What the profile's commands work with afterwards, without flags. */
  walkthrough: {resource: string | null; audience: string | null; mcpUrl: string}
}

export interface SetupClientResult {
  action: 'created' | 'reused' | 'rotated'
  reason: string | null
  profile: string
  client: {id: string; name: string; scope: string; authMethod: string; createdAt: string}
  secret: string | {stored: true; store: string; profile: string}
}

export interface SetupResult {
  profile: string
  /** True when the user chose Quit: nothing was changed. */
  quit?: true
  resource?: unknown
  client?: {id: string; name: string; scope: string; action: string}
  secret?: {stored: true; store: string; profile: string}
  verify?: VerifyReport | null
  backgroundStack?: {pid: number; logFile: string; args: string[]} | null
  replay?: string[]
}

export interface CleanResult {
  profile: string
  removed: Removed[]
}

const check = () => chalk.green('✔')

export function renderResource(r: SetupResourceResult): string[] {
  const res = r.resource
  return [
    `${check()} resource ${chalk.bold(res.slug)} ${r.action === 'created' ? 'created' : 'already registered (409), reused'}`,
    `  id     ${res.id}`,
    `  uri    ${res.uri}`,
    `  scopes ${res.scopes.map((s) => s.name).join(' ')}`,
    ...(r.current
      ? [`  saved  profile "${r.profile}": its current resource${r.walkthrough.mcpUrl ? `, MCP server ${r.walkthrough.mcpUrl}` : ''}`]
      : [
          `  saved  profile "${r.profile}", not as its current resource: it still works with ${r.walkthrough.resource ? `${r.walkthrough.resource} (${r.walkthrough.audience})` : r.walkthrough.audience ?? 'its own'} at ${r.walkthrough.mcpUrl}`,
          chalk.dim(`  use it once: ap-demo mcp call <tool> --mcp-url ${res.uri} (the audience follows --mcp-url); or make it current: ap-demo setup resource --slug ${res.slug} --uri ${res.uri} --use`),
        ]),
  ]
}

export function renderClient(r: SetupClientResult): string[] {
  const verb = {created: 'created', reused: 'reused (still on the server)', rotated: 'secret rotated'}[r.action]
  return [
    `${check()} client ${chalk.bold(r.client.name)} ${verb}`,
    `  client_id ${r.client.id}`,
    `  scope     ${r.client.scope}`,
    `  auth      ${r.client.authMethod}`,
    `  secret    ${typeof r.secret === 'string' ? r.secret : `saved in ${r.secret.store} (profile "${r.profile}"); --show-secret prints it`}`,
  ]
}

export function renderClean(r: CleanResult): string[] {
  if (r.removed.length === 0) return [`nothing to clean in profile "${r.profile}"`]
  return r.removed.map((item) => `${check()} ${item.what} ${item.id} ${item.result}`)
}
