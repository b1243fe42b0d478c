import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'

import {ROOT} from '../cli/helpers.js'

// What scripts/bundle.mjs builds (issue 12): each command loads only what it needs. The CLI tests
// run every command through this bundle (bin/run.js reads package.json's explicit strategy); these
// check its shape, from the metafile esbuild wrote next to it, without timing anything.

interface Metafile {
  outputs: Record<string, {bytes: number; imports: {path: string; kind: string; external?: boolean}[]; inputs: Record<string, {bytesInOutput: number}>}>
}

const pjson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {oclif: {commands: {strategy: string; target: string; identifier: string}}; files: string[]}
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, Record<string, unknown>>}
const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as Metafile
const ids = Object.keys(manifest.commands)
/** The MCP SDK: v1 (a test peer only now) and the v2 packages. */
const MCP_PACKAGES = ['@modelcontextprotocol/sdk', '@modelcontextprotocol/client', '@modelcontextprotocol/server', '@modelcontextprotocol/core', '@modelcontextprotocol/node']
const outputOf = (id: string) => `dist/bundle/commands/${id.split(':').join('/')}.js`

/** The output files an output file loads before anything runs: its static import graph. */
function staticOutputs(output: string): Set<string> {
  const seen = new Set<string>()
  const stack = [output]
  while (stack.length > 0) {
    const file = stack.pop()!
    if (seen.has(file)) continue
    const out = meta.outputs[file]
    assert.ok(out, `${file} is not in the bundle`)
    seen.add(file)
    for (const i of out.imports) if (i.kind === 'import-statement' && !i.external) stack.push(i.path)
  }
  return seen
}

/** The packages (or "ap-demo") whose code an output file loads before anything runs. */
function staticPackages(output: string): Set<string> {
  const packages = new Set<string>()
  for (const file of staticOutputs(output)) {
    for (const input of Object.keys(meta.outputs[file]!.inputs)) packages.add(/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'ap-demo')
  }
  return packages
}

