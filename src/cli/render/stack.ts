import chalk from 'chalk'

import type {DockerUpResult} from '../../docker/stack.js'
import {renderStackUser} from './user.js'

export interface StackUpResult {
  issuer: string
  publicUrl: string
  adminUrl: string
  mcpUrl: string
  resource: string
  /** Tier 03: the MCP server's DPoP mode, nonces and per-tool scopes. */
  mcpDpop: 'off' | 'allowed' | 'required'
  mcpDpopNonce: boolean
  toolScopes: Record<string, string>
  dataDir: string | null
  adminKeySource: string
  profile: string | null
  store: string | null
  /** The --user account: its password only when it was generated for a user created now. */
  user: {email: string; created: boolean; password: string | null; passwordSource: string} | null
}

export type DockerStackUpResult = Omit<DockerUpResult, 'adminKey'> & {profile: string | null; store: string | null}

export interface StackMcpResult {
  mcpUrl: string
  resource: string
  resourceMetadataUrl: string
  issuer: string
  mcpDpop: 'off' | 'allowed' | 'required'
  mcpDpopNonce: boolean
  toolScopes: Record<string, string>
}

/** The tier-03 line of the MCP server, when any of its options is on. */
export function mcpPolicyLine(r: {mcpDpop: string; mcpDpopNonce: boolean; toolScopes: Record<string, string>}): string[] {
  const scopes = Object.entries(r.toolScopes).map(([tool, scope]) => `${tool}=${scope}`)
  if (r.mcpDpop === 'off' && scopes.length === 0) return []
  return [`  tier 03    DPoP ${r.mcpDpop}${r.mcpDpopNonce ? ' (with nonces)' : ''}${scopes.length ? `, tool scopes ${scopes.join(' ')}` : ''}`]
}

const savedLine = (profile: string | null, store: string | null) => `  profile    ${profile ? `"${profile}" now points here (${store})` : 'not saved (--no-save)'}`

export function renderStackUp(r: StackUpResult, keyHowTo: string): string[] {
  return [
    chalk.bold('Authplane-compatible stack running'),
    `  issuer     ${r.issuer}${r.publicUrl === r.issuer ? '' : `  (listening at ${r.publicUrl})`}`,
    `  admin API  ${r.adminUrl}/admin`,
    `  MCP server ${r.mcpUrl}  (audience ${r.resource})`,
    ...mcpPolicyLine(r),
    `  admin key  ${keyHowTo}`,
    `  data       ${r.dataDir ?? 'in memory'}`,
    ...(r.user === null ? [] : [renderStackUser(r.user)]),
    savedLine(r.profile, r.store),
  ]
}

export function renderDockerUp(r: DockerStackUpResult): string[] {
  return [
    `${chalk.bold('Authplane stack running in Docker')} (compose project ap-demo, ready after ${(r.waitedMs / 1000).toFixed(1)} s)`,
    `  issuer     ${r.issuer}`,
    `  admin API  ${r.adminUrl}/admin`,
    `  MCP server ${r.mcpUrl}  (audience ${r.resource})`,
    `  admin key  from ${r.adminKeySource}`,
    `  compose    ${r.composeFile}${r.envFile ? `, env file ${r.envFile}` : ', no env file'}`,
    savedLine(r.profile, r.store),
  ]
}

export function renderStackMcp(r: StackMcpResult): string[] {
  return [
    chalk.bold('tier-01 MCP server running'),
    `  MCP endpoint       ${r.mcpUrl}`,
    `  audience           ${r.resource}`,
    `  resource metadata  ${r.resourceMetadataUrl}`,
    `  trusted issuer     ${r.issuer}`,
    ...mcpPolicyLine(r).map((line) => line.replace('  tier 03    ', '  tier 03            ')),
  ]
}
