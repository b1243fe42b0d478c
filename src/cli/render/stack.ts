import chalk from 'chalk'

import type {DockerUpResult} from '../../docker/stack.js'
import type {McpProtocolMode, StackNotice} from '../../stack/types.js'
import {renderStackUser} from './user.js'
import {terminalLine, terminalSafe} from '../../terminal-text.js'

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
  /** The MCP protocol eras the MCP server serves (--mcp-protocol). */
  mcpProtocol: McpProtocolMode
  dataDir: string | null
  adminKeySource: string
  profile: string | null
  store: string | null
  /** The --user account: its password only when it was generated for a user created now. */
  user: {email: string; created: boolean; password: string | null; passwordSource: string} | null
  /** What the start found and could not fix silently (a replaced signing key). */
  notices: StackNotice[]
}

/** A start-up notice as a warning line and its hint. */
export function describeNotice(n: StackNotice): [string, string] {
  n = terminalSafe(n)
  return [
    `${n.file} was missing while ${n.liveTokens} token${n.liveTokens === 1 ? '' : 's'} signed with it ${n.liveTokens === 1 ? 'was' : 'were'} still live (until ${n.lastExpiry}): a new signing key was made, and every resource server will refuse those tokens`,
    'Their clients must mint new tokens (ap-demo token mint --no-cache). Restore the old file from a backup and restart to make them valid again.',
  ]
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
  mcpProtocol: McpProtocolMode
}

/** The eras of the MCP server, in a few words. */
export function protocolWords(mode: McpProtocolMode): string {
  return mode === 'both' ? 'MCP 2025-11-25 and 2026-07-28' : `MCP ${terminalLine(mode)} only`
}

/** The tier-03 line of the MCP server, when any of its options is on. */
export function mcpPolicyLine(r: {mcpDpop: string; mcpDpopNonce: boolean; toolScopes: Record<string, string>}): string[] {
  r = terminalSafe(r)
  const scopes = Object.entries(r.toolScopes).map(([tool, scope]) => `${tool}=${scope}`)
  if (r.mcpDpop === 'off' && scopes.length === 0) return []
  return [`  tier 03    DPoP ${r.mcpDpop}${r.mcpDpopNonce ? ' (with nonces)' : ''}${scopes.length ? `, tool scopes ${scopes.join(' ')}` : ''}`]
}

const savedLine = (profile: string | null, store: string | null) => `  profile    ${profile ? `"${profile}" now points here (${store})` : 'not saved (--no-save)'}`

export function renderStackUp(r: StackUpResult, keyHowTo: string): string[] {
  r = terminalSafe(r)
  keyHowTo = terminalSafe(keyHowTo)
  return [
    chalk.bold('Authplane-compatible stack running'),
    `  issuer     ${r.issuer}${r.publicUrl === r.issuer ? '' : `  (listening at ${r.publicUrl})`}`,
    `  admin API  ${r.adminUrl}  (--admin-url; routes under /admin)`,
    `  MCP server ${r.mcpUrl}  (audience ${r.resource}; ${protocolWords(r.mcpProtocol)})`,
    ...mcpPolicyLine(r),
    `  admin key  ${keyHowTo}`,
    `  data       ${r.dataDir ?? 'in memory'}`,
    ...(r.user === null ? [] : [renderStackUser(r.user)]),
    savedLine(r.profile, r.store),
  ]
}

export function renderDockerUp(r: DockerStackUpResult): string[] {
  r = terminalSafe(r)
  return [
    `${chalk.bold('Authplane stack running in Docker')} (compose project ap-demo, ready after ${(r.waitedMs / 1000).toFixed(1)} s)`,
    `  issuer     ${r.issuer}`,
    `  admin API  ${r.adminUrl}  (--admin-url; routes under /admin)`,
    `  MCP server ${r.mcpUrl}  (audience ${r.resource})`,
    `  admin key  from ${r.adminKeySource}`,
    `  compose    ${r.composeFile}${r.envFile ? `, env file ${r.envFile}` : ', no env file'}`,
    savedLine(r.profile, r.store),
  ]
}

export function renderStackMcp(r: StackMcpResult): string[] {
  r = terminalSafe(r)
  return [
    chalk.bold('tier-01 MCP server running'),
    `  MCP endpoint       ${r.mcpUrl}`,
    `  audience           ${r.resource}`,
    `  resource metadata  ${r.resourceMetadataUrl}`,
    `  trusted issuer     ${r.issuer}`,
    `  protocol           ${protocolWords(r.mcpProtocol)}`,
    ...mcpPolicyLine(r).map((line) => line.replace('  tier 03    ', '  tier 03            ')),
  ]
}
