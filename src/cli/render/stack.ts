import chalk from 'chalk'

import type {DockerUpResult} from '../../docker/stack.js'

export interface StackUpResult {
  issuer: string
  publicUrl: string
  adminUrl: string
  mcpUrl: string
  resource: string
  dataDir: string | null
  adminKeySource: string
  profile: string | null
  store: string | null
}

export type DockerStackUpResult = Omit<DockerUpResult, 'adminKey'> & {profile: string | null; store: string | null}

export interface StackMcpResult {
  mcpUrl: string
  resource: string
  resourceMetadataUrl: string
  issuer: string
}

const savedLine = (profile: string | null, store: string | null) => `  profile    ${profile ? `"${profile}" now points here (${store})` : 'not saved (--no-save)'}`

export function renderStackUp(r: StackUpResult, keyHowTo: string): string[] {
  return [
    chalk.bold('Authplane-compatible stack running'),
    `  issuer     ${r.issuer}${r.publicUrl === r.issuer ? '' : `  (listening at ${r.publicUrl})`}`,
    `  admin API  ${r.adminUrl}/admin`,
    `  MCP server ${r.mcpUrl}  (audience ${r.resource})`,
    `  admin key  ${keyHowTo}`,
    `  data       ${r.dataDir ?? 'in memory'}`,
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
  ]
}
