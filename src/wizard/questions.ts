import chalk from 'chalk'

import type {ConnectionSettings} from '../config/settings.js'
import type {ScopeSpec} from '../config/store.js'
import {CredentialsError, NeedsInputError, UnreachableError} from '../errors.js'
import {absoluteUrlProblem, requireAbsoluteUrl, resourceUriProblem} from '../http/url.js'
import {checkAdminKey} from '../walkthrough/admin-key.js'
import {DEFAULT_CLIENT_SCOPE, VERIFY_DEFAULTS} from '../walkthrough/defaults.js'
import {waitForDiscovery} from '../walkthrough/discovery.js'
import {waitForMcpServer} from '../walkthrough/mcp-probe.js'
import {normaliseSlug, parseScopeArgument, validateScopes} from '../walkthrough/resource.js'
import {startBackgroundStack} from './background-stack.js'

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
  /** Tier 03: verify (and the printed commands) with a DPoP-bound token (RFC 9449). */
  useDpop: boolean
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
  /** An absolute http(s) URL; the message shows an example of what this prompt wants. */
  url(example: string): (value: string) => true | string {
    return (value) => {
      const problem = absoluteUrlProblem(value.trim())
      return problem ? `Not usable: ${problem} (example: ${example})` : true
    }
  },
  /**
   * A resource URI: the rule of --uri and --resource (RFC 8707 §2: absolute, no fragment), in the
   * same words, as it is typed, so that no answer is lost to a refusal after the last question.
   */
  resource(example: string): (value: string) => true | string {
    return (value) => {
      const problem = resourceUriProblem(value.trim())
      return problem ? `Not usable: ${problem} (example: ${example})` : true
    }
  },
  slug(value: string): true | string {
    try {
      normaliseSlug(value)
      return true
    } catch (error) {
      return `${(error as Error).message}: after lower-casing, 1-64 of a-z, 0-9 and "-", starting with a letter or digit`
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
  /** What the MCP server's resource metadata says about DPoP (RFC 9728 §2): not announced = off. */
  mcpDpop?: 'off' | 'allowed' | 'required'
  issuerProblem?: string
  mcpProblem?: string
}

export async function probeServers(issuer: string, mcpUrl: string, requestTimeoutMs: number): Promise<ProbeOutcome> {
  const wait = {waitMs: 1500, requestTimeoutMs: Math.min(requestTimeoutMs, 1500)}
  const [a, b] = await Promise.allSettled([waitForDiscovery(issuer, wait), waitForMcpServer(mcpUrl, wait)])
  const metadata = (b.status === 'fulfilled' ? b.value.resourceMetadata : {}) as {dpop_signing_alg_values_supported?: unknown; dpop_bound_access_tokens_required?: unknown}
  const mcpDpop = metadata.dpop_bound_access_tokens_required === true ? 'required' : Array.isArray(metadata.dpop_signing_alg_values_supported) ? 'allowed' : 'off'
  return {
    issuerOk: a.status === 'fulfilled',
    mcpOk: b.status === 'fulfilled',
    mcpDpop,
    issuerProblem: a.status === 'rejected' ? (a.reason as Error).message : undefined,
    mcpProblem: b.status === 'rejected' ? (b.reason as Error).message : undefined,
  }
}

/**
 * Tier 03: offered when the MCP server announces DPoP in its resource metadata and verify will
 * run (a server that requires it gets yes by default). --dpop / --dpop-key answer it up front.
 */
async function offerDpop(flags: WizardFlags, mcpDpop: ProbeOutcome['mcpDpop'], runVerify: boolean, prompts: Prompter | undefined, wiz: WizardEnvironment): Promise<boolean> {
  if (flags.dpop || flags['dpop-key'] !== undefined) return true
  if (mcpDpop === 'off' || mcpDpop === undefined) {
    if (runVerify) wiz.note(chalk.dim('Tier 03: this MCP server does not take DPoP-bound tokens; to try them, run it with ap-demo stack up --mcp-dpop allowed (docs/dpop.md).'))
    return false
  }
  if (!runVerify || !prompts) return mcpDpop === 'required'
  return prompts.confirm({
    // Short enough for one terminal line: the prompt is matched as typed.
    message: `Use a DPoP-bound token (tier 03, RFC 9449)? The MCP server ${mcpDpop === 'required' ? 'requires' : 'accepts'} them.`,
    default: mcpDpop === 'required',
  })
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

export function noTerminalError(missing: string[]): NeedsInputError {
  return new NeedsInputError('no_terminal', `the setup wizard needs a terminal to ask its questions${missing.length ? `; missing: ${missing.join(', ')}` : ''}`, {
    hint: 'Pass the missing flags (or --yes to take the defaults), or run the steps directly: ap-demo setup resource, then ap-demo setup client.',
    details: {missing},
  })
}


export interface WizardFlags {
slug?: string
uri?: string
scope?: string[]
'display-name'?: string
name?: string
'client-scope'?: string
verify?: boolean
dpop?: boolean
'dpop-key'?: string
}

export interface WizardEnvironment {
/** Progress for humans (stderr). */
note: (message: string) => void
/** How text from outside (a server's answer, an error) is shown in a note: the CLI's terminal rule. */
shown: (text: string) => string
/** bin/run.js, to start the embedded stack in the background. */
binPath: string
/** ap-demo's data directory (the background stack keeps its data and log there). */
dataDir: string
timeoutMs: number
}

/**
 * Phase 1 of the wizard: every question, nothing written. Answers given as flags are not asked;
 * without a prompter every unanswered question takes its default.
 */
export async function collectPlan(flags: WizardFlags, settings: ConnectionSettings, prompts: Prompter | undefined, wiz: WizardEnvironment): Promise<WizardPlan | {quit: true}> {
  // A flag the steps would refuse is refused now, before any question is asked.
  if (flags.uri !== undefined) requireAbsoluteUrl(flags.uri, '--uri')
  const timeoutMs = wiz.timeoutMs
  let issuer = settings.issuer.value!
  let adminUrl = settings.adminUrl.value!
  let mcpUrl = settings.mcpUrl.value!
  let resource = settings.resource.value!
  const resourceFollowsMcp = settings.resource.source === 'default'
  let adminKey = settings.adminKey.value
  let saveAdminKey = false
  let startedStack: WizardPlan['startedStack']
  let mcpDpop: ProbeOutcome['mcpDpop'] = 'off'
  try {
    for (;;) {
      wiz.note(chalk.dim(`Looking for Authplane at ${issuer} and the MCP server at ${mcpUrl} ...`))
      const probe = await probeServers(issuer, mcpUrl, timeoutMs)
      if (probe.issuerOk && probe.mcpOk) {
        mcpDpop = probe.mcpDpop
        wiz.note(`${chalk.green('✔')} found the authorization server and the MCP server${mcpDpop === 'off' ? '' : ` (it takes DPoP-bound tokens: ${mcpDpop})`}`)
        break
      }
      if (!probe.issuerOk) wiz.note(`${chalk.yellow('!')} ${wiz.shown(probe.issuerProblem ?? '')}`)
      if (!probe.mcpOk) wiz.note(`${chalk.yellow('!')} ${wiz.shown(probe.mcpProblem ?? '')}`)
      if (!prompts) {
        throw new UnreachableError('unreachable', 'the servers do not answer', {hint: 'Start them (ap-demo stack up) or pass --issuer / --admin-url / --mcp-url.'})
      }
      const choice = await prompts.select<'embedded' | 'urls' | 'quit'>({
        message: 'What now?',
        choices: [
          {name: 'Start the embedded stack in the background', value: 'embedded', description: 'ap-demo stack up, detached; it keeps running after the wizard'},
          {name: 'Enter other URLs', value: 'urls'},
          {name: 'Quit', value: 'quit'},
        ],
      })
      if (choice === 'quit') return {quit: true}
      if (choice === 'embedded') {
        const stack = await startBackgroundStack(wiz.binPath, wiz.dataDir)
        startedStack = {pid: stack.pid, logFile: stack.logFile, args: stack.args}
        ;({issuer, adminUrl, mcpUrl} = stack)
        resource = stack.resource
        adminKey = stack.adminKey
        wiz.note(`${chalk.green('✔')} embedded stack started (pid ${stack.pid})`)
        continue
      }
      issuer = (await prompts.input({message: 'Issuer (exactly as the server announces it)', default: issuer, validate: validate.url('http://localhost:9000')})).trim()
      adminUrl = (await prompts.input({message: 'Admin API URL', default: adminUrl, validate: validate.url('http://localhost:9001')})).trim()
      mcpUrl = (await prompts.input({message: 'MCP server URL', default: mcpUrl, validate: validate.url('http://localhost:8080/mcp')})).trim()
      if (resourceFollowsMcp) resource = mcpUrl
    }

    const keyCheck = adminKey ? await checkAdminKey(adminUrl, adminKey, timeoutMs) : 'missing'
    if (keyCheck !== true) {
      if (!prompts) throw new CredentialsError('admin_key_rejected', `the admin key is not accepted: ${keyCheck}`, {hint: 'Set AUTHPLANE_ADMIN_API_KEY to the key the server was started with.'})
      if (adminKey) wiz.note(`${chalk.yellow('!')} the configured admin key does not work: ${wiz.shown(keyCheck)}`)
      let check: true | string = 'missing'
      while (check !== true) {
        adminKey = (await prompts.password({message: 'Admin API key', validate: (v) => (v.trim() ? true : 'The key cannot be empty')})).trim()
        check = await checkAdminKey(adminUrl, adminKey, timeoutMs)
        if (check !== true) wiz.note(`${chalk.red('✖')} ${wiz.shown(check)}`)
      }
      saveAdminKey = await prompts.confirm({message: `Save the admin key in profile "${settings.profile}" (file mode 0600)?`, default: true})
    } else if (startedStack) {
      saveAdminKey = true
    }

    const d = wizardDefaults(resource)
    const ask = async (flag: string | undefined, question: Parameters<Prompter['input']>[0]) =>
      flag ?? (prompts ? (await prompts.input(question)).trim() : (question.default ?? ''))
    const slug = (await ask(flags.slug, {message: 'Resource slug (lower-cased; a-z, 0-9, -)', default: d.slug, validate: validate.slug})).toLowerCase()
    const uri = await ask(flags.uri, {message: 'Resource URI (the token audience)', default: d.resource, validate: validate.resource('http://localhost:8080/mcp')})
    const scopeArgs: string[] = flags.scope ?? splitScopes(await ask(undefined, {message: 'Resource scopes (comma-separated; name||description)', default: d.scopes, validate: validate.scopes}))
    const scopes = scopeArgs.map(parseScopeArgument)
    const names = scopes.map((s) => s.name)
    const clientName = await ask(flags.name, {message: 'Client name', default: d.clientName})
    const clientScope = await ask(flags['client-scope'], {
      message: 'Client scope ceiling (space-separated)',
      default: names.includes(d.clientScope) ? d.clientScope : names[0],
      validate: (v) => {
        const wanted = v.trim().split(/\s+/).filter(Boolean)
        if (wanted.length === 0) return 'Give at least one scope'
        const unknown = wanted.filter((s) => !names.includes(s))
        return unknown.length > 0 ? `Not a scope of the resource: ${unknown.join(' ')} (it has ${names.join(' ')}); tokens could never carry it` : true
      },
    })
    const runVerify = flags.verify ?? (prompts ? await prompts.confirm({message: 'Run ap-demo verify when done?', default: true}) : false)
    const useDpop = await offerDpop(flags, mcpDpop, runVerify, prompts, wiz)
    return {
      issuer,
      adminUrl,
      mcpUrl,
      resourceUri: uri,
      adminKey: adminKey!,
      saveAdminKey,
      slug,
      displayName: flags['display-name'] ?? d.displayName,
      scopes,
      scopeArgs,
      clientName,
      clientScope,
      runVerify,
      useDpop,
      startedStack,
    }
  } catch (error) {
    if (startedStack && error && typeof error === 'object') Object.assign(error, {startedStack})
    throw error
  }
}

