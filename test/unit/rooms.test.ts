import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'
import {describe, it} from 'node:test'

// The rooms of the embedded stack (docs/internals.md, "Layers of the authorization server"), read
// from the sources: which file imports which, type-only imports included (a type cycle is still a
// circle a reader has to untangle).

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const STACK = join(ROOT, 'src', 'stack')
const AUTHSERVER = join(STACK, 'authserver')

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    return e.isDirectory() ? sources(path) : e.name.endsWith('.ts') ? [path] : []
  })
}

/** Every module a file imports or re-exports, statically or dynamically, resolved to a .ts path when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?\bfrom\s+'([^']+)'/gms),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!)
  return specs.map((s) => (s.startsWith('.') ? resolve(dirname(file), s).replace(/\.js$/, '.ts') : s))
}

/** The room of a file of the authorization server: its first folder, or `root` for index.ts. */
function room(file: string): string {
  const rel = relative(AUTHSERVER, file).split(sep)
  return rel.length === 1 ? 'root' : rel[0]!
}

// Arrows point to what a room may import. Nothing points up, so there can be no circle.
const MAY_IMPORT: Record<string, readonly string[]> = {
  root: ['api', 'services', 'store', 'domain', 'http'],
  api: ['services', 'store', 'domain', 'http'],
  services: ['store', 'domain', 'http'],
  store: ['domain'],
  domain: [],
  http: [],
}

describe('rooms of src/stack', () => {
  const files = sources(STACK)
  const graph = new Map(files.map((f) => [f, importsOf(f)]))

  it('the authorization server has exactly the rooms api, services, store, domain and http', () => {
    const rooms = new Set(sources(AUTHSERVER).map(room))
    assert.deepEqual([...rooms].sort(), Object.keys(MAY_IMPORT).sort())
  })

  it('each room of the authorization server imports only the rooms below it', () => {
    const wrong: string[] = []
    for (const file of sources(AUTHSERVER)) {
      for (const target of graph.get(file)!) {
        if (!target.startsWith(AUTHSERVER + sep)) continue
        const [from, to] = [room(file), room(target)]
        if (from !== to && !MAY_IMPORT[from]!.includes(to)) wrong.push(`${relative(ROOT, file)} (${from}) -> ${relative(ROOT, target)} (${to})`)
      }
    }
    assert.deepEqual(wrong, [])
  })

  it('the rooms, and the files of src/stack, import each other in no circle', () => {
    // Between rooms: a topological order exists.
    const edges = new Map(Object.keys(MAY_IMPORT).map((r) => [r, new Set<string>()]))
    for (const file of sources(AUTHSERVER)) {
      for (const target of graph.get(file)!) {
        if (target.startsWith(AUTHSERVER + sep) && room(target) !== room(file)) edges.get(room(file))!.add(room(target))
      }
    }
    const order: string[] = []
    const pending = new Map([...edges].map(([r, to]) => [r, new Set(to)]))
    while (pending.size > 0) {
      const leaf = [...pending].find(([, to]) => [...to].every((t) => !pending.has(t)))
      assert.ok(leaf, `rooms in a circle: ${[...pending.keys()].join(', ')}`)
      order.push(leaf[0])
      pending.delete(leaf[0])
    }
    // Between files (one circle of any length is one too many): depth-first search for a back edge.
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open')
      for (const target of graph.get(file) ?? []) {
        if (!graph.has(target)) continue
        if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), target].map((f) => relative(STACK, f)).join(' -> '))
        else if (state.get(target) === undefined) visit(target, [...path, target])
      }
      state.set(file, 'done')
    }
    for (const file of files) if (!state.has(file)) visit(file, [file])
    assert.deepEqual(cycles, [])
  })

  it('nothing in src/stack imports the CLI\'s client code; outside src/stack only src/files.ts', () => {
    const clientCode = ['http', 'authplane', 'mcp', 'admin', 'config', 'cli', 'walkthrough', 'trace', 'wizard', 'docker', 'commands'].map((d) => join(ROOT, 'src', d) + sep)
    const offenders: string[] = []
    for (const [file, targets] of graph) {
      for (const target of targets) {
        if (!target.startsWith(ROOT)) continue
        if (target.startsWith(STACK + sep)) continue
        if (target === join(ROOT, 'src', 'files.ts') && !clientCode.some((d) => target.startsWith(d))) continue
        offenders.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)}`)
      }
    }
    assert.deepEqual(offenders, [])
  })

  it('the test sees the imports it checks (a broken parser would pass everything)', () => {
    const index = graph.get(join(AUTHSERVER, 'index.ts'))!
    assert.ok(index.includes(join(AUTHSERVER, 'api', 'public.ts')))
    assert.ok(index.includes(join(STACK, 'types.ts')))
    assert.ok(graph.get(join(AUTHSERVER, 'services', 'context.ts'))!.includes(join(AUTHSERVER, 'store', 'store.ts')), 'type-only imports count')
    assert.ok([...graph.values()].flat().length > 200)
  })
})
