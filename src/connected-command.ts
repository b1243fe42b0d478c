import {Flags, type Interfaces} from '@oclif/core'

import {BaseCommand} from './base-command.js'
import {ENV, resolveConnection, type ConnectionFlags, type ConnectionSettings} from './config/settings.js'
import {ApDemoError, ExitCode} from './errors.js'
import {toCurl} from './http/curl.js'
import {requireAbsoluteUrl} from './http/url.js'
import {DryRunStop, type RequestObserver} from './http/request.js'
import type {RecordedOutcome} from './http/recorder.js'
import type {SecretKind} from './http/redact.js'
import type {ConfigStore} from './config/store.js'
import {toApDemoError} from './error-map.js'
import type {SequenceEndpoints} from './trace/sequence.js'
import type {RunTrace, TraceResult} from './trace/run.js'
import type {WalkthroughContext} from './walkthrough/context.js'

/** --har and --diagram: for every command that talks to a server (docs/trace.md). */
export const traceFlags = {
  har: Flags.string({
    summary: 'Write every HTTP exchange of the run to FILE, as HAR 1.2 (secrets redacted).',
    description:
      'Opens in a browser\'s network panel (Import HAR). The admin key, client secrets, tokens, Authorization and DPoP headers are replaced by [redacted <kind> <fingerprint>]; the same secret has the same fingerprint within the file. Written atomically with mode 0600, also when the run fails.',
    helpGroup: 'TRACE',
  }),
  diagram: Flags.string({
    summary: 'Draw the run as a sequence diagram: Mermaid on stdout, "ascii" for a text chart, or FILE.',
    description:
      'A bare --diagram prints Mermaid; --diagram=ascii a chart that fits 100 columns. A FILE ending in .md gets Markdown with a mermaid block (GitHub renders it), .txt the text chart, anything else plain Mermaid. With --json the diagram is the envelope\'s "diagram" field. Before a positional argument, write --diagram=mermaid.',
    helpGroup: 'TRACE',
  }),
}

/** `--diagram` without a value (last, or followed by another flag) means Mermaid on stdout. */
export function withDiagramDefault(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--diagram' && (i === argv.length - 1 || argv[i + 1]!.startsWith('-')) ? '--diagram=mermaid' : arg))
}

type ObserverFlags = {'print-curl'?: boolean; 'dry-run'?: boolean; 'client-secret'?: string}

/**
 * Commands that talk to Authplane or the MCP server: the shared connection flags, resolved with
 * the precedence flag > environment (then ./.env) > profile > default, and the walkthrough context
 * built from them. Environment variables are read here rather than by oclif's `env` option so that
 * `ap-demo config show` can say where each value came from.
 */
