import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, before} from 'node:test'
import {fileURLToPath} from 'node:url'

import {startStack, type StackHandle} from '../../src/stack/index.js'

/** The package root, whether the tests run from test/ (tsx) or dist/test/ (compiled). */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  return dir
})()
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** A user's fresh machine: empty HOME and XDG dirs, no inherited Authplane variables. */
export class Sandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'ap-demo-cli-'))
  readonly env: NodeJS.ProcessEnv

  constructor(extra: NodeJS.ProcessEnv = {}) {
    const base: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) {
      // CI=true (set by the CI runner) would make every prompt-capable command refuse to prompt.
      if (/^(AUTHPLANE_|ADMIN_URL|MCP_URL|ECHO_TEXT|AP_DEMO_|XDG_|NODE_TEST|NODE_OPTIONS|CI$)/.test(k)) continue
      base[k] = v
    }
    this.env = {
      ...base,
      HOME: join(this.root, 'home'),
      XDG_CONFIG_HOME: join(this.root, 'config'),
      XDG_DATA_HOME: join(this.root, 'data'),
      XDG_CACHE_HOME: join(this.root, 'cache'),
      NO_COLOR: '1',
      ...extra,
    }
  }

  get storePath(): string {
    return join(this.root, 'config', 'ap-demo', 'config.json')
  }

  run(args: string[], options: {env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number} = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: options.cwd ?? this.root,
        env: {...this.env, ...options.env},
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({code, stdout, stderr})
      })
    })
  }

  /** Starts a long-running command and resolves once its stdout holds one complete JSON document. */
  startJson(args: string[], options: {env?: NodeJS.ProcessEnv} = {}): Promise<{child: ChildProcess; doc: any; stderr: () => string}> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {cwd: this.root, env: {...this.env, ...options.env}, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      child.stdout.on('data', (d) => {
        stdout += d
        try {
          resolve({child, doc: JSON.parse(stdout), stderr: () => stderr})
        } catch {
          // not complete yet
        }
      })
      child.on('close', (code) => reject(new Error(`exited ${code} before printing JSON: ${stderr}`)))
    })
  }

  cleanup(): void {
    rmSync(this.root, {recursive: true, force: true})
  }
}

/** Asserts the shape every user-caused failure must have: an Error line, a Hint line, no stack trace. */
export function assertCleanFailure(result: CliResult, exitCode: number, pattern?: RegExp): void {
  const ok =
    result.code === exitCode &&
    /^Error: .+$/m.test(result.stderr) &&
    /^Hint: .+$/m.test(result.stderr) &&
    !/\n\s+at .+:\d+:\d+/.test(result.stderr) &&
    (pattern === undefined || pattern.test(result.stderr))
  if (!ok) {
    throw new Error(`expected a clean failure with exit ${exitCode}${pattern ? ` matching ${pattern}` : ''}, got exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
  }
}

/** An embedded stack on free loopback ports, and the environment that points the CLI at it. */
export async function startTestStack(): Promise<{stack: StackHandle; env: NodeJS.ProcessEnv}> {
  // One stack serves a whole suite's CLI runs from one address, faster than a person would: the
  // real server's per-address rate limit (tested on stacks of its own) would make them flaky.
  const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}})
  return {
    stack,
    env: {AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, AUTHPLANE_ADMIN_API_KEY: stack.adminKey, MCP_URL: stack.mcpUrl},
  }
}

/** A test stack for the enclosing suite: started before its tests, stopped after them. */
export function useTestStack(assign: (started: {stack: StackHandle; env: NodeJS.ProcessEnv}) => void): void {
  let stack: StackHandle | undefined
  before(async () => {
    const started = await startTestStack()
    stack = started.stack
    assign(started)
  })
  after(async () => {
    await stack?.stop()
  })
}

/** A port that nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Sends SIGTERM to a long-running command and resolves with its exit code once it has closed. */
export function terminate(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(child.exitCode)
      return
    }
    child.once('close', (code) => resolve(code))
    child.kill('SIGTERM')
  })
}
