import {Flags} from '@oclif/core'
import chalk from 'chalk'
import {join} from 'node:path'

import {BaseCommand} from '../../cli/base-command.js'
import {corsFlags, mcpPolicyFlags, mcpSessionFlags} from '../../cli/flags.js'
import {embeddedStackPlan} from '../../cli/stack-up-options.js'
import {describeNotice, renderDockerUp, renderStackUp, type DockerStackUpResult, type StackUpResult} from '../../cli/render/stack.js'
import {inputError, listenError} from '../../errors.js'
import {announcedOrigin} from '../../stack/announce.js'
import {waitForShutdownSignal} from '../../stack/signals.js'
import {MAX_REFRESH_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS} from '../../stack/types.js'
import {saveEndpoints, type Endpoints} from '../../walkthrough/context.js'
import {USER_PASSWORD_ENV} from '../../walkthrough/user.js'

/** The flags of the embedded stack; --docker takes none of them. Add an embedded-only flag here. */
const embeddedFlags = {
  host: Flags.string({summary: 'Interface to listen on.', description: 'Use 0.0.0.0 to accept connections from other hosts or containers.', default: '127.0.0.1'}),
  port: Flags.integer({summary: 'Public (issuer) port (0-65535).', description: '0 picks a free port.', default: 9000, min: 0, max: 65535}),
  'admin-port': Flags.integer({summary: 'Admin API port (0-65535).', description: '0 picks a free port.', default: 9001, min: 0, max: 65535}),
  'mcp-port': Flags.integer({summary: 'MCP server port (0-65535).', description: '0 picks a free port.', default: 8080, min: 0, max: 65535}),
  issuer: Flags.string({
    summary: 'Issuer string to announce.',
    description: 'Copied byte for byte into the metadata and every token `iss`. Default http://localhost:<port>. Clients must use exactly this string.',
  }),
  resource: Flags.string({
    summary: 'Audience the MCP server expects.',
    description: 'Default http://localhost:<mcp-port>/mcp, as in the tier-01 example.',
  }),
  'data-dir': Flags.string({summary: 'Directory for the database and keys.', description: 'Default: the stack folder in ap-demo\'s data directory.'}),
  memory: Flags.boolean({summary: 'Keep everything in memory.', description: 'Nothing is written to disk; all state is lost on exit.', exclusive: ['data-dir']}),
  'token-ttl': Flags.integer({summary: `Lifetime of client_credentials access tokens, in seconds (1-${MAX_TOKEN_TTL_SECONDS}).`, description: `AUTHPLANE_CLIENT_CREDENTIALS_TOKEN_EXPIRY; the real server's default is 3600; at most a day: a bearer token that lives longer is a standing credential. Tokens of signed-in users: --dcr-default-token-expiry.`, default: 3600, min: 1, max: MAX_TOKEN_TTL_SECONDS}),
  ...mcpSessionFlags,
  'mcp-allowed-host': Flags.string({
    summary: 'Another host[:port] the MCP server answers to (repeatable).',
    description: 'The MCP server refuses (403) requests whose Host or browser Origin names it otherwise (DNS-rebinding protection). Always accepted: localhost, 127.0.0.1 and [::1] with the MCP port, the --host address, and the host of --resource. See `ap-demo stack mcp --allowed-host`.',
    multiple: true,
  }),
  'rate-limit': Flags.boolean({
    summary: 'Limit requests per client address, as the real authserver does by default.',
    description: 'On by default (AUTHPLANE_RATE_LIMIT_ENABLED): a token bucket per client address on the public port; a refused request is 429 slow_down with Retry-After: 1. --no-rate-limit turns it off, e.g. for a load test from one machine.',
    allowNo: true,
    default: true,
    helpGroup: 'AUTHSERVER SETTINGS',
  }),
  'rate-limit-rps': Flags.integer({summary: 'Requests per second each client address may make (1-100000).', description: 'AUTHPLANE_RATE_LIMIT_RPS; the real server\'s default is 100.', default: 100, min: 1, max: 100_000, helpGroup: 'AUTHSERVER SETTINGS'}),
  'rate-limit-burst': Flags.integer({summary: 'Requests a client address may make at once before the rate applies (1-100000).', description: 'AUTHPLANE_RATE_LIMIT_BURST; the real server\'s default is 200.', default: 200, min: 1, max: 100_000, helpGroup: 'AUTHSERVER SETTINGS'}),
  'auth-fail-max': Flags.integer({summary: 'Failed logins that lock a login out (0-1000; 0 = no lockout).', description: 'AUTHPLANE_RATE_LIMIT_AUTH_FAIL_MAX, default 10: that many failed logins of one identity from one address within --auth-fail-window lock it for --auth-lockout. Applies to the browser login.', default: 10, min: 0, max: 1000, helpGroup: 'AUTHSERVER SETTINGS'}),
  'auth-fail-window': Flags.integer({summary: 'Seconds in which failed logins are counted (1-86400).', description: 'AUTHPLANE_RATE_LIMIT_AUTH_FAIL_WINDOW; default 600 (10 minutes), at most a day.', default: 600, min: 1, max: 86_400, helpGroup: 'AUTHSERVER SETTINGS'}),
  'auth-lockout': Flags.integer({summary: 'Seconds a locked-out login stays locked (1-86400).', description: 'AUTHPLANE_RATE_LIMIT_AUTH_LOCKOUT; default 900 (15 minutes), at most a day: a longer lockout only locks people out (and its Retry-After must stay a sane number).', default: 900, min: 1, max: 86_400, helpGroup: 'AUTHSERVER SETTINGS'}),
  'dpop-require-nonce': Flags.boolean({summary: 'Require a server nonce in every DPoP proof.', description: 'AUTHPLANE_DPOP_REQUIRE_NONCE: a proof without a nonce the server issued (in its DPoP-Nonce header) is refused with use_dpop_nonce.', helpGroup: 'AUTHSERVER SETTINGS'}),
  'dcr-mode': Flags.string({
    summary: 'Dynamic client registration policy.',
    description: 'AUTHPLANE_DCR_MODE: open (the default) lets anyone POST /oauth/register; admin_only refuses it (403). approved_redirects is not offered here (it needs a list of URIs).',
    options: ['open', 'admin_only'],
    default: 'open',
    helpGroup: 'AUTHSERVER SETTINGS',
  }),
  'require-scope': Flags.boolean({
    summary: 'Refuse an authorization request without scope, as the real server does by default.',
    description: 'AUTHPLANE_OAUTH_REQUIRE_SCOPE (oauth.require_scope), on by default: /oauth/authorize without a scope parameter sends the client back with invalid_scope. --no-require-scope proposes the resource\'s scopes instead, for MCP clients that omit scope.',
    allowNo: true,
    default: true,
    helpGroup: 'AUTHSERVER SETTINGS',
  }),
  'dcr-default-token-expiry': Flags.integer({summary: `Lifetime of signed-in users' access tokens, in seconds (1-${MAX_TOKEN_TTL_SECONDS}).`, description: `AUTHPLANE_DCR_DEFAULT_TOKEN_EXPIRY: access tokens of the authorization code and refresh grants; the real server's default is 900 (15 minutes).`, default: 900, min: 1, max: MAX_TOKEN_TTL_SECONDS, helpGroup: 'AUTHSERVER SETTINGS'}),
  'dcr-default-refresh-expiry': Flags.integer({summary: `Lifetime of refresh tokens, in seconds (1-${MAX_REFRESH_TTL_SECONDS}).`, description: `AUTHPLANE_DCR_DEFAULT_REFRESH_EXPIRY; the real server's default is 604800 (7 days); at most 90 days.`, default: 604_800, min: 1, max: MAX_REFRESH_TTL_SECONDS, helpGroup: 'AUTHSERVER SETTINGS'}),
  cimd: Flags.boolean({summary: 'Accept Client ID Metadata Document URLs as client ids.', description: 'AUTHPLANE_CIMD_ENABLED, on by default: an https client_id URL is fetched, validated and registered on first use, and the metadata announces client_id_metadata_document_supported.', allowNo: true, default: true, helpGroup: 'AUTHSERVER SETTINGS'}),
  'cimd-require-https': Flags.boolean({summary: 'Fetch metadata documents over https only.', description: 'AUTHPLANE_CIMD_REQUIRE_HTTPS, on by default. --no-cimd-require-https allows http documents, for local testing; refused with an issuer that is not localhost.', allowNo: true, default: true, helpGroup: 'AUTHSERVER SETTINGS'}),
  'cimd-allow-private-addresses': Flags.boolean({summary: 'Fetch metadata documents from loopback and private addresses too.', description: 'AUTHPLANE_CIMD_ALLOW_PRIVATE_ADDRESSES, off by default: a document on 127.0.0.1, localhost or a private network is refused. For local testing only; refused with an issuer that is not localhost.', helpGroup: 'AUTHSERVER SETTINGS'}),
  ...mcpPolicyFlags,
  user: Flags.string({
    summary: 'Email of a local user to create (or keep) for the login page.',
    description: `Interactive MCP clients (the MCP Inspector, Claude, Cursor) send a person to the login page; this is who signs in. The password comes from ${USER_PASSWORD_ENV}, or is generated and printed once. A user that already exists is kept as it is, password included. More users: ap-demo setup user.`,
  }),
  ...corsFlags,
}

