import {dirname} from 'node:path'

import {findIssuer} from '../authplane/issuer.js'
import {DEFAULTS, ENV, Environment} from '../config/settings.js'
import {ApDemoError, InputError, ConfigError} from '../errors.js'
import {absoluteUrlProblem} from '../http/url.js'
import {waitForDiscovery} from '../walkthrough/discovery.js'
import {waitForMcpServer} from '../walkthrough/mcp-probe.js'
import {checkDocker, composeDown, composeProject, composeUp, type ComposeProject, type DockerInfo} from './compose.js'

export {composeProject, type ComposeProject} from './compose.js'

/**
 * What docker-compose.yml uses when the environment and the env file leave a variable unset. They
 * must stay equal to the `${VAR:-default}` values there (test/unit/compose-file.test.ts checks it).
 */
export const DOCKER_DEFAULTS = {
  issuer: DEFAULTS.issuer,
  adminUrl: DEFAULTS.adminUrl,
  mcpUrl: DEFAULTS.mcpUrl,
  // Tier 01: the audience is the MCP URL as the host names it.
  resource: DEFAULTS.mcpUrl,
} as const

export interface DockerSetting {
  value: string
  /** `env AUTHPLANE_ISSUER`, `.env /path/.env`, or `default`. */
  from: string
}

export interface DockerStackSettings {
  issuer: DockerSetting
  adminUrl: DockerSetting
  mcpUrl: DockerSetting
  resource: DockerSetting
  adminKey?: DockerSetting
}

/**
 * The endpoints of the Docker topology as the compose file will configure them: read from the same
 * place compose reads them (the environment, then the project's env file), with the compose file's
 * defaults. ADMIN_URL and MCP_URL are only ap-demo's (where the host reaches the published ports).
 */
export function dockerStackSettings(project: ComposeProject, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): DockerStackSettings {
  const environment = new Environment(env, project.envFile ? dirname(project.envFile) : cwd)
  const read = (name: string, fallback: string): DockerSetting => {
    const found = environment.lookup(name)
    if (!found) return {value: fallback, from: 'default'}
    const setting = {value: found.value, from: found.source === 'env' ? `env ${name}` : `${name} in ${project.envFile}`}
    const problem = absoluteUrlProblem(found.value)
    if (problem) {
      throw new InputError('usage', `${name} "${found.value}" is not usable: ${problem} (from ${setting.from})`, {
        hint: `Example: ${name}=${fallback}`,
      })
    }
    return setting
  }
  const key = environment.lookup(ENV.adminKey)
  return {
    issuer: read(ENV.issuer, DOCKER_DEFAULTS.issuer),
    adminUrl: read(ENV.adminUrl, DOCKER_DEFAULTS.adminUrl),
    mcpUrl: read(ENV.mcpUrl, DOCKER_DEFAULTS.mcpUrl),
    resource: read(ENV.resource, DOCKER_DEFAULTS.resource),
    adminKey: key ? {value: key.value, from: key.source === 'env' ? `env ${ENV.adminKey}` : `${ENV.adminKey} in ${project.envFile}`} : undefined,
  }
}

export interface DockerStackUp {
  docker: DockerInfo
  settings: DockerStackSettings & {adminKey: DockerSetting}
  resourceMetadataUrl: string
  waitedMs: number
}

/**
 * `ap-demo stack up --docker`: checks Docker, runs `docker compose up -d`, then waits for the two
 * readiness signals of the tier-02 walkthrough (contract §6 steps 1-2) and checks that the
 * servers agree with ap-demo's settings (contract §7.1, §7.2) before anyone relies on them.
 */
