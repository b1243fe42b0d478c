import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {startStack, type StackHandle} from '../../src/stack/index.js'

// docs/fidelity.md can go stale two ways: a row cites a test that was renamed or removed, or it
// names a route the stack no longer serves (or says a route is unserved that now is). Both are
// caught here, against the test sources and against a running stack.

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const DOC = readFileSync(join(ROOT, 'docs', 'fidelity.md'), 'utf8')

/** The short names the page uses for test files (its "Tests are under test/" legend). */
const FILES: Record<string, string> = {
  ...Object.fromEntries(['admin', 'token', 'register', 'dpop', 'ratelimit', 'restart', 'browser-flow', 'cimd', 'real-defaults'].map((n) => [n, `test/stack/authserver/${n}.test.ts`])),
  ...Object.fromEntries(['cors', 'dpop'].map((n) => [`mcp-server/${n}`, `test/stack/mcp-server/${n}.test.ts`])),
  // Peers built on the official MCP SDKs: peers/<name> is test/peers/<name>.test.ts.
  ...Object.fromEntries(readdirSync(join(ROOT, 'test', 'peers')).filter((f) => f.endsWith('.test.ts')).map((f) => [`peers/${f.slice(0, -'.test.ts'.length)}`, `test/peers/${f}`])),
  ...Object.fromEntries(['breaker', 'cache', 'discovery'].map((n) => [n, `test/authplane/${n}.test.ts`])),
  'token (authplane)': 'test/authplane/token.test.ts',
  'real-server-rules': 'test/cli/real-server-rules.test.ts',
  'cimd-login': 'test/cli/cimd-login.test.ts',
  'compose-file': 'test/unit/compose-file.test.ts',
  'redirect-matrix': 'test/faults/redirect-matrix.test.ts',
  'stack-files': 'test/faults/stack-files.test.ts',
  helpers: 'test/stack/authserver/helpers.ts',
  // The user sign-in section's own legend.
  'stand-in': 'test/login/stand-in.test.ts',
  embedded: 'test/login/embedded.test.ts',
  'cli/login': 'test/cli/login.test.ts',
}

interface Row {
  id: string
  cells: string[]
}

/** Every table row of the page whose first cell is a row id (P1, T3, G5, ...). */
function rows(): Row[] {
  return DOC.split('\n')
    .filter((l) => /^\| [A-Z]\d+ \|/.test(l))
    .map((l) => {
      const cells = l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim())
      return {id: cells[0]!, cells}
    })
}

