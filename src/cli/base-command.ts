import {Command, Interfaces, ux} from '@oclif/core'
import chalk from 'chalk'

import type {AdminKeySource} from '../admin/client.js'

import {ENV, Environment, resolveConnection, type ConnectionFlags, type ConnectionSettings} from '../config/settings.js'
import {ConfigStore, validateProfileName} from '../config/store.js'
import {inputError, NeedsInputError} from '../errors.js'
import {DryRunStop} from '../http/request.js'
import {MCP_PROTOCOL_ENV, resolveMcpProtocol} from '../mcp/protocol.js'
import {contextFromSettings, type WalkthroughContext} from '../walkthrough/context.js'
import {CliError, toCliError} from './error-map.js'
import {ExitCode} from './exit-codes.js'
import {RequestRecorder} from './observer.js'
import {formatError, formatWarning} from './render/messages.js'
import {terminalJson, terminalLine} from '../terminal-text.js'
import {inquirerPrompter} from './prompts.js'
import {closestFlag} from './suggest.js'
import {CommandTrace, secretKinds, withDiagramDefault, type TraceFlags} from './trace.js'
import type {TraceResult} from '../trace/run.js'

/** The flags the base command reads when a command declares them (see ./flags.ts). */
export interface CommonFlags extends ConnectionFlags, TraceFlags {
  profile?: string
  'no-input'?: boolean
  'print-curl'?: boolean
  'dry-run'?: boolean
  'request-timeout'?: number
  'client-secret'?: string
  dpop?: boolean
  'dpop-key'?: string
  'dpop-scheme'?: string
  protocol?: string
}

