import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {ConnectedCommand, traceFlags} from './connected-command.js'
import type {WalkthroughContext} from './walkthrough/context.js'
import type {DiscoveredAuth} from './walkthrough/discovered-auth.js'
import {configuredClientCredentials, defaultScopes, flagClientCredentials, resolveClientCredentials} from './walkthrough/token.js'
import {withResourceToken} from './walkthrough/tool.js'

type McpFlags = {
  'client-id'?: string
  'client-secret'?: string
  discover?: boolean
  issuer?: string
  scope?: string[]
  'no-cache'?: boolean
}

export interface AuthenticatedCall<T> {
  value: T
  /** How the token was obtained: the configured issuer, a discovery, or no token at all. */
  auth:
    | {mode: 'configured'; issuer: string; resource: string; clientId: string; tokenFromCache: boolean}
    | ({mode: 'discovered'} & DiscoveredAuth)
    | {mode: 'none'}
}

/**
 * Commands that call the MCP server with a token. Two ways to get it: the configured one (issuer,
 * resource and client from flags, environment or profile: the tier-02 walkthrough), or discovery
 * from the MCP server itself (`--discover`, implied by --client-id without --issuer).
 */
export abstract class McpCommand extends ConnectedCommand {
  static override baseFlags = {
    ...ConnectedCommand.baseFlags,
    ...traceFlags,
    discover: Flags.boolean({
      summary: 'Find the authorization server from the MCP server\'s 401 (RFC 9728) instead of the configured issuer.',
      description:
        'Calls without a token first; on 401 follows resource_metadata to the protected resource metadata, takes its authorization server, discovers that server\'s metadata and mints a client_credentials token with resource = the metadata\'s resource, byte for byte. A server that asks for no token is just called. With --issuer, the metadata must list that issuer. Implied by --client-id without --issuer.',
      helpGroup: 'AUTH',
    }),
    'client-id': Flags.string({
      summary: 'client_id of a client_credentials client (otherwise the saved client).',
      description: 'Without --issuer this implies --discover. Env AUTHPLANE_CLIENT_ID (with AUTHPLANE_CLIENT_SECRET).',
      helpGroup: 'AUTH',
    }),
    'client-secret': Flags.string({
      summary: 'Its client_secret (prefer AUTHPLANE_CLIENT_SECRET: flags show in the process list).',
      description: 'Sent with HTTP Basic authentication (client_secret_basic).',
      helpGroup: 'AUTH',
    }),
    scope: Flags.string({
      summary: 'Scope to request (repeatable).',
      description: 'Default: the saved client\'s scope; when discovering, the 401 challenge\'s scope, else the metadata\'s scopes_supported.',
      multiple: true,
      helpGroup: 'AUTH',
    }),
    'no-cache': Flags.boolean({summary: 'Mint a new token instead of using the cached one.', description: 'The new token is not cached either.', helpGroup: 'AUTH'}),
  }

  /** True when the token's issuer comes from the MCP server rather than from the settings. */
  protected discovering(flags: McpFlags): boolean {
    return Boolean(flags.discover) || (flags['client-id'] !== undefined && flags.issuer === undefined)
  }

  /** Runs `use` with a token for the MCP server, obtained the way the flags ask for. */
  protected async withMcpToken<T>(flags: McpFlags, ctx: WalkthroughContext, use: (accessToken: string | undefined, ctx: WalkthroughContext) => Promise<T>): Promise<AuthenticatedCall<T>> {
    const given = {clientId: flags['client-id'], clientSecret: flags['client-secret']}
    if (this.discovering(flags)) {
      const {withDiscoveredAuth} = await import('./walkthrough/discovered-auth.js')
      const outcome = await withDiscoveredAuth(
        ctx,
        {
          credentials: flagClientCredentials(given, this.env),
          configuredCredentials: configuredClientCredentials(ctx, this.env),
          expectedIssuer: flags.issuer,
          scopes: flags.scope,
          noCache: flags['no-cache'],
          onStep: (line) => this.note(chalk.dim(line)),
        },
        use,
      )
      if (outcome.minted?.audienceWarning && !outcome.minted.opaque) this.warnUser(outcome.minted.audienceWarning)
      return {value: outcome.value, auth: outcome.auth ? {mode: 'discovered', ...outcome.auth} : {mode: 'none'}}
    }
    const credentials = resolveClientCredentials(ctx, this.env, given)
    const scopes = flags.scope ?? defaultScopes(ctx, credentials)
    const {minted, value} = await withResourceToken(ctx, credentials, {scopes, resources: [ctx.resource], noCache: flags['no-cache']}, (m) => {
      if (m.audienceWarning) this.warnUser(m.audienceWarning)
      return use(m.token.accessToken, ctx)
    })
    return {value, auth: {mode: 'configured', issuer: ctx.issuer, resource: ctx.resource, clientId: credentials.clientId, tokenFromCache: minted.token.fromCache}}
  }
}
