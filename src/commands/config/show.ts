import chalk from 'chalk'

import {ConnectedCommand} from '../../connected-command.js'
import {maskSecret, type Setting} from '../../config/settings.js'

export default class ConfigShow extends ConnectedCommand {
  static override summary = 'Show the settings in effect and where each one came from.'

  static override description = 'Resolves every connection setting with the precedence flag > environment (then ./.env) > profile > default and prints its value and source, then what the profile holds (resource, client, cached tokens). Secrets are masked.'

  static override examples = [
    {description: 'What will the next command use?', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Another profile, as JSON:', command: '<%= config.bin %> <%= command.id %> --profile staging --json'},
  ]

  async run(): Promise<unknown> {
    const {flags} = await this.parse(ConfigShow)
    const settings = this.connection(flags)
    const profile = this.store.getProfile(settings.profile)
    const show = (s: Setting, secret = false) => ({value: secret ? (maskSecret(s.value) ?? null) : (s.value ?? null), source: s.source, from: s.from ?? null})
    const effective = {
      issuer: show(settings.issuer),
      adminUrl: show(settings.adminUrl),
      adminKey: show(settings.adminKey, true),
      mcpUrl: show(settings.mcpUrl),
      resource: show(settings.resource),
    }
    const now = Date.now()
    const tokens = Object.values(profile.tokens ?? {}).filter((t) => t.expiresAt > now)
    const result = {
      profile: settings.profile,
      store: this.store.path,
      settings: effective,
      resource: profile.resource ?? null,
      client: profile.client ? {...profile.client, secret: maskSecret(profile.client.secret)} : null,
      cachedTokens: tokens.length,
    }
    this.log(`${chalk.bold('profile')} ${settings.profile}   ${chalk.dim(this.store.path)}`)
    for (const [name, s] of Object.entries(effective)) {
      this.log(`  ${name.padEnd(9)} ${String(s.value ?? chalk.dim('(not set)')).padEnd(40)} ${chalk.dim(`${s.source}${s.from ? ` (${s.from})` : ''}`)}`)
    }
    this.log(chalk.bold('saved'))
    this.log(`  resource  ${profile.resource ? `${profile.resource.slug} ${profile.resource.uri} [${profile.resource.scopes.map((x) => x.name).join(' ')}] id ${profile.resource.id}` : chalk.dim('(none: ap-demo setup resource)')}`)
    this.log(`  client    ${profile.client ? `${profile.client.name} ${profile.client.id} scope "${profile.client.scope}" secret ${maskSecret(profile.client.secret)}` : chalk.dim('(none: ap-demo setup client)')}`)
    this.log(`  tokens    ${tokens.length} cached`)
    return result
  }
}
