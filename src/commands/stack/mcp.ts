import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {BaseCommand} from '../../cli/base-command.js'
import {corsFlags, mcpPolicyFlags, mcpSessionFlags} from '../../cli/flags.js'
import {corsOrigins, mcpPolicy} from '../../cli/mcp-policy.js'
import {renderStackMcp, type StackMcpResult} from '../../cli/render/stack.js'
import {inputError, listenError} from '../../errors.js'
import {requireAbsoluteUrl} from '../../http/url.js'
import {announcedOrigin} from '../../stack/announce.js'
import {normalizeAuthority} from '../../stack/mcp-server/host-guard.js'
import {waitForShutdownSignal} from '../../stack/signals.js'
import {printable, scopeTokenProblem} from '../../walkthrough/scope.js'

export default class StackMcp extends BaseCommand {
  static override summary = 'Run only the tier-01 MCP echo server, against any Authplane issuer.'

  static override description = `Starts the tier-01 MCP server (streamable HTTP at /mcp, tool "echo") protected by tokens from the given issuer, for example a real authplane/authserver container. It discovers the issuer's metadata and JWKS lazily, so it may start before the issuer is up (requests get 503 until then).

Tokens must carry exactly --issuer as iss, contain --resource in aud, and grant the scope mcp:echo. Tier 03: --mcp-dpop makes it take DPoP-bound tokens (RFC 9449), --tool-scope makes a tool need a scope of its own (docs/dpop.md).`

  static override examples = [
    {description: 'Protect the echo server with a real Authplane on localhost:9000:', command: '<%= config.bin %> <%= command.id %> --issuer http://localhost:9000 --resource http://localhost:8080/mcp'},
    {description: 'Issuer announced as http://authserver:9000 but reachable at localhost:9000:', command: '<%= config.bin %> <%= command.id %> --issuer http://authserver:9000 --issuer-fetch-url http://localhost:9000'},
    {description: 'Tier 03: DPoP-bound tokens only, and the whoami tool needs mcp:whoami:', command: '<%= config.bin %> <%= command.id %> --mcp-dpop required --tool-scope whoami=mcp:whoami'},
    {description: 'In a container, also reachable from other containers as mcp-server:8080:', command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --resource http://localhost:8080/mcp --allowed-host mcp-server:8080'},
  ]

  static override flags = {
    issuer: Flags.string({summary: 'Issuer the tokens must carry (exact string).', description: 'Its RFC 8414 metadata and JWKS are fetched from it (or from --issuer-fetch-url).', env: 'AUTHPLANE_ISSUER', default: 'http://localhost:9000'}),
    'issuer-fetch-url': Flags.string({summary: 'Where to fetch the issuer metadata when the issuer host is not reachable from here.', description: 'Default: the issuer itself.'}),
    resource: Flags.string({summary: 'Audience the server expects.', description: 'Default http://localhost:<port>/mcp.', env: 'AUTHPLANE_RESOURCE'}),
    scope: Flags.string({summary: 'Scope the echo tool requires.', description: 'Tokens without it get 403 insufficient_scope.', default: 'mcp:echo'}),
    host: Flags.string({summary: 'Interface to listen on.', description: 'Use 0.0.0.0 to accept connections from other hosts or containers.', default: '127.0.0.1'}),
    port: Flags.integer({summary: 'Port to listen on.', description: '0 picks a free port.', default: 8080, min: 0, max: 65535, env: 'PORT'}),
    'allowed-host': Flags.string({
      summary: 'Another host[:port] clients may name in the Host header (repeatable).',
      description: 'DNS-rebinding protection: requests whose Host (or browser Origin) names this server otherwise are refused with 403. Always accepted: localhost, 127.0.0.1 and [::1] with the listening port, the --host address with that port, and the host of --resource. Add the names a 0.0.0.0 server is reached by, e.g. a container name (mcp-server:8080) or a remapped port.',
      multiple: true,
    }),
    ...mcpSessionFlags,
    ...mcpPolicyFlags,
    ...corsFlags,
  }

  async run(): Promise<undefined> {
    const {flags} = await this.parse(StackMcp)
    for (const [name, value] of [['--issuer', flags.issuer], ['--resource', flags.resource], ['--issuer-fetch-url', flags['issuer-fetch-url']]] as const) {
      if (value !== undefined) requireAbsoluteUrl(value, name)
    }
    for (const entry of flags['allowed-host'] ?? []) {
      if (normalizeAuthority(entry.trim()) === undefined) throw inputError(`--allowed-host "${entry}" is not a host[:port]`, 'Example: --allowed-host mcp-server:8080')
    }
    const scopeProblem = scopeTokenProblem(flags.scope)
    if (scopeProblem) throw inputError(`--scope "${printable(flags.scope)}" is not usable: ${scopeProblem}`, 'One scope token, e.g. mcp:echo (RFC 6749 §3.3).')
    const policy = mcpPolicy(flags)
    const cors = corsOrigins(flags['cors-origin'])
    const resource = flags.resource ?? (flags.port === 0 ? undefined : `${announcedOrigin(flags.host, flags.port)}/mcp`)
    const {startMcpServer} = await import('../../stack/mcp-server/index.js')
    let server
    try {
      server = await startMcpServer({
        host: flags.host,
        port: flags.port,
        issuer: flags.issuer,
        issuerFetchUrl: flags['issuer-fetch-url'],
        resource,
        requiredScope: flags.scope,
        allowedHosts: flags['allowed-host'],
        maxSessions: flags['max-sessions'],
        dpop: policy.dpop,
        dpopNonce: policy.dpopNonce,
        toolScopes: policy.toolScopes,
        corsOrigins: cors,
        protocol: policy.protocol,
      })
    } catch (error) {
      throw listenError(error, 'cannot start the MCP server')
    }
    const result: StackMcpResult = {mcpUrl: server.url, resource: server.resource, resourceMetadataUrl: server.resourceMetadataUrl, issuer: flags.issuer, mcpDpop: policy.dpop, mcpDpopNonce: policy.dpopNonce, toolScopes: policy.toolScopes, mcpProtocol: policy.protocol}
    // A long-running command: the result is printed now, not when it returns.
    if (this.jsonEnabled()) this.logJson(this.toSuccessJson(result))
    this.display(renderStackMcp(result))
    this.note(chalk.dim('Press Ctrl-C to stop.'))
    const signal = await waitForShutdownSignal()
    this.note(chalk.dim(`${signal}: stopping...`))
    await server.stop()
    return undefined
  }
}
