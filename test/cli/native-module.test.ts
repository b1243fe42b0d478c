// Issue 19, the newcomer's first major: after `npm ci` on Node 20, switching to Node 22 gave "This
// is a bug in ap-demo", exit 70; the cause, better-sqlite3's addon built for another Node ABI, was
// cut off. It is a local-configuration error (exit 7) whose hint is the rebuild command. Tested
// for real: bin/run.js started by a Node whose ABI differs from the one the checkout's addon was
// built for (the tools folder's Node 22 on the Node 20 pass, the PATH's Node on the Node 22 pass).
import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {toCliError} from '../../src/cli/error-map.js'
import {assertCleanFailure, BIN, ROOT, Sandbox, type CliResult} from './helpers.js'

/** A Node binary whose ABI is not this process's (which is the one the addon was built for), if any. */
function otherNode(): string | undefined {
  const tools = process.env.AP_DEMO_INTEROP_TOOLS ?? join(ROOT, '.interop-tools')
  const candidates = [join(tools, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node')]
  try {
    candidates.push(execFileSync('which', ['-a', 'node'], {encoding: 'utf8'}).trim().split('\n')[0]!)
  } catch {
    // no node on PATH
  }
  return candidates.find((node) => {
    if (!node || !existsSync(node)) return false
    try {
      return execFileSync(node, ['-p', 'process.versions.modules'], {encoding: 'utf8'}).trim() !== process.versions.modules
    } catch {
      return false
    }
  })
}

function runWith(node: string, box: Sandbox, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [BIN, ...args], {cwd: box.root, env: box.env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

describe('a native module built for another Node', () => {
  const node = otherNode()

  it('is exit 7 with the rebuild command, for verify --embedded and stack up, plain and --json', {skip: node ? false : `no Node with another ABI than ${process.versions.modules} here (set AP_DEMO_INTEROP_TOOLS, see interop/install-tools.sh)`}, async () => {
    const box = new Sandbox()
    try {
      const verify = await runWith(node!, box, ['verify', '--embedded'])
      assertCleanFailure(verify, 7, /^Error: better-sqlite3's native module was built for another Node\.js \(NODE_MODULE_VERSION \d+(, Node \d+)?\) than this Node \d+\.\d+\.\d+ \(NODE_MODULE_VERSION \d+\)$/m)
      assert.ok(verify.stderr.includes(`Hint: Rebuild it for this Node (after switching Node versions, e.g. with nvm): cd ${ROOT} && npm rebuild better-sqlite3;`), verify.stderr)
      assert.doesNotMatch(verify.stderr, /bug in ap-demo/)
      const up = await runWith(node!, box, ['stack', 'up', '--memory', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--json'])
      assert.equal(up.code, 7, up.stderr)
      const {error} = JSON.parse(up.stdout) as {error: {code: string; rebuild: string; builtFor: string; nodeModuleVersion: string}}
      assert.equal(error.code, 'native_module_mismatch')
      assert.equal(error.rebuild, `cd ${ROOT} && npm rebuild better-sqlite3`)
      assert.notEqual(error.builtFor, error.nodeModuleVersion)
    } finally {
      box.cleanup()
    }
  })

  it('a native module that was never built (npm ci --ignore-scripts) is exit 7 with the build command too', () => {
    // The cases a test machine cannot produce without breaking its own install: the errors as the
    // `bindings` package throws it.
    const error = new Error('Could not locate the bindings file. Tried:\n → /opt/app/node_modules/better-sqlite3/build/better_sqlite3.node\n → /opt/app/node_modules/better-sqlite3/build/Debug/better_sqlite3.node')
    const e = toCliError(error)
    assert.equal(e.exitCode, 7)
    assert.equal(e.code, 'native_module_missing')
    assert.equal(e.message, 'better-sqlite3\'s native module was never built (no /opt/app/node_modules/better-sqlite3/build/better_sqlite3.node)')
    assert.match(e.hint!, /^Build it for this Node: cd \/opt\/app && npm rebuild better-sqlite3; it needs a prebuilt binary for this platform and Node, else python3, make and a C\+\+ compiler/)
    const other = toCliError(Object.assign(new Error('/srv/x/node_modules/better-sqlite3/build/Release/better_sqlite3.node: /lib/libc.so.6: version `GLIBC_2.38\' not found'), {code: 'ERR_DLOPEN_FAILED'}))
    assert.equal(other.exitCode, 7)
    assert.equal(other.code, 'native_module_unloadable')
    // A global install: the addon sits in ap-demo's own node_modules, and that is where to rebuild.
    const global = toCliError(Object.assign(new Error("The module '/usr/local/lib/node_modules/ap-demo/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 127. This version of Node.js requires\nNODE_MODULE_VERSION 115. Please try re-compiling"), {code: 'ERR_DLOPEN_FAILED'}))
    assert.equal(global.code, 'native_module_mismatch')
    assert.equal(global.details.rebuild, 'cd /usr/local/lib/node_modules/ap-demo && npm rebuild better-sqlite3')
    assert.match(global.message, /\(NODE_MODULE_VERSION 127, Node 22\)/)
  })
})