/** The titles of `it`/`describe` calls in a test source: plain strings, or a template's static start. */
function titles(source: string): Array<{text: string; template: boolean}> {
  const out: Array<{text: string; template: boolean}> = []
  for (const m of source.matchAll(/\b(?:it|describe)\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/gs)) {
    const raw = m[2]!.replace(/\\(['"`\\])/g, '$1')
    if (m[1] === '`' && raw.includes('${')) out.push({text: raw.slice(0, raw.indexOf('${')), template: true})
    else out.push({text: raw, template: false})
  }
  return out
}

/** `key: "title", "title"; key2: ...` references of a test cell. */
function references(cell: string): Array<{file: string; title?: string}> {
  const out: Array<{file: string; title?: string}> = []
  // Semicolons separate files, except inside a quoted title.
  for (const part of cell.match(/(?:[^;"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const m = /^([a-z][a-z0-9-]*(?:\/[a-z-]+)?(?: \(authplane\))?)(?::|\s)\s*(.*)$/.exec(part.trim())
    if (m === null) continue
    const file = m[1]!
    const quoted = [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((q) => q[1]!)
    if (quoted.length === 0) out.push({file})
    for (const q of quoted) out.push({file, title: q.replace(/\\"/g, '"').replace(/(…|\.\.\.)$/, '')})
  }
  return out
}

describe('docs/fidelity.md stays true', () => {
  const table = rows()

  it('has its rows (the parser sees them)', () => {
    assert.ok(table.length > 100, `only ${table.length} rows`)
    for (const id of ['T3', 'A6', 'B4', 'G1', 'G3', 'W1', 'I6', 'R11', 'X10', 'R5']) assert.ok(table.some((r) => r.id === id), id)
  })

  it('every test a row cites exists, under the title it is cited by', () => {
    const problems: string[] = []
    let checked = 0
    for (const row of table) {
      // The test cell is the one before the status; the settings and metadata tables have none.
      const cell = row.cells.length >= 6 ? row.cells[row.cells.length - 2]! : undefined
      if (cell === undefined || cell === '—') continue
      for (const ref of references(cell)) {
        const path = FILES[ref.file]
        if (path === undefined) {
          problems.push(`${row.id}: unknown test file "${ref.file}" (add it to the legend and to FILES)`)
          continue
        }
        if (!existsSync(join(ROOT, path))) {
          problems.push(`${row.id}: ${path} does not exist`)
          continue
        }
        if (ref.title === undefined) continue
        const source = readFileSync(join(ROOT, path), 'utf8')
        checked++
        if (ref.file === 'helpers') {
          if (!new RegExp(`\\b${ref.title.replace(/`/g, '')}\\b`).test(source)) problems.push(`${row.id}: helper ${ref.title} not in ${path}`)
          continue
        }
        const found = titles(source).some((t) => t.text.startsWith(ref.title!) || (t.template && t.text !== '' && ref.title!.startsWith(t.text)))
        if (!found) problems.push(`${row.id}: no test titled "${ref.title}…" in ${path}`)
      }
    }
    assert.deepEqual(problems, [])
    assert.ok(checked > 100, `only ${checked} titles checked`)
  })

  describe('routes, against a running stack', () => {
    let stack: StackHandle
    before(async () => {
      stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}})
      const res = await fetch(`${stack.adminUrl}/admin/resources`, {method: 'POST', headers: {authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json'}, body: JSON.stringify({slug: 'demo-mcp', uri: stack.resource, backend_kind: 'mint'})})
      assert.equal(res.status, 201)
    })
    after(() => stack.stop())

    const PREFIXES = ['/oauth/', '/admin', '/.well-known/', '/login', '/logout', '/consent', '/livez', '/health', '/ready', '/metrics', '/mcp']

    /** Route paths in backticks, with or without methods in front, as the page writes them. */
    function routesIn(text: string): string[] {
      const out = new Set<string>()
      for (const m of text.matchAll(/`(?:[A-Z]+(?:\/[A-Z]+)* )?(\/[^`\s|,]*)`/g)) {
        const path = m[1]!.replace(/…$/, '')
        if (PREFIXES.some((p) => path.startsWith(p))) out.add(path)
      }
      return [...out]
    }

    /** Does the stack serve `path` (any method)? Go's mux answers an unserved one with its plain-text 404. */
    async function served(path: string): Promise<boolean> {
      const concrete = path.replace(/\{slug\}/g, 'demo-mcp').replace(/\{[^}]+\}/g, 'x').replace(/\/\*$/, '/x')
      const base = path.startsWith('/admin') ? stack.adminUrl : path.startsWith('/mcp') || path.includes('oauth-protected-resource') ? new URL(stack.mcpUrl).origin : stack.publicUrl
      for (const method of ['GET', 'POST', 'DELETE', 'PATCH']) {
        const res = await fetch(`${base}${concrete}`, {method, redirect: 'manual'})
        const body = await res.text()
        // Anything but the mux's own 404 (a 405, a 401 before the admin key, a problem+json 404
        // for an unknown id) means a route matched.
        if (!(res.status === 404 && body === '404 page not found\n')) return true
      }
      return false
    }

    it('names no route the stack does not serve', async () => {
      const unservedRow = table.find((r) => r.id === 'A6')!
      const unserved = new Set(routesIn(unservedRow.cells[2]!))
      const named = routesIn(DOC.split('\n').filter((l) => !l.startsWith('| A6 |')).join('\n')).filter((p) => !unserved.has(p))
      assert.ok(named.length >= 15, named.join(' '))
      const wrong: string[] = []
      for (const path of named) if (!(await served(path))) wrong.push(path)
      assert.deepEqual(wrong, [], 'named as served, but the stack answers 404 page not found')
    })

    it('serves none of the routes row A6 calls unserved', async () => {
      const unserved = routesIn(table.find((r) => r.id === 'A6')!.cells[2]!)
      assert.ok(unserved.length >= 10, unserved.join(' '))
      const wrong: string[] = []
      for (const path of unserved) if (await served(path)) wrong.push(path)
      assert.deepEqual(wrong, [], 'called unserved, but the stack serves them')
    })
  })
})
