import {AdminApiError, AdminClient} from '../admin/client.js'
import type {ScopeSpec} from '../config/store.js'
import {ApDemoError, ExitCode} from '../errors.js'
import type {WalkthroughContext} from '../walkthrough/context.js'
import {waitForDiscovery} from '../walkthrough/discovery.js'
import {waitForMcpServer} from '../walkthrough/mcp-probe.js'
import {absoluteUrlProblem, normaliseSlug, parseScopeArgument, validateScopes} from '../walkthrough/resource.js'
import {DEFAULT_CLIENT_SCOPE, VERIFY_DEFAULTS} from '../walkthrough/defaults.js'

/** The answers the wizard collects before it changes anything. */
export interface WizardPlan {
  issuer: string
  adminUrl: string
  mcpUrl: string
  resourceUri: string
  adminKey: string
  saveAdminKey: boolean
  slug: string
  displayName: string
  scopes: ScopeSpec[]
  scopeArgs: string[]
  clientName: string
  clientScope: string
  runVerify: boolean
  /** Set when the wizard started an embedded stack in the background. */
  startedStack?: {pid: number; logFile: string; args: string[]}
}

/** The prompt functions the wizard uses (the @inquirer/prompts ones in the CLI). */
export interface Prompter {
  input(options: {message: string; default?: string; validate?: (value: string) => true | string}): Promise<string>
  password(options: {message: string; validate?: (value: string) => true | string}): Promise<string>
  confirm(options: {message: string; default?: boolean}): Promise<boolean>
  select<T extends string>(options: {message: string; choices: Array<{name: string; value: T; description?: string}>}): Promise<T>
}

// Validators run as each answer is typed: the same rules as the non-interactive commands.
export const validate = {
  url(value: string): true | string {
    const problem = absoluteUrlProblem(value.trim())
    return problem ? `Not usable: ${problem} (example: http://localhost:8080/mcp)` : true
  },
  slug(value: string): true | string {
    try {
      normaliseSlug(value)
      return true
    } catch (error) {
      return `${(error as Error).message}: 1-64 of a-z, 0-9 and "-", starting with a letter or digit`
    }
  },
  scopes(value: string): true | string {
    try {
      validateScopes(splitScopes(value).map(parseScopeArgument))
      return splitScopes(value).length > 0 ? true : 'Give at least one scope'
    } catch (error) {
      return (error as Error).message
    }
  },
}

/** Scopes typed on one line: separated by commas (each in the name||description syntax). */
export function splitScopes(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

export interface ProbeOutcome {
  issuerOk: boolean
  mcpOk: boolean
  issuerProblem?: string
  mcpProblem?: string
}

export async function probeServers(issuer: string, mcpUrl: string, requestTimeoutMs: number): Promise<ProbeOutcome> {
  const wait = {waitMs: 1500, requestTimeoutMs: Math.min(requestTimeoutMs, 1500)}
  const [a, b] = await Promise.allSettled([waitForDiscovery(issuer, wait), waitForMcpServer(mcpUrl, wait)])
  return {
    issuerOk: a.status === 'fulfilled',
    mcpOk: b.status === 'fulfilled',
    issuerProblem: a.status === 'rejected' ? (a.reason as Error).message : undefined,
    mcpProblem: b.status === 'rejected' ? (b.reason as Error).message : undefined,
  }
}

/** Checks an admin key with a harmless read; a wrong key gets an answer the prompt can show. */
export async function checkAdminKey(adminUrl: string, adminKey: string, timeoutMs: number): Promise<true | string> {
  try {
    await new AdminClient({adminUrl, adminKey, timeoutMs}).listResources()
    return true
  } catch (error) {
    if (error instanceof AdminApiError && error.kind === 'unauthorized') return `The admin API refused this key (${error.detail}); try again`
    if (error instanceof AdminApiError) return true
    return `Cannot check the key: ${(error as Error).message}`
  }
}

/** The equivalent non-interactive command lines, so a session can be replayed in a script or CI. */
export function replayCommands(plan: WizardPlan, defaults: {issuer: string; adminUrl: string; mcpUrl: string; profile?: string}): string[] {
  const q = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`)
  const conn: string[] = []
  if (plan.issuer !== defaults.issuer) conn.push(`--issuer ${q(plan.issuer)}`)
  if (plan.adminUrl !== defaults.adminUrl) conn.push(`--admin-url ${q(plan.adminUrl)}`)
  if (plan.mcpUrl !== defaults.mcpUrl) conn.push(`--mcp-url ${q(plan.mcpUrl)}`)
  if (plan.resourceUri !== plan.mcpUrl) conn.push(`--resource ${q(plan.resourceUri)}`)
  if (defaults.profile) conn.push(`--profile ${q(defaults.profile)}`)
  const c = conn.length > 0 ? ` ${conn.join(' ')}` : ''
  const lines: string[] = []
  if (plan.startedStack) lines.push(`ap-demo ${plan.startedStack.args.join(' ')} &`)
  lines.push('export AUTHPLANE_ADMIN_API_KEY=...   # the admin key (never printed here)')
  lines.push(`ap-demo setup resource --slug ${q(plan.slug)} --uri ${q(plan.resourceUri)} --display-name ${q(plan.displayName)}${plan.scopeArgs.map((s) => ` --scope ${q(s)}`).join('')}${c}`)
  lines.push(`ap-demo setup client --name ${q(plan.clientName)} --scope ${q(plan.clientScope)}${c}`)
  if (plan.runVerify) lines.push(`ap-demo verify${c}`)
  return lines
}

export function wizardDefaults(resource: string) {
  return {
    slug: VERIFY_DEFAULTS.slug,
    displayName: VERIFY_DEFAULTS.displayName,
    scopes: 'mcp:echo||echo tool',
    clientName: VERIFY_DEFAULTS.clientName,
    clientScope: DEFAULT_CLIENT_SCOPE,
    resource,
  }
}

export function missingForNonInteractive(flags: Record<string, unknown>, hasAdminKey: boolean): string[] {
  const missing = ['slug', 'uri', 'scope', 'name', 'client-scope'].filter((f) => flags[f] === undefined).map((f) => `--${f}`)
  if (!hasAdminKey) missing.push('AUTHPLANE_ADMIN_API_KEY (or --admin-key)')
  return missing
}

export function noTerminalError(missing: string[]): ApDemoError {
  return new ApDemoError('no_terminal', `the setup wizard needs a terminal to ask its questions${missing.length ? `; missing: ${missing.join(', ')}` : ''}`, {
    exitCode: ExitCode.USAGE,
    hint: 'Pass the missing flags (or --yes to take the defaults), or run the steps directly: ap-demo setup resource, then ap-demo setup client.',
    details: {missing},
  })
}

export type {WalkthroughContext}
