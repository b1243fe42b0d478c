import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {ENV, Environment} from '../config/settings.js'
import {ApDemoError, UnreachableError, ConflictError, ConfigError} from '../errors.js'

// The Docker side of `ap-demo stack up|down --docker`: finds the compose project, checks that a
// Docker client with the Compose v2 plugin and a reachable engine are there, and runs
// `docker compose`. execa is imported only here, when a Docker command actually runs.

export interface ComposeProject {
  /** Absolute path of docker-compose.yml (the one shipped next to ap-demo's package.json). */
  file: string
  /**
   * The env file handed to `docker compose --env-file`, and the one ap-demo reads its settings
   * from: ./.env of the current directory, else the .env next to the compose file, else none.
   * One file for both sides, so the servers and the CLI cannot disagree about the issuer.
   */
  envFile?: string
}

export function composeProject(packageRoot: string, cwd: string = process.cwd()): ComposeProject {
  const file = join(packageRoot, 'docker-compose.yml')
  // The MCP server's image is built from the checkout (Dockerfile, sources, lock file): an
  // installed package has neither, so say so before compose fails halfway through a build.
  const missing = ['docker-compose.yml', 'Dockerfile'].filter((name) => !existsSync(join(packageRoot, name)))
  if (missing.length > 0) {
    throw new ConfigError('compose_file_missing', `no ${missing.join(' or ')} at ${packageRoot}`, {
      hint: 'The Docker topology ships with a checkout of ap-demo; run the command from a clone of the repository.',
    })
  }
  const envFile = [join(cwd, '.env'), join(packageRoot, '.env')].find((f) => existsSync(f))
  return {file, envFile}
}

/** The `docker compose` arguments that select the project (before the subcommand). */
export function composeArgs(project: ComposeProject): string[] {
  return ['compose', '-f', project.file, ...(project.envFile ? ['--env-file', project.envFile] : [])]
}

function envFileHasAdminKey(project: ComposeProject): boolean {
  // The env file is always a `.env` (of the cwd or of the checkout): read it the way settings do.
  return project.envFile !== undefined && new Environment({}, dirname(project.envFile)).lookup(ENV.adminKey) !== undefined
}

interface RunResult {
  exitCode: number | undefined
  stdout: string
  stderr: string
  /** Set when docker could not be started at all (ENOENT: not on PATH). */
  spawnError?: string
  timedOut: boolean
}

async function docker(args: string[], options: {timeoutMs?: number; showProgress?: boolean; env?: Record<string, string>} = {}): Promise<RunResult> {
  const {execa} = await import('execa')
  const result = await execa('docker', args, {
    reject: false,
    env: options.env,
    timeout: options.timeoutMs,
    stdin: 'ignore',
    // Compose reports its progress on stderr: shown to a human as it happens, kept for the error otherwise.
    stderr: options.showProgress ? ['pipe', 'inherit'] : 'pipe',
    stripFinalNewline: true,
  })
  const spawnFailed = result.exitCode === undefined && !result.timedOut
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    spawnError: spawnFailed ? (result.code ?? result.shortMessage) : undefined,
    timedOut: result.timedOut,
  }
}

function meaningfulLines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^Run '.*--help'/.test(l) && !/^Usage:/.test(l))
}

/** The last line docker wrote that says something: compose reports progress first, the failure last. */
function lastLine(text: string): string {
  return meaningfulLines(text).at(-1) ?? ''
}

/** The first one: the docker client puts the error first, then usage and a "Run 'docker --help'" footer. */
function firstLine(text: string): string {
  return meaningfulLines(text)[0] ?? ''
}

const ENGINE_DOWN = /cannot connect to the docker daemon|is the docker daemon running|error during connect|docker daemon is not running|connection refused.*docker\.sock|permission denied.*docker\.sock/i

function engineUnreachable(detail: string): ApDemoError {
  return new UnreachableError('docker_engine_unreachable', `no Docker engine answers: ${detail}`, {
    hint: 'Start Docker (Docker Desktop, or `sudo systemctl start docker`) and retry; without Docker, `ap-demo stack up` runs the embedded stack instead.',
    details: {docker: detail},
  })
}

export interface DockerInfo {
  composeVersion: string
  engineVersion: string
}

