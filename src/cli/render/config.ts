import chalk from 'chalk'

import {maskSecret, type ConnectionSettings, type Setting} from '../../config/settings.js'
import type {Profile} from '../../config/store.js'

export interface ShownSetting {
  value: string | null
  source: Setting['source']
  from: string | null
}

export interface ConfigShowResult {
  profile: string
  store: string
  settings: {issuer: ShownSetting; adminUrl: ShownSetting; adminKey: ShownSetting; mcpUrl: ShownSetting; resource: ShownSetting}
  resource: Profile['resource'] | null
  /** Resources registered for other MCP servers: not current (setup resource --use switches). */
  otherResources: NonNullable<Profile['otherResources']>
  client: (Omit<NonNullable<Profile['client']>, 'secret'> & {secret: string | undefined}) | null
  cachedTokens: number
  /** The profile's DPoP key: its algorithm and thumbprint, never the private key. */
  dpopKey: {alg: string; thumbprint: string; createdAt: string} | null
}

export interface ConfigListResult {
  active: string
  profiles: Array<{name: string; active: boolean; issuer: string | null; clientId: string | null; resource: string | null}>
}

/** The settings in effect, secrets masked, and what the profile holds. */
export function configShow(settings: ConnectionSettings, profile: Profile, store: string): ConfigShowResult {
  const show = (s: Setting, secret = false): ShownSetting => ({value: secret ? (maskSecret(s.value) ?? null) : (s.value ?? null), source: s.source, from: s.from ?? null})
  const now = Date.now()
  return {
    profile: settings.profile,
    store,
    settings: {
      issuer: show(settings.issuer),
      adminUrl: show(settings.adminUrl),
      adminKey: show(settings.adminKey, true),
      mcpUrl: show(settings.mcpUrl),
      resource: show(settings.resource),
    },
    resource: profile.resource ?? null,
    otherResources: profile.otherResources ?? [],
    client: profile.client ? {...profile.client, secret: maskSecret(profile.client.secret)} : null,
    cachedTokens: Object.values(profile.tokens ?? {}).filter((t) => t.expiresAt > now).length,
    dpopKey: profile.dpopKey ? {alg: profile.dpopKey.alg, thumbprint: profile.dpopKey.thumbprint, createdAt: profile.dpopKey.createdAt} : null,
  }
}

export function renderConfigShow(r: ConfigShowResult): string[] {
  const lines = [`${chalk.bold('profile')} ${r.profile}   ${chalk.dim(r.store)}`]
  for (const [name, s] of Object.entries(r.settings)) {
    lines.push(`  ${name.padEnd(9)} ${String(s.value ?? chalk.dim('(not set)')).padEnd(40)} ${chalk.dim(`${s.source}${s.from ? ` (${s.from})` : ''}`)}`)
  }
  lines.push(chalk.bold('saved'))
  const res = r.resource
  lines.push(`  resource  ${res ? `${res.slug} ${res.uri} [${res.scopes.map((x) => x.name).join(' ')}] id ${res.id}` : chalk.dim('(none: ap-demo setup resource)')}`)
  for (const other of r.otherResources) {
    lines.push(`  other     ${other.slug} ${other.uri} ${chalk.dim(`not current; switch: ap-demo setup resource --slug ${other.slug} --uri ${other.uri} --use`)}`)
  }
  lines.push(`  client    ${r.client ? `${r.client.name} ${r.client.id} scope "${r.client.scope}" secret ${r.client.secret}` : chalk.dim('(none: ap-demo setup client)')}`)
  lines.push(`  tokens    ${r.cachedTokens} cached`)
  lines.push(`  dpop key  ${r.dpopKey ? `${r.dpopKey.alg}, thumbprint ${r.dpopKey.thumbprint} (the cnf.jkt of tokens minted with --dpop)` : chalk.dim('(none yet: created by the first --dpop)')}`)
  return lines
}

export function renderConfigList(r: ConfigListResult): string[] {
  return r.profiles.map((p) => `${p.active ? chalk.green('*') : ' '} ${p.name.padEnd(16)} ${chalk.dim(`issuer ${p.issuer ?? '(default)'}  client ${p.clientId ?? '(none)'}`)}`)
}
