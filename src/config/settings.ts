import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseEnv} from 'node:util'

import {ConfigError, inputError} from '../errors.js'
import type {Profile} from './store.js'

/** Where a setting's value came from, shown by `ap-demo config show`. */
export type SettingSource = 'flag' | 'env' | '.env' | 'profile' | 'default' | 'unset'

export interface Setting {
  value: string | undefined
  source: SettingSource
  /** The variable or flag it came from, when that helps (e.g. AUTHPLANE_ISSUER). */
  from?: string
}

/** The connection settings every command shares. */
export interface ConnectionSettings {
  profile: string
  issuer: Setting
  adminUrl: Setting
  adminKey: Setting
  mcpUrl: Setting
  resource: Setting
  /**
   * --mcp-url names another MCP server than the profile's, and no resource was given for it: the
   * audience is not known here, and `mcp call` / `mcp tools` discover it from the server.
   */
  otherServer?: true
}

export const DEFAULTS = {
  issuer: 'http://localhost:9000',
  adminUrl: 'http://localhost:9001',
  mcpUrl: 'http://localhost:8080/mcp',
} as const

export const ENV = {
  issuer: 'AUTHPLANE_ISSUER',
  adminUrl: 'ADMIN_URL',
  adminKey: 'AUTHPLANE_ADMIN_API_KEY',
  mcpUrl: 'MCP_URL',
  resource: 'AUTHPLANE_RESOURCE',
  profile: 'AP_DEMO_PROFILE',
  echoText: 'ECHO_TEXT',
  clientId: 'AUTHPLANE_CLIENT_ID',
  clientSecret: 'AUTHPLANE_CLIENT_SECRET',
} as const

/**
 * The environment as the original example sees it after `set -a; source .env`: the process
 * environment, plus the variables of `./.env` that the environment does not already set (a value
 * exported in the shell wins, as with dotenv).
 */
export class Environment {
  private readonly dotenv: Record<string, string>

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    cwd: string = process.cwd(),
  ) {
    const file = join(cwd, '.env')
    this.dotenv = {}
    if (existsSync(file)) {
      try {
        this.dotenv = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
      } catch (error) {
        throw new ConfigError('dotenv_unreadable', `cannot read ${file}: ${(error as Error).message}`, {
          hint: 'Fix the .env file (KEY=value lines) or move it away.',
        })
      }
    }
  }

  lookup(name: string): {value: string; source: 'env' | '.env'} | undefined {
    const fromEnv = this.env[name]
    if (fromEnv !== undefined && fromEnv !== '') return {value: fromEnv, source: 'env'}
    const fromFile = this.dotenv[name]
    if (fromFile !== undefined && fromFile !== '') return {value: fromFile, source: '.env'}
    return undefined
  }

  get(name: string): string | undefined {
    return this.lookup(name)?.value
  }
}

function pick(flag: string | undefined, flagName: string, envName: string, env: Environment, profileValue: string | undefined, fallback: string | undefined): Setting {
  // `--admin-key ''` (an unset shell variable) must not quietly fall back to the profile's key.
  if (flag !== undefined && flag.trim() === '') throw inputError(`--${flagName} is empty`, `Give a value, or leave the flag out to use ${envName} or the profile.`)
  if (flag !== undefined) return {value: flag, source: 'flag', from: `--${flagName}`}
  const fromEnv = env.lookup(envName)
  if (fromEnv) return {value: fromEnv.value, source: fromEnv.source, from: envName}
  if (profileValue !== undefined && profileValue !== '') return {value: profileValue, source: 'profile'}
  if (fallback !== undefined) return {value: fallback, source: 'default'}
  return {value: undefined, source: 'unset'}
}

export interface ConnectionFlags {
  issuer?: string
  'admin-url'?: string
  'admin-key'?: string
  'mcp-url'?: string
  resource?: string
}

/** Precedence: flag > environment (then ./.env) > profile > default. */
export function resolveConnection(profileName: string, flags: ConnectionFlags, env: Environment, profile: Profile): ConnectionSettings {
  const mcpUrl = pick(flags['mcp-url'], 'mcp-url', ENV.mcpUrl, env, profile.mcpUrl, DEFAULTS.mcpUrl)
  // The profile's resource is the audience of the MCP server the profile works with (the MCP URL in
  // effect without --mcp-url), once the profile has one. --mcp-url naming another server leaves that audience behind: a call
  // there must not carry a token for the first server (issue 18). Its audience is then --resource
  // or AUTHPLANE_RESOURCE, else unknown here: the MCP commands find it from the server (RFC 9728).
  const usual = pick(undefined, 'mcp-url', ENV.mcpUrl, env, profile.mcpUrl, DEFAULTS.mcpUrl).value
  const paired = profile.mcpUrl !== undefined || profile.resourceUri !== undefined
  const otherServer = paired && mcpUrl.source === 'flag' && mcpUrl.value !== usual
  const resource = pick(flags.resource, 'resource', ENV.resource, env, otherServer ? undefined : profile.resourceUri, undefined)
  return {
    profile: profileName,
    issuer: pick(flags.issuer, 'issuer', ENV.issuer, env, profile.issuer, DEFAULTS.issuer),
    adminUrl: pick(flags['admin-url'], 'admin-url', ENV.adminUrl, env, profile.adminUrl, DEFAULTS.adminUrl),
    adminKey: pick(flags['admin-key'], 'admin-key', ENV.adminKey, env, profile.adminKey, undefined),
    mcpUrl,
    // RFC 8707: by default the audience is the MCP server's own URL, as in tier 01.
    resource: resource.value === undefined ? {value: mcpUrl.value, source: 'default', from: 'the MCP URL'} : resource,
    ...(otherServer && resource.value === undefined ? {otherServer: true} : {}),
  }
}

/** Shows the start and end of a secret, enough to tell two apart, never enough to use one. */
export function maskSecret(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined
  if (secret.length < 16) return `**** (${secret.length} chars)`
  return `****${secret.slice(-2)} (${secret.length} chars)`
}
