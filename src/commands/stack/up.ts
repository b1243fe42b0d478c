import {Flags} from '@oclif/core'
import chalk from 'chalk'
import {join} from 'node:path'

import {BaseCommand} from '../../base-command.js'
import {ApDemoError, ExitCode, listenError} from '../../errors.js'
import {requireAbsoluteUrl} from '../../http/url.js'
import {announcedOrigin, weakAdminKeyReason} from '../../stack/announce.js'
import {waitForShutdownSignal} from '../../stack/signals.js'

export default class StackUp extends BaseCommand {
  static override summary = 'Run the embedded Authplane-compatible server and the tier-01 MCP server.'

  static override description = `Starts, in the foreground and in one process, an authorization server that behaves like Authplane's authserver (public port: metadata, JWKS, token, introspection, revocation, health; admin port: the /admin API) and the tier-01 MCP echo server protected by it. The tier-02 curl walkthrough works against it unchanged.

Data (SQLite database, signing key, admin key) is kept in --data-dir, so resources, clients and tokens survive a restart. The admin key comes from AUTHPLANE_ADMIN_API_KEY, or is generated once and kept (mode 0600) in the data directory.

Stop it with Ctrl-C (SIGINT) or SIGTERM: sessions and the database are closed cleanly.`

  static override examples = [
    {description: 'Start on the default ports 9000 (issuer), 9001 (admin) and 8080 (MCP):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Use the admin key of the Authplane examples:', command: 'AUTHPLANE_ADMIN_API_KEY=dev-admin-key-change-me <%= config.bin %> <%= command.id %>'},
    {description: 'Announce the issuer a Docker network would use, listening on every interface:', command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --issuer http://authserver:9000'},
    {description: 'Throwaway stack on free ports, nothing written to disk:', command: '<%= config.bin %> <%= command.id %> --port 0 --admin-port 0 --mcp-port 0 --memory'},
  ]

  static override flags = {
    host: Flags.string({summary: 'Interface to listen on.', description: 'Use 0.0.0.0 to accept connections from other hosts or containers.', default: '127.0.0.1'}),
    port: Flags.integer({summary: 'Public (issuer) port.', description: '0 picks a free port.', default: 9000, min: 0, max: 65535}),
    'admin-port': Flags.integer({summary: 'Admin API port.', description: '0 picks a free port.', default: 9001, min: 0, max: 65535}),
    'mcp-port': Flags.integer({summary: 'MCP server port.', description: '0 picks a free port.', default: 8080, min: 0, max: 65535}),
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
    profile: Flags.string({summary: 'Profile to save the endpoints and admin key in.', description: 'Default: the active profile. Then `ap-demo setup ...`, `token mint` and `mcp call` need no flags.'}),
    'no-save': Flags.boolean({summary: 'Do not write the endpoints and admin key into the profile.', description: 'Other commands then need flags or environment variables to find this stack.'}),
    'token-ttl': Flags.integer({summary: 'Access-token lifetime in seconds.', description: 'The real server\'s default is 3600.', default: 3600, min: 1}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(StackUp)
    const dataDir = flags.memory ? undefined : (flags['data-dir'] ?? join(this.config.dataDir, 'stack'))
    const issuer = flags.issuer ?? announcedOrigin(flags.host, flags.port)
    const resource = flags.resource ?? (flags['mcp-port'] === 0 ? undefined : `${announcedOrigin(flags.host, flags['mcp-port'])}/mcp`)
    for (const [name, value] of [['--issuer', issuer], ['--resource', resource]] as const) {
      if (value !== undefined) requireAbsoluteUrl(value, name)
    }
    const envKey = process.env.AUTHPLANE_ADMIN_API_KEY?.trim() || undefined
    if (envKey && issuer) {
      const reason = weakAdminKeyReason(issuer, envKey)
      if (reason) throw new ApDemoError('weak_admin_key', `refusing to start: ${reason}`, {exitCode: ExitCode.USAGE, hint: 'Set AUTHPLANE_ADMIN_API_KEY to a random value of 16+ characters (or unset it to have one generated).'})
    }

    const {startStack, ADMIN_KEY_FILE} = await import('../../stack/index.js')
    let stack
    try {
      stack = await startStack({
        host: flags.host,
        port: flags.port,
        adminPort: flags['admin-port'],
        mcpPort: flags['mcp-port'],
        issuer,
        resource,
        adminKey: envKey,
        dataDir,
        tokenTtlSeconds: flags['token-ttl'],
      })
    } catch (error) {
      throw listenError(error, 'cannot start the stack')
    }

    // On a loopback or wildcard bind, other programs reach the servers as localhost, like the issuer.
    const adminUrl = announcedOrigin(flags.host, flags['admin-port']) ?? stack.adminUrl
    const mcpUrl = flags['mcp-port'] === 0 ? stack.mcpUrl : `${announcedOrigin(flags.host, flags['mcp-port'])}/mcp`
    let savedTo: string | null = null
    if (!flags['no-save']) {
      savedTo = this.profileName(flags.profile)
      this.store.updateProfile(savedTo, (p) => {
        p.issuer = stack.issuer
        p.adminUrl = adminUrl
        p.mcpUrl = mcpUrl
        p.resourceUri = stack.resource
        p.adminKey = stack.adminKey
      })
    }
    const keySource = envKey ? 'env AUTHPLANE_ADMIN_API_KEY' : dataDir ? join(dataDir, ADMIN_KEY_FILE) : 'memory'
    const info = {
      issuer: stack.issuer,
      publicUrl: stack.publicUrl,
      adminUrl,
      mcpUrl,
      resource: stack.resource,
      dataDir: dataDir ?? null,
      adminKeySource: keySource,
      profile: savedTo,
      store: savedTo ? this.store.path : null,
    }
    if (this.jsonEnabled()) {
      this.logJson(this.toSuccessJson(info))
    } else {
      const keyHowTo = envKey
        ? 'from AUTHPLANE_ADMIN_API_KEY'
        : dataDir
          ? `export AUTHPLANE_ADMIN_API_KEY=$(cat ${join(dataDir, ADMIN_KEY_FILE)})`
          : '(in memory only; set AUTHPLANE_ADMIN_API_KEY to choose it)'
      this.log(`${chalk.bold('Authplane-compatible stack running')}
  issuer     ${stack.issuer}${stack.publicUrl === stack.issuer ? '' : `  (listening at ${stack.publicUrl})`}
  admin API  ${adminUrl}/admin
  MCP server ${mcpUrl}  (audience ${stack.resource})
  admin key  ${keyHowTo}
  data       ${dataDir ?? 'in memory'}
  profile    ${savedTo ? `"${savedTo}" now points here (${this.store.path})` : 'not saved (--no-save)'}`)
      this.note(chalk.dim('Press Ctrl-C to stop.'))
    }

    const signal = await waitForShutdownSignal()
    this.note(chalk.dim(`${signal}: stopping...`))
    await stack.stop()
    this.note(chalk.dim('stopped'))
    return undefined
  }
}
