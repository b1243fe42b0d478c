import {Flags, type Interfaces} from '@oclif/core'

import {BaseCommand} from './base-command.js'
import {ENV, resolveConnection, type ConnectionFlags, type ConnectionSettings} from './config/settings.js'
import {ApDemoError, ExitCode} from './errors.js'
import {toCurl} from './http/curl.js'
import {requireAbsoluteUrl} from './http/url.js'
import {DryRunStop, type RequestObserver} from './http/request.js'
import type {WalkthroughContext} from './walkthrough/context.js'

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

  protected connection(flags: ConnectionFlags & {profile?: string}): ConnectionSettings {
    const profile = this.profileName(flags.profile)
    return resolveConnection(profile, flags, this.env, this.store.getProfile(profile))
  }

  /** The walkthrough context; asks for the admin key when `needAdminKey` and none is configured. */
  protected async context(
    flags: ConnectionFlags & {profile?: string; 'request-timeout'?: number; 'no-input'?: boolean; 'print-curl'?: boolean; 'dry-run'?: boolean; 'client-secret'?: string},
    options: {needAdminKey?: boolean} = {},
  ): Promise<WalkthroughContext> {
    const settings = this.connection(flags)
    let adminKey = settings.adminKey.value
    if (!adminKey && options.needAdminKey) adminKey = await this.askAdminKey(flags)
    for (const [name, setting] of [['--issuer', settings.issuer], ['--admin-url', settings.adminUrl], ['--mcp-url', settings.mcpUrl], ['--resource', settings.resource]] as const) {
      requireAbsoluteUrl(setting.value ?? '', name, setting.from ?? setting.source)
    }
    const observer = this.requestObserver(flags, adminKey, settings.profile)
    return {
      observer,
      issuer: settings.issuer.value!,
      adminUrl: settings.adminUrl.value!,
      adminKey,
      mcpUrl: settings.mcpUrl.value!,
      resource: settings.resource.value!,
      store: this.store,
      profile: settings.profile,
      requestTimeoutMs: (flags['request-timeout'] ?? 10) * 1000,
      dryRun: Boolean(flags['dry-run']),
      onNote: (message) => this.note(message),
    }
  }

  /** The --print-curl / --dry-run observer, or undefined when neither is asked for. */
  protected requestObserver(flags: {'print-curl'?: boolean; 'dry-run'?: boolean; 'client-secret'?: string}, adminKey: string | undefined, profile: string, store = this.store): RequestObserver | undefined {
    const printCurl = Boolean(flags['print-curl'])
    const dryRun = Boolean(flags['dry-run'])
    if (!printCurl && !dryRun) return undefined
    // Looked up at each request: a client created during this run is known by then.
    const secrets = (): Record<string, string> => {
      const map: Record<string, string> = {}
      if (adminKey) map[adminKey] = ENV.adminKey
      const client = store.getProfile(profile).client
      if (client) map[client.secret] = ENV.clientSecret
      const envSecret = this.env.get(ENV.clientSecret)
      if (envSecret) map[envSecret] = ENV.clientSecret
      if (flags['client-secret']) map[flags['client-secret']] = ENV.clientSecret
      return map
    }
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