describe('the bundle (scripts/bundle.mjs)', () => {
  it('is what oclif runs: the explicit strategy, a COMMANDS entry for exactly the commands of the manifest', async () => {
    assert.deepEqual(pjson.oclif.commands, {strategy: 'explicit', target: './dist/bundle/commands.js', identifier: 'COMMANDS'})
    assert.ok(pjson.files.includes('dist/bundle'), 'package.json files must ship dist/bundle')
    const {COMMANDS} = (await import(pathToFileURL(join(ROOT, 'dist', 'bundle', 'commands.js')).href)) as {COMMANDS: Record<string, {run: unknown}>}
    assert.deepEqual(Object.keys(COMMANDS).sort(), [...ids].sort())
    for (const id of ids) {
      assert.equal(typeof COMMANDS[id]!.run, 'function', id)
      assert.ok(existsSync(join(ROOT, outputOf(id))), `${outputOf(id)} is missing`)
      // The manifest is what help and the command list read: it must carry the real flags, and
      // nothing that would make oclif import dist/src instead of the bundle.
      assert.ok(manifest.commands[id]!.flags && Object.keys(manifest.commands[id]!.flags as object).length > 0, `${id} has no flags in the manifest`)
      assert.equal(manifest.commands[id]!.relativePath, undefined, id)
    }
  })

  it('loads no command before one runs: the COMMANDS entry reaches each one through import()', () => {
    const entry = 'dist/bundle/commands.js'
    const reached = staticOutputs(entry)
    for (const id of ids) assert.ok(!reached.has(outputOf(id)), `the COMMANDS entry imports ${id} statically`)
    assert.deepEqual([...staticPackages(entry)], ['ap-demo'])
    const bytes = [...reached].reduce((t, f) => t + meta.outputs[f]!.bytes, 0)
    assert.ok(bytes < 8 * 1024, `the COMMANDS entry loads ${bytes} bytes before a command runs`)
    for (const id of ids) assert.ok(meta.outputs[entry]!.imports.some((i) => i.kind === 'dynamic-import' && i.path === outputOf(id)), `no import() of ${id}`)
  })

  it('keeps the MCP SDK and zod out of the commands that do not speak MCP', () => {
    // login speaks MCP once, to be told 401: the SDK is loaded for that probe, not before the command runs.
    const notMcp = ['token:mint', 'setup:client', 'setup:resource', 'config:list', 'config:path', 'config:show', 'config:use', 'clean', 'stack:up', 'stack:down', 'stack:mcp', 'login', 'logout'].filter((id) => ids.includes(id))
    assert.ok(notMcp.length >= 6, `only ${notMcp.join(', ')} found in the manifest`)
    for (const id of notMcp) {
      const packages = staticPackages(outputOf(id))
      for (const heavy of [...MCP_PACKAGES, 'zod', 'hono', '@hono/node-server', '@inquirer/prompts']) assert.ok(!packages.has(heavy), `${id} loads ${heavy} before it runs`)
    }
    // ...and the commands that call an MCP tool do get the client (SDK v2), and only the client.
    for (const id of ['mcp:call', 'mcp:tools'].filter((i) => ids.includes(i))) {
      const packages = staticPackages(outputOf(id))
      assert.ok(packages.has('@modelcontextprotocol/client'), id)
      for (const other of ['@modelcontextprotocol/sdk', '@modelcontextprotocol/server', '@modelcontextprotocol/node', 'hono']) assert.ok(!packages.has(other), `${id} loads ${other}`)
    }
  })

  it('doctor loads the MCP SDK, zod and oauth4webapi only when its walk starts (import())', () => {
    assert.ok(ids.includes('doctor'), 'no doctor command in the manifest')
    const packages = staticPackages(outputOf('doctor'))
    for (const heavy of [...MCP_PACKAGES, 'zod', 'oauth4webapi', 'hono', '@hono/node-server', '@inquirer/prompts']) assert.ok(!packages.has(heavy), `doctor loads ${heavy} before it runs`)
    // ...and its walk does reach the MCP client, through import() (the walk, then its MCP part).
    const reached = new Set<string>()
    const pending = [outputOf('doctor')]
    while (pending.length > 0) {
      const file = pending.pop()!
      if (reached.has(file)) continue
      reached.add(file)
      for (const out of staticOutputs(file)) for (const i of meta.outputs[out]!.imports) if (i.kind === 'dynamic-import' && !i.external && meta.outputs[i.path]) pending.push(i.path)
    }
    assert.ok([...reached].some((chunk) => staticPackages(chunk).has('@modelcontextprotocol/client')), 'doctor never loads the MCP client')
  })

  it('leaves the MCP client\'s JSON Schema validator (ajv) out of mcp call\'s start-up: it loads on a first output schema', () => {
    for (const id of ['mcp:call', 'mcp:tools'].filter((i) => ids.includes(i))) {
      const inputs = [...staticOutputs(outputOf(id))].flatMap((file) => Object.keys(meta.outputs[file]!.inputs))
      assert.ok(inputs.some((i) => i.endsWith('scripts/bundle-shims/mcp-client-shims.mjs')), `${id} does not use the lazy validator shim`)
      assert.ok(!inputs.some((i) => /@modelcontextprotocol\/client\/dist\/(ajvProvider|shimsNode)/.test(i)), `${id} loads the SDK's validator before it runs`)
    }
  })

  it('loads only the decoding part of jose at start (the MCP client\'s import of all of jose stays on demand)', () => {
    for (const id of ['token:mint', 'mcp:call'].filter((i) => ids.includes(i))) {
      let bytes = 0
      for (const file of staticOutputs(outputOf(id))) {
        for (const [input, {bytesInOutput}] of Object.entries(meta.outputs[file]!.inputs)) if (/node_modules\/jose\//.test(input)) bytes += bytesInOutput
      }
      assert.ok(bytes < 40 * 1024, `${id} loads ${bytes} bytes of jose before it runs`)
    }
  })

  it('keeps ajv out of the store: only the MCP SDK brings it in', () => {
    const readers = ids.filter((id) => staticPackages(outputOf(id)).has('conf'))
    assert.ok(readers.includes('token:mint') || readers.includes('config:show'), 'no command reads the store through conf: the check below would prove nothing')
    for (const id of readers) {
      const packages = staticPackages(outputOf(id))
      if (!MCP_PACKAGES.some((p) => packages.has(p))) assert.ok(!packages.has('ajv') && !packages.has('ajv-formats'), `${id} loads ajv`)
    }
  })
})