export abstract class ConnectedCommand extends BaseCommand {
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    profile: Flags.string({
      summary: 'Profile of the local store to use.',
      description: `Env ${ENV.profile}. Default: the active profile (ap-demo config use), else "default".`,
      helpGroup: 'CONNECTION',
    }),
    issuer: Flags.string({
      summary: 'Authplane issuer, exactly as the server announces it.',
      description: `Env ${ENV.issuer}. Default http://localhost:9000. Compared byte for byte with the metadata's issuer.`,
      helpGroup: 'CONNECTION',
    }),
    'admin-url': Flags.string({
      summary: 'Base URL of the Authplane admin API.',
      description: `Env ${ENV.adminUrl}. Default http://localhost:9001.`,
      helpGroup: 'CONNECTION',
    }),
    'admin-key': Flags.string({
      summary: 'Admin API key (prefer the environment).',
      description: `Env ${ENV.adminKey}. Never required on the command line: the environment, ./.env, the profile (ap-demo stack up saves it) or a prompt also work.`,
      helpGroup: 'CONNECTION',
    }),
    'mcp-url': Flags.string({
      summary: 'URL of the MCP endpoint.',
      description: `Env ${ENV.mcpUrl}. Default http://localhost:8080/mcp.`,
      helpGroup: 'CONNECTION',
    }),
    resource: Flags.string({
      summary: 'RFC 8707 resource: the audience tokens are bound to.',
      description: `Env ${ENV.resource}. Default: the profile's resource, else the MCP URL. Must equal the registered resource uri and the MCP server's expected audience byte for byte.`,
      helpGroup: 'CONNECTION',
    }),
    'print-curl': Flags.boolean({
      summary: 'Print each HTTP request as an equivalent curl command (on stderr).',
      description: 'Secrets never appear: each is replaced by the shell variable that holds it ($AUTHPLANE_ADMIN_API_KEY, $AUTHPLANE_CLIENT_SECRET, $ACCESS_TOKEN, $MCP_SESSION_ID), so the lines are safe to share and run once those are exported.',
      helpGroup: 'CONNECTION',
    }),
    'dry-run': Flags.boolean({
      summary: 'Print the requests that would change something, instead of sending them.',
      description: 'Read-only requests (discovery, lookups) are still sent so that the printed requests are the real ones; the first request that would change state (or mint a token) is printed as curl and not sent, and the command stops there with exit 0.',
      helpGroup: 'CONNECTION',
    }),
    'request-timeout': Flags.integer({
      summary: 'Seconds to wait for each HTTP request.',
      description: 'Default 10, as the Authplane SDK.',
      default: 10,
      min: 1,
      helpGroup: 'CONNECTION',
    }),
  }

  override async init(): Promise<void> {
    await super.init()
    this.argv = withDiagramDefault(this.argv)
  }

  private trace?: RunTrace
  private traceResult?: TraceResult
  private traceEndpoints?: SequenceEndpoints
  private traceSecrets?: () => Array<{value: string; kind: SecretKind}>
  /** How the run ended, when the command knows better than "an error was thrown" (verify). */
  protected traceOutcome?: RecordedOutcome

  /** Starts recording when --har or --diagram asks for it; before the first request is sent. */
  protected async startTrace(flags: {har?: string; diagram?: string}): Promise<RunTrace | undefined> {
    if (this.trace || (!flags.har && flags.diagram === undefined)) return this.trace
    const {RunTrace, diagramTarget} = await import('./trace/run.js')
    this.trace = RunTrace.start({har: flags.har, diagram: flags.diagram === undefined ? undefined : diagramTarget(flags.diagram)})
    return this.trace
  }

  /** Marks a point of the recorded timeline (a verify step). */
  protected traceMark(label: string): void {
    this.trace?.mark(label)
  }

  /** Writes the HAR file and the diagram once, whether the run passed or failed. */
  private async finishTrace(error?: unknown): Promise<void> {
    if (!this.trace || this.traceResult) return
    this.traceResult = {}
    let outcome = this.traceOutcome
    if (!outcome && error instanceof DryRunStop) outcome = {ok: true, message: `dry run: ${error.request.method} ${new URL(error.request.url).pathname} not sent`}
    if (!outcome && error) outcome = {ok: false, message: toApDemoError(error).message}
    this.traceResult = await this.trace.finish({
      outcome,
      endpoints: this.traceEndpoints ?? {},
      secrets: this.traceSecrets?.() ?? [],
      creator: {name: this.config.name, version: this.config.version},
      title: `ap-demo ${this.id ?? ''}`.trim(),
    })
    if (this.traceResult.harFile) this.note(`HAR written to ${this.traceResult.harFile}`)
    if (this.traceResult.diagramFile) this.note(`diagram written to ${this.traceResult.diagramFile}`)
    if (this.traceResult.diagram && !this.jsonEnabled()) process.stdout.write(this.traceResult.diagram)
  }

  protected override toSuccessJson(result: unknown): unknown {
    const envelope = super.toSuccessJson(result) as Record<string, unknown>
    return this.traceResult?.diagram ? {...envelope, diagram: this.traceResult.diagram} : envelope
  }

  protected override toErrorJson(err: unknown): unknown {
    const envelope = super.toErrorJson(err) as Record<string, unknown>
    return this.traceResult?.diagram ? {...envelope, diagram: this.traceResult.diagram} : envelope
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    if (!error) {
      try {
        await this.finishTrace()
      } catch (traceError) {
        // The run did its work, but the files the user asked for are missing: that is a failure.
        await this.catch(traceError as Interfaces.CommandError)
      }
    }
    return super.finally(error)
  }

  protected connection(flags: ConnectionFlags & {profile?: string}): ConnectionSettings {
    const profile = this.profileName(flags.profile)
    return resolveConnection(profile, flags, this.env, this.store.getProfile(profile))
  }

  /** The walkthrough context; asks for the admin key when `needAdminKey` and none is configured. */
  protected async context(
    flags: ConnectionFlags & ObserverFlags & {profile?: string; 'request-timeout'?: number; 'no-input'?: boolean; har?: string; diagram?: string},
    options: {needAdminKey?: boolean} = {},
  ): Promise<WalkthroughContext> {
    await this.startTrace(flags)
    const settings = this.connection(flags)
    let adminKey = settings.adminKey.value
    if (!adminKey && options.needAdminKey) adminKey = await this.askAdminKey(flags)
    for (const [name, setting] of [['--issuer', settings.issuer], ['--admin-url', settings.adminUrl], ['--mcp-url', settings.mcpUrl], ['--resource', settings.resource]] as const) {
      requireAbsoluteUrl(setting.value ?? '', name, setting.from ?? setting.source)
    }
    return this.connect({
      issuer: settings.issuer.value!,
      adminUrl: settings.adminUrl.value!,
      adminKey,
      mcpUrl: settings.mcpUrl.value!,
      resource: settings.resource.value!,
      store: this.store,
      profile: settings.profile,
      requestTimeoutMs: (flags['request-timeout'] ?? 10) * 1000,
    }, flags)
  }

  /**
   * Finishes a context: the --print-curl / --dry-run observer, and what a --har or --diagram
   * recording needs to know (the servers, the secrets to redact). Every command's context passes here.
   */
  protected connect(ctx: WalkthroughContext, flags: ObserverFlags): WalkthroughContext {
    ctx.observer = this.requestObserver(flags, ctx.adminKey, ctx.profile, ctx.store)
    this.traceEndpoints = {issuer: ctx.issuer, adminUrl: ctx.adminUrl, mcpUrl: ctx.mcpUrl}
    this.traceSecrets = () => this.knownSecrets(flags, ctx.adminKey, ctx.profile, ctx.store).map(({value, kind}) => ({value, kind}))
    return ctx
  }

  /**
   * The secrets this run may send, and the shell variable each is printed as. Looked up at each
   * request: a client created during this run is known by then.
   */
  private knownSecrets(flags: ObserverFlags, adminKey: string | undefined, profile: string, store: ConfigStore): Array<{value: string; env: string; kind: SecretKind}> {
    const list: Array<{value: string; env: string; kind: SecretKind}> = []
    if (adminKey) list.push({value: adminKey, env: ENV.adminKey, kind: 'admin-key'})
    const client = store.getProfile(profile).client
    for (const secret of [client?.secret, this.env.get(ENV.clientSecret), flags['client-secret']]) {
      if (secret) list.push({value: secret, env: ENV.clientSecret, kind: 'client-secret'})
    }
    return list
  }

  /** The --print-curl / --dry-run observer, or undefined when neither is asked for. */
  protected requestObserver(flags: ObserverFlags, adminKey: string | undefined, profile: string, store = this.store): RequestObserver | undefined {
    const printCurl = Boolean(flags['print-curl'])
    const dryRun = Boolean(flags['dry-run'])
    if (!printCurl && !dryRun) return undefined
    const secrets = (): Record<string, string> => Object.fromEntries(this.knownSecrets(flags, adminKey, profile, store).map((s) => [s.value, s.env]))
    return (request) => {
      const line = toCurl(request, secrets())
      if (dryRun && request.method !== 'GET') {
        this.dryRunRequests.push(line)
        throw new DryRunStop(request)
      }
      if (dryRun) this.dryRunRequests.push(line)
      if (printCurl && !this.jsonEnabled()) process.stderr.write(`${line}\n`)
    }
  }

  /** The curl lines of a --dry-run: the read-only requests sent, then the one held back. */
  protected dryRunRequests: string[] = []

  protected override async catch(err: Interfaces.CommandError): Promise<void> {
    if ((err as {code?: string}).code !== 'EEXIT') {
      try {
        await this.finishTrace(err)
      } catch (traceError) {
        this.warnUser(toApDemoError(traceError).message)
      }
    }
    if (!(err instanceof DryRunStop)) return super.catch(err)
    const held = this.dryRunRequests.at(-1)
    if (this.jsonEnabled()) {
      this.logJson(this.toSuccessJson({dryRun: true, sent: this.dryRunRequests.slice(0, -1), notSent: held ?? null}))
    } else {
      if (held) process.stdout.write(`${held}\n`)
      process.stderr.write(`dry run: the request above was not sent (${err.request.method} ${err.request.url}); nothing was changed\n`)
    }
  }

  private async askAdminKey(flags: {'no-input'?: boolean}): Promise<string> {
    if (!this.canPrompt(flags)) {
      throw new ApDemoError('admin_key_missing', 'no admin key is configured', {
        exitCode: ExitCode.USAGE,
        hint: `Set ${ENV.adminKey} (or put it in ./.env, or pass --admin-key); \`ap-demo stack up\` saves its key in the profile.`,
      })
    }
    const {password} = await import('@inquirer/prompts')
    const key = await password({message: 'Authplane admin API key', mask: '*', validate: (v) => (v.trim() ? true : 'The key cannot be empty')}, {output: process.stderr})
    return key.trim()
  }
}