export default class StackUp extends BaseCommand {
  static override summary = 'Run the embedded Authplane-compatible server and the tier-01 MCP server (or, with --docker, the real authserver in Docker).'

  static override description = `Starts, in the foreground and in one process, an authorization server that behaves like Authplane's authserver (public port: metadata, JWKS, token, introspection, revocation, health; admin port: the /admin API) and the tier-01 MCP echo server protected by it. The tier-02 curl walkthrough works against it unchanged.

Data (SQLite database, signing key, admin key) is kept in --data-dir, so resources, clients and tokens survive a restart. The admin key comes from AUTHPLANE_ADMIN_API_KEY, or is generated once and kept (mode 0600) in the data directory.

Stop it with Ctrl-C (SIGINT) or SIGTERM: sessions and the database are closed cleanly.

With --docker it instead runs \`docker compose up -d\` on the docker-compose.yml of ap-demo's checkout (the real authplane/authserver image and this tier-01 MCP server in a container), with --env-file ./.env when that file exists (else the .env next to the compose file). It then waits up to --timeout seconds for the issuer's metadata (announcing exactly AUTHPLANE_ISSUER) and for the MCP server to refuse a request without a token (401), checks that the MCP server expects AUTHPLANE_RESOURCE and trusts that issuer, saves the endpoints and the admin key into the profile, and returns: the containers keep running. The URLs come from the environment, then that env file (AUTHPLANE_ISSUER, ADMIN_URL, MCP_URL, AUTHPLANE_RESOURCE, AUTHPLANE_ADMIN_API_KEY), else the compose file's defaults. Stop it with \`ap-demo stack down --docker\`.`