/**
 * Checks, in this order, the three things `docker compose up` needs, so that each missing one gets
 * its own one-line message: the docker client on PATH, its Compose v2 plugin, a reachable engine.
 */
export async function checkDocker(): Promise<DockerInfo> {
  const compose = await docker(['compose', 'version'], {timeoutMs: 15_000})
  if (compose.spawnError) {
    throw new ConfigError('docker_not_found', `docker is not installed (no \`docker\` on PATH: ${compose.spawnError})`, {
      hint: 'Install Docker Engine 24+ with the Compose v2 plugin, or run the embedded stack without Docker: ap-demo stack up',
    })
  }
  if (compose.exitCode !== 0) {
    const detail = firstLine(compose.stderr) || firstLine(compose.stdout) || (compose.timedOut ? 'no answer within 15 s' : `exit ${compose.exitCode}`)
    if (ENGINE_DOWN.test(compose.stderr)) throw engineUnreachable(detail)
    throw new ConfigError('docker_compose_missing', `\`docker compose\` does not work: ${detail}`, {
      hint: 'Install the Docker Compose v2 plugin (`docker compose`, not the old `docker-compose`), or run the embedded stack without Docker: ap-demo stack up',
      details: {docker: detail},
    })
  }
  const info = await docker(['info', '--format', '{{.ServerVersion}}'], {timeoutMs: 15_000})
  if (info.timedOut) throw engineUnreachable('`docker info` did not answer within 15 s')
  if (info.exitCode !== 0) throw engineUnreachable(firstLine(info.stderr) || firstLine(info.stdout) || `docker info exited ${info.exitCode}`)
  // "Docker Compose version v2.29.1" -> "v2.29.1"
  return {composeVersion: compose.stdout.trim().replace(/^Docker Compose version\s+/i, ''), engineVersion: info.stdout.trim()}
}

function composeFailed(what: string, result: RunResult): ApDemoError {
  const detail = lastLine(result.stderr) || lastLine(result.stdout) || `exit ${result.exitCode}`
  if (ENGINE_DOWN.test(result.stderr)) return engineUnreachable(detail)
  if (/port is already allocated|address already in use|bind: /i.test(result.stderr)) {
    return new ConflictError('port_in_use', `docker compose ${what} failed: ${detail}`, {
      hint: 'Another process holds port 9000, 9001 or 8080 (is `ap-demo stack up` running?). Stop it and retry.',
      details: {docker: detail},
    })
  }
  if (/required variable|variable is not set|invalid interpolation/i.test(result.stderr)) {
    return new ConfigError('compose_env_missing', `docker compose ${what} failed: ${detail}`, {
      hint: 'Create the env file: cp .env.example .env (or export the variable it names).',
      details: {docker: detail},
    })
  }
  return new UnreachableError('docker_compose_failed', `docker compose ${what} failed: ${detail}`, {
    hint: 'Docker\'s own output above says why (image pull, build, network); `docker compose logs` shows the containers\' output.',
    details: {docker: detail, dockerExitCode: result.exitCode ?? null},
  })
}

/** `docker compose up -d`: pulls/builds as needed and starts the services in the background. */
export async function composeUp(project: ComposeProject, options: {showProgress?: boolean} = {}): Promise<void> {
  const result = await docker([...composeArgs(project), 'up', '-d'], {showProgress: options.showProgress})
  if (result.exitCode !== 0) throw composeFailed('up', result)
}

/** `docker compose down`, with `--volumes` also the named data volume (the authserver's database and keys). */
export async function composeDown(project: ComposeProject, options: {volumes?: boolean; showProgress?: boolean} = {}): Promise<void> {
  // Compose interpolates the whole file for `down` too, and the file requires the admin key
  // (\${AUTHPLANE_ADMIN_API_KEY:?}); a key exported only in the shell that ran `up` is gone by now.
  // `down` does not use the value, so a placeholder stands in when neither env nor env file has it.
  const env = process.env.AUTHPLANE_ADMIN_API_KEY || envFileHasAdminKey(project) ? undefined : {AUTHPLANE_ADMIN_API_KEY: 'unused-by-compose-down'}
  const result = await docker([...composeArgs(project), 'down', ...(options.volumes ? ['--volumes'] : [])], {showProgress: options.showProgress, env})
  if (result.exitCode !== 0) throw composeFailed('down', result)
}