export async function upDockerStack(
  project: ComposeProject,
  settings: DockerStackSettings,
  options: {timeoutMs: number; showProgress?: boolean; onProgress?: (message: string) => void},
): Promise<DockerStackUp> {
  const docker = await checkDocker()
  const adminKey = settings.adminKey
  if (!adminKey) {
    throw new ConfigError('admin_key_missing', `AUTHPLANE_ADMIN_API_KEY is not set (the environment and ${project.envFile ?? './.env'} do not name it)`, {
      hint: 'Create the env file the compose file reads: cp .env.example .env (it holds the examples\' key), or export AUTHPLANE_ADMIN_API_KEY.',
    })
  }
  options.onProgress?.(`docker compose up -d (${project.file}${project.envFile ? `, env file ${project.envFile}` : ''})`)
  await composeUp(project, {showProgress: options.showProgress})

  const started = Date.now()
  const deadline = started + options.timeoutMs
  const remaining = () => Math.max(1, deadline - Date.now())
  const logsHint = (service: string) => `See why with: docker compose -f ${project.file} logs ${service}; --timeout sets how long to wait.`
  options.onProgress?.(`waiting for ${settings.issuer.value}/.well-known/oauth-authorization-server`)
  try {
    await waitForDiscovery(settings.issuer.value, {waitMs: remaining(), requestTimeoutMs: 5000})
  } catch (error) {
    throw withHint(error, logsHint('authserver'))
  }
  options.onProgress?.(`waiting for ${settings.mcpUrl.value} to refuse a request without a token (401)`)
  let readiness
  try {
    readiness = await waitForMcpServer(settings.mcpUrl.value, {waitMs: remaining(), requestTimeoutMs: 5000})
  } catch (error) {
    throw withHint(error, logsHint('mcp-server'))
  }
  const metadata = readiness.resourceMetadata
  if (metadata.resource !== settings.resource.value) {
    throw new ConfigError('resource_mismatch', `the MCP server expects the audience ${JSON.stringify(metadata.resource)} but ap-demo would bind tokens to ${JSON.stringify(settings.resource.value)} (${settings.resource.from})`, {
      hint: 'Set AUTHPLANE_RESOURCE to one value for both (in .env), then run `ap-demo stack up --docker` again so the container is recreated.',
      details: {expected: settings.resource.value, actual: metadata.resource ?? null},
    })
  }
  if (Array.isArray(metadata.authorization_servers) && findIssuer(metadata.authorization_servers, settings.issuer.value) === undefined) {
    throw new ConfigError('issuer_mismatch', `the MCP server trusts ${JSON.stringify(metadata.authorization_servers)} but the authserver announces ${JSON.stringify(settings.issuer.value)}`, {
      hint: 'Both take AUTHPLANE_ISSUER from the same env file; run `ap-demo stack up --docker` again so the containers are recreated with it.',
      details: {expected: settings.issuer.value, actual: metadata.authorization_servers},
    })
  }
  return {docker, settings: {...settings, adminKey}, resourceMetadataUrl: readiness.resourceMetadataUrl, waitedMs: Date.now() - started}
}

/** `ap-demo stack down --docker`. */
export async function downDockerStack(project: ComposeProject, options: {volumes: boolean; showProgress?: boolean}): Promise<DockerInfo> {
  const docker = await checkDocker()
  await composeDown(project, options)
  return docker
}

/** Waiting failed: keep the message and exit code, point at the container logs instead. */
function withHint(error: unknown, hint: string): unknown {
  if (error instanceof ApDemoError && (error.code === 'timeout' || error.code === 'unreachable' || error.code === 'discovery_failed' || error.code === 'mcp_not_ready')) {
    const Kind = error.constructor as typeof ApDemoError
    return new Kind(error.code, error.message, {hint, details: error.details, cause: error})
  }
  return error
}

/** What `stack up --docker` reports (the profile it saved to is added by the command). */
export interface DockerUpResult {
  docker: true
  issuer: string
  adminUrl: string
  mcpUrl: string
  resource: string
  resourceMetadataUrl: string
  adminKeySource: string
  sources: {issuer: string; adminUrl: string; mcpUrl: string; resource: string}
  composeFile: string
  envFile: string | null
  engineVersion: string
  composeVersion: string
  waitedMs: number
  /** Not in the JSON result: handed to the profile. */
  adminKey: string
}

/** The whole `stack up --docker`: the compose project of ap-demo's checkout, started and checked. */
export async function startDockerStack(packageRoot: string, options: {timeoutMs: number; showProgress?: boolean; onProgress?: (message: string) => void}): Promise<DockerUpResult> {
  const project = composeProject(packageRoot)
  const up = await upDockerStack(project, dockerStackSettings(project), options)
  const s = up.settings
  return {
    docker: true,
    issuer: s.issuer.value,
    adminUrl: s.adminUrl.value,
    mcpUrl: s.mcpUrl.value,
    resource: s.resource.value,
    resourceMetadataUrl: up.resourceMetadataUrl,
    adminKeySource: s.adminKey.from,
    sources: {issuer: s.issuer.from, adminUrl: s.adminUrl.from, mcpUrl: s.mcpUrl.from, resource: s.resource.from},
    composeFile: project.file,
    envFile: project.envFile ?? null,
    engineVersion: up.docker.engineVersion,
    composeVersion: up.docker.composeVersion,
    waitedMs: up.waitedMs,
    adminKey: s.adminKey.value,
  }
}