  static override examples = [
    {description: 'Start on the default ports 9000 (issuer), 9001 (admin) and 8080 (MCP):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Use the admin key of the Authplane examples:', command: 'AUTHPLANE_ADMIN_API_KEY=dev-admin-key-change-me <%= config.bin %> <%= command.id %>'},
    {description: 'Announce the issuer a Docker network would use, listening on every interface:', command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --issuer http://authserver:9000'},
    {description: 'Throwaway stack on free ports, nothing written to disk:', command: '<%= config.bin %> <%= command.id %> --port 0 --admin-port 0 --mcp-port 0 --memory'},
    {description: 'Tier 03: the MCP server takes DPoP-bound tokens only, and whoami needs its own scope:', command: '<%= config.bin %> <%= command.id %> --mcp-dpop required --tool-scope whoami=mcp:whoami'},
    {description: 'The real authplane/authserver and the MCP server in Docker, configured by ./.env:', command: 'cp .env.example .env && <%= config.bin %> <%= command.id %> --docker'},
  ]

  static override flags = {
    ...embeddedFlags,
    profile: Flags.string({summary: 'Profile to save the endpoints and admin key in.', description: 'Default: the active profile. Then `ap-demo setup ...`, `token mint` and `mcp call` need no flags.'}),
    'no-save': Flags.boolean({summary: 'Do not write the endpoints and admin key into the profile.', description: 'Other commands then need flags or environment variables to find this stack.'}),
    docker: Flags.boolean({
      summary: 'Run the real authserver in Docker (docker compose up -d).',
      description: 'Needs Docker with the Compose v2 plugin and a running engine; without them it fails with one line (exit 7: docker or its compose plugin missing; exit 4: no engine answers).',
      exclusive: Object.keys(embeddedFlags),
    }),
    timeout: Flags.integer({summary: 'Seconds to wait for the Docker stack to answer (1-3600; with --docker).', description: 'Default 120. Counted from the end of `docker compose up -d` (image pulls and builds are not included).', min: 1, max: 3600, dependsOn: ['docker']}),
  }

  async run(): Promise<undefined> {
    const {flags} = await this.parse(StackUp)
    if (flags.docker) return this.upDocker(flags)
    const dataDir = flags.memory ? undefined : (flags['data-dir'] ?? join(this.config.dataDir, 'stack'))
    const {options, policy, envKey, user} = embeddedStackPlan(flags, dataDir, (name) => this.env.get(name))
    const {startStack, ADMIN_KEY_FILE} = await import('../../stack/index.js')
    let stack
    try {
      stack = await startStack(options)
    } catch (error) {
      throw listenError(error, 'cannot start the stack')
    }
    let stackUser: StackUpResult['user'] = null
    if (user) {
      try {
        const {created} = await stack.authServer.ensureUser(user.email, user.password)
        // Shown once, and only when ap-demo made it up: nothing else keeps it.
        stackUser = {email: user.email, created, password: created && user.generated ? user.password : null, passwordSource: user.generated ? 'generated' : `env ${USER_PASSWORD_ENV}`}
      } catch (error) {
        await stack.stop()
        throw inputError(`cannot create the user ${user.email}: ${(error as Error).message}`, `Check --user and ${USER_PASSWORD_ENV}.`)
      }
    }

    // On a loopback or wildcard bind, other programs reach the servers as localhost, like the issuer.
    const adminUrl = announcedOrigin(flags.host, flags['admin-port']) ?? stack.adminUrl
    const mcpUrl = flags['mcp-port'] === 0 ? stack.mcpUrl : `${announcedOrigin(flags.host, flags['mcp-port'])}/mcp`
    const savedTo = this.save(flags, {issuer: stack.issuer, adminUrl, mcpUrl, resource: stack.resource, adminKey: stack.adminKey, startedBy: 'stack up'})
    const keyFile = dataDir ? join(dataDir, ADMIN_KEY_FILE) : undefined
    const result: StackUpResult = {
      issuer: stack.issuer,
      publicUrl: stack.publicUrl,
      adminUrl,
      mcpUrl,
      resource: stack.resource,
      mcpDpop: policy.dpop,
      mcpDpopNonce: policy.dpopNonce,
      toolScopes: policy.toolScopes,
      mcpProtocol: policy.protocol,
      dataDir: dataDir ?? null,
      adminKeySource: envKey ? 'env AUTHPLANE_ADMIN_API_KEY' : (keyFile ?? 'memory'),
      profile: savedTo,
      store: savedTo ? this.store.path : null,
      notices: stack.notices,
      user: stackUser,
    }
    // A long-running command: the result is printed now, not when it returns.
    if (this.jsonEnabled()) this.logJson(this.toSuccessJson(result))
    for (const notice of stack.notices) this.warnUser(...describeNotice(notice))
    const keyHowTo = envKey ? 'from AUTHPLANE_ADMIN_API_KEY' : keyFile ? `export AUTHPLANE_ADMIN_API_KEY=$(cat ${keyFile})` : '(in memory only; set AUTHPLANE_ADMIN_API_KEY to choose it)'
    this.display(renderStackUp(result, keyHowTo))
    this.note(chalk.dim('Press Ctrl-C to stop.'))

    const signal = await waitForShutdownSignal()
    this.note(chalk.dim(`${signal}: stopping...`))
    await stack.stop()
    this.note(chalk.dim('stopped'))
    return undefined
  }

  /** Points the profile at the running stack, unless --no-save; returns the profile's name. */
  private save(flags: {profile?: string; 'no-save': boolean}, endpoints: Endpoints & {adminKey: string; startedBy: string}): string | null {
    if (flags['no-save']) return null
    const profile = this.profileName(flags.profile)
    saveEndpoints(this.store, profile, endpoints)
    return profile
  }

  private async upDocker(flags: {profile?: string; 'no-save': boolean; timeout?: number}): Promise<undefined> {
    const {startDockerStack} = await import('../../docker/stack.js')
    const {adminKey, ...up} = await startDockerStack(this.config.root, {
      timeoutMs: (flags.timeout ?? 120) * 1000,
      showProgress: !this.jsonEnabled(),
      onProgress: (message) => this.note(chalk.dim(message)),
    })
    const savedTo = this.save(flags, {...up, adminKey, startedBy: 'stack up --docker'})
    const result: DockerStackUpResult = {...up, profile: savedTo, store: savedTo ? this.store.path : null}
    if (this.jsonEnabled()) this.logJson(this.toSuccessJson(result))
    this.display(renderDockerUp(result))
    this.note(chalk.dim('Next: ap-demo verify. Stop it with: ap-demo stack down --docker (--volumes also deletes its data).'))
    return undefined
  }
}