/**
 * What every ap-demo command shares: `--json` with one stable envelope on stdout, human text and
 * hints on stderr, one error report per failure (the map in ./error-map.ts decides the exit code),
 * and the walkthrough context built from the flags a command declares. Commands return a typed
 * result; `display` prints its human form, which --json replaces with the envelope.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  private _store?: ConfigStore
  private _env?: Environment
  private recorder?: RequestRecorder
  private trace?: CommandTrace
  private traceResult?: TraceResult
  private traceFinished = false
  private readonly extraSecrets = new Map<string, string>()

  /** The local store, in oclif's config dir ($XDG_CONFIG_HOME/ap-demo; AP_DEMO_CONFIG_DIR overrides). */
  protected get store(): ConfigStore {
    this._store ??= new ConfigStore({cwd: this.config.configDir})
    return this._store
  }

  /** The environment plus ./.env, as the original example's `set -a; source .env`. */
  protected get env(): Environment {
    this._env ??= new Environment()
    return this._env
  }

  /** --profile, else AP_DEMO_PROFILE, else the store's active profile. */
  protected profileName(flag: string | undefined): string {
    if (flag !== undefined) return validateProfileName(flag)
    const fromEnv = this.env.get(ENV.profile)
    if (fromEnv) return validateProfileName(fromEnv)
    return this.store.activeProfileName()
  }

  override async init(): Promise<void> {
    // The command starts: bin/run.js's slow-start watchdog (a cold disk) has nothing more to say.
    ;(globalThis as {__apDemoStarted?: () => void}).__apDemoStarted?.()
    // A closed stdout (`ap-demo ... | head -1`) is handled for every command and for help in ./main.ts.
    await super.init()
    this.argv = withDiagramDefault(this.argv)
    // https://no-color.org: chalk itself only honours FORCE_COLOR and the terminal.
    if (process.env.NO_COLOR) chalk.level = 0
  }

  /** Whether prompts may be shown: a TTY on both ends, no --no-input, no CI. */
  protected canPrompt(flags: {'no-input'?: boolean}): boolean {
    if (flags['no-input']) return false
    if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') return false
    return Boolean(process.stdin.isTTY && process.stdout.isTTY)
  }

  /**
   * Human output of a result on stdout; --json prints the envelope instead. When the sequence
   * diagram is printed (`--diagram` without a FILE), stdout is the diagram's alone, so that
   * `ap-demo verify --diagram > flow.mmd` writes a file Mermaid reads: the result goes to stderr.
   */
  protected display(text: string | string[]): void {
    if (this.jsonEnabled()) return
    const lines = Array.isArray(text) ? text : [text]
    if (this.trace?.diagramOnStdout) for (const line of lines) process.stderr.write(`${line}\n`)
    else for (const line of lines) this.log(line)
  }

  /** Progress and notes for humans: stderr, silent under --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  protected warnUser(message: string, hint?: string): void {
    if (this.jsonEnabled()) return
    for (const line of formatWarning(message, hint)) process.stderr.write(`${line}\n`)
  }

  /** note and warnUser, for library callbacks. */
  protected get progress(): {note: (m: string) => void; warn: (m: string) => void} {
    return {note: (m) => this.note(m), warn: (m) => this.warnUser(m)}
  }

  /**
   * Runs work that may wait for a server and says what it waits for once it has taken a second:
   * a spinner on a terminal (oclif's ux.action), one line on stderr otherwise, nothing under --json.
   */
  protected async waitingFor<T>(what: string, work: () => Promise<T>): Promise<T> {
    const waiting = this.startWaiting(what)
    try {
      const value = await work()
      waiting.stop()
      return value
    } catch (error) {
      waiting.stop(false)
      throw error
    }
  }

  /**
   * The same for waits that start and end in callbacks (verify's steps). `update` says where the
   * wait stands (what it polls, why it still waits): the spinner shows it, or, without a terminal,
   * one more line whenever it changes.
   */
  protected startWaiting(what: string): {stop: (ok?: boolean) => void; update: (status: string) => void} {
    if (this.jsonEnabled()) return {stop() {}, update() {}}
    what = terminalLine(what)
    let status: string | undefined
    let shown: 'spinner' | 'line' | undefined
    let printed: string | undefined
    const line = () => {
      printed = status
      process.stderr.write(`${what}${status ? `: ${status}` : ''} ...\n`)
    }
    const timer = setTimeout(() => {
      if (process.stderr.isTTY) {
        shown = 'spinner'
        ux.action.start(what, status)
      } else {
        shown = 'line'
        line()
      }
    }, 1000)
    timer.unref()
    return {
      update(next: string) {
        status = terminalLine(next)
        if (shown === 'spinner') ux.action.status = status
        else if (shown === 'line' && status !== printed) line()
      },
      stop(ok = true) {
        clearTimeout(timer)
        if (shown === 'spinner') ux.action.stop(ok ? 'done' : 'failed')
        shown = undefined
      },
    }
  }

  /** Connection settings with the precedence flag > environment (then ./.env) > profile > default. */
  protected connection(flags: CommonFlags): ConnectionSettings {
    const profile = this.profileName(flags.profile)
    return resolveConnection(profile, flags, this.env, this.store.getProfile(profile))
  }

  /** The walkthrough context for the flags given; asks for the admin key when `needAdminKey` and none is configured. */
  protected async context(flags: CommonFlags, options: {needAdminKey?: boolean} = {}): Promise<WalkthroughContext> {
    const settings = this.connection(flags)
    let adminKey = settings.adminKey.value
    let adminKeySource = adminKey === undefined ? undefined : (settings.adminKey.source as AdminKeySource)
    if (!adminKey && options.needAdminKey) {
      adminKey = await this.askAdminKey(flags)
      adminKeySource = 'prompt'
    }
    const ctx = contextFromSettings(settings, {
      store: this.store,
      adminKey,
      adminKeySource,
      requestTimeoutMs: (flags['request-timeout'] ?? 10) * 1000,
      observer: this.requestObserver(flags, adminKey, settings.profile),
      dryRun: Boolean(flags['dry-run']),
      // Notes of the walkthrough (an interrupted registration settled) name what the server holds.
      onNote: (message) => this.note(terminalLine(message)),
    })
    if (this.trace) this.trace.endpoints = {issuer: ctx.issuer, adminUrl: ctx.adminUrl, mcpUrl: ctx.mcpUrl}
    return this.withDpop(this.withMcpProtocol(ctx, flags), flags)
  }

  /** --protocol, else AP_DEMO_MCP_PROTOCOL (environment or ./.env), else auto. */
  protected withMcpProtocol(ctx: WalkthroughContext, flags: Pick<CommonFlags, 'protocol'>): WalkthroughContext {
    return {...ctx, mcpProtocol: resolveMcpProtocol(flags.protocol, this.env.get(MCP_PROTOCOL_ENV))}
  }

  /** With --dpop or --dpop-key: the key (the profile's, created on first use, or the file's) and its proof handle. */
  protected async withDpop(ctx: WalkthroughContext, flags: Pick<CommonFlags, 'dpop' | 'dpop-key' | 'dpop-scheme'>): Promise<WalkthroughContext> {
    if (!flags.dpop && flags['dpop-key'] === undefined) {
      if (flags['dpop-scheme'] !== undefined) throw inputError('--dpop-scheme is for a DPoP-bound token', 'Add --dpop (or --dpop-key FILE).')
      return ctx
    }
    const {clientDpop} = await import('../walkthrough/dpop.js')
    const dpop = await clientDpop(ctx.store, ctx.profile, {keyFile: flags['dpop-key'], scheme: flags['dpop-scheme'] as 'auto' | 'dpop' | 'bearer' | undefined})
    if (dpop.created) this.note(chalk.dim(`created the DPoP key of profile "${ctx.profile}" (${dpop.key.alg}, thumbprint ${dpop.key.thumbprint}), kept in ${ctx.store.path}`))
    return {...ctx, dpop}
  }

  /**
   * A secret this run will send that the store and the environment do not know (a generated user
   * password): --print-curl and --dry-run show it as `${variable}`, a HAR file as [redacted].
   */
  protected knownSecret(value: string, variable: string): void {
    this.extraSecrets.set(value, variable)
  }

  /** The --print-curl / --dry-run observer, or undefined when neither is asked for. */
  protected requestObserver(flags: CommonFlags, adminKey: string | undefined, profile: string, store = this.store) {
    const secrets = () => {
      const map: Record<string, string> = {}
      // AP_DEMO_USER_PASSWORD: the password of the users `setup user` creates.
      const password = this.env.get(ENV.userPassword)
      if (password) map[password] = ENV.userPassword
      for (const [value, variable] of this.extraSecrets) map[value] = variable
      if (adminKey) map[adminKey] = ENV.adminKey
      const kept = store.getProfile(profile)
      if (kept.client) map[kept.client.secret] = ENV.clientSecret
      // What `ap-demo login` keeps: the secrets of its clients, the users' refresh tokens.
      for (const c of Object.values(kept.loginClients ?? {})) if (c.clientSecret) map[c.clientSecret] = ENV.clientSecret
      for (const l of Object.values(kept.logins ?? {})) if (l.refreshToken) map[l.refreshToken] = 'REFRESH_TOKEN'
      const envSecret = this.env.get(ENV.clientSecret)
      if (envSecret) map[envSecret] = ENV.clientSecret
      if (flags['client-secret']) map[flags['client-secret']] = ENV.clientSecret
      return map
    }
    this.recorder = new RequestRecorder({printCurl: Boolean(flags['print-curl']), dryRun: Boolean(flags['dry-run']), print: (line) => this.note(terminalLine(line)), secrets})
    if (this.trace) this.trace.secrets = () => secretKinds(secrets())
    return this.recorder.observer
  }

  /**
   * Every command parses its flags first: --har / --diagram start recording there, before any
   * request, and a file that cannot be written is refused before anything happens.
   */
  protected override async parse<F extends {[name: string]: any}, B extends {[name: string]: any}, A extends {[name: string]: any}>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    let parsed: Interfaces.ParserOutput<F, B, A>
    try {
      parsed = await super.parse(options, argv)
    } catch (error) {
      // oclif adds --json itself (enableJsonFlag), outside the declared flags.
      const names = Object.keys({...this.ctor.baseFlags, ...this.ctor.flags, ...options?.baseFlags, ...options?.flags})
      throw this.withFlagSuggestion(error, this.ctor.enableJsonFlag ? [...names, 'json'] : names)
    }
    this.trace ??= CommandTrace.start(parsed.flags as TraceFlags)
    return parsed
  }

  /** `Nonexistent flag: --embeded` gains `. Did you mean --embedded?` when one flag is that close. */
  private withFlagSuggestion(error: unknown, names: string[]): unknown {
    const unknown = (error as {flags?: unknown}).flags
    if ((error as Error)?.constructor?.name !== 'NonExistentFlagsError' || !Array.isArray(unknown)) return error
    const suggestions = unknown.map((flag) => [String(flag), closestFlag(String(flag), names)] as const).filter(([, near]) => near !== undefined)
    if (suggestions.length === 0) return error
    const typo = suggestions.map(([flag, near]) => (unknown.length === 1 ? `Did you mean ${near}?` : `Did you mean ${near} for ${flag}?`)).join(' ')
    const first = toCliError(error)
    return new CliError(first.code, `${first.message}. ${typo}`, {exitCode: first.exitCode, hint: first.hint, details: {...first.details, suggestions: suggestions.map(([, near]) => near)}, cause: error})
  }

  /** A point of the recorded timeline: the diagram's notes and the HAR entries' comments name it. */
  protected traceMark(label: string): void {
    this.trace?.mark(label)
  }

  /** The last note of the diagram when the command succeeds (verify: ALL CHECKS PASSED). */
  protected traceSuccess(message: string): void {
    if (this.trace) this.trace.success = {ok: true, message}
  }

  /** Writes the HAR file and the diagram, once, when the command ends; prints a diagram that has no file. */
  private async finishTrace(error?: unknown): Promise<void> {
    if (!this.trace || this.traceFinished) return
    this.traceFinished = true
    if (error instanceof DryRunStop) this.traceSuccess(`dry run: ${error.request.method} ${new URL(error.request.url).pathname} not sent`)
    const failure = error === undefined || error instanceof DryRunStop ? undefined : toCliError(error).message
    this.traceResult = await this.trace.finish({creator: {name: this.config.name, version: this.config.version}, title: `ap-demo ${this.id ?? ''}`.trim(), failure})
    if (this.traceResult.harFile) this.note(`HAR written to ${this.traceResult.harFile}`)
    if (this.traceResult.diagramFile) this.note(`diagram written to ${this.traceResult.diagramFile}`)
    if (this.traceResult.diagram && !this.jsonEnabled()) process.stdout.write(this.traceResult.diagram)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    if (!error) {
      try {
        await this.finishTrace()
      } catch (traceError) {
        // The command did its work, but a file the user asked for is missing: that is a failure.
        await this.catch(traceError as Interfaces.CommandError)
      }
    }
    return super.finally(error)
  }

  protected async askAdminKey(flags: {'no-input'?: boolean}): Promise<string> {
    if (!this.canPrompt(flags)) {
      throw new NeedsInputError('admin_key_missing', 'no admin key is configured', {
        hint: `Set ${ENV.adminKey} (or put it in ./.env, or pass --admin-key); \`ap-demo stack up\` saves its key in the profile.`,
      })
    }
    const {password} = await inquirerPrompter()
    return (await password({message: 'Authplane admin API key', validate: (v) => (v.trim() ? true : 'The key cannot be empty')})).trim()
  }

  /** The --json document, as oclif prints it, with the controls JSON leaves raw escaped (./terminal-text.ts). */
  override logJson(json: unknown): void {
    ux.stdout(terminalJson(ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json})))
  }

  protected override toSuccessJson(result: unknown): unknown {
    return {status: 'ok', result, ...(this.traceResult?.diagram ? {diagram: this.traceResult.diagram} : {})}
  }

  protected override toErrorJson(err: unknown): unknown {
    const e = toCliError(err)
    return {
      status: 'error',
      error: {code: e.code, message: e.message, hint: e.hint ?? null, exitCode: e.exitCode, ...e.details},
      ...(this.traceResult?.diagram ? {diagram: this.traceResult.diagram} : {}),
    }
  }

  protected override async catch(err: Interfaces.CommandError): Promise<void> {
    // oclif's own exit (this.exit) is not an error to report.
    if ((err as {oclif?: {exit?: number}; code?: string}).code === 'EEXIT') throw err
    try {
      await this.finishTrace(err)
    } catch (traceError) {
      // The run's own error is the one to report; the missing file is said on the side.
      this.warnUser(toCliError(traceError).message)
    }
    if (err instanceof DryRunStop) return this.reportDryRun(err)
    const e = toCliError(err)
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e))
    } else if (!e.shown) {
      for (const line of formatError(e)) process.stderr.write(`${line}\n`)
      if (e.exitCode === ExitCode.INTERNAL && process.env.DEBUG) process.stderr.write(`${(err as Error).stack}\n`)
    }
    this.exit(e.exitCode)
  }

  /** A --dry-run ends at the first request that would change something: exit 0, the request on stdout. */
  private reportDryRun(stop: DryRunStop): void {
    const held = this.recorder?.held() ?? {dryRun: true as const, sent: [], notSent: null}
    if (this.jsonEnabled()) {
      this.logJson(this.toSuccessJson(held))
    } else {
      if (held.notSent) this.display(held.notSent)
      process.stderr.write(`dry run: the request above was not sent (${stop.request.method} ${stop.request.url}); nothing was changed\n`)
    }
  }
}
