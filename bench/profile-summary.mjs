// Diagnostic, not part of `npm run bench`: summarizes a V8 .cpuprofile (self time by file and by
// function, inclusive time by function). To profile the stack child of the benchmark:
//
//   BENCH_STACK_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/ap-prof" npm run bench
//   node bench/profile-summary.mjs /tmp/ap-prof/CPU.<first>.cpuprofile [rows]
//
// (the first profile is the token-endpoint stack of step 2, the second the stack of steps 4-5).
import {existsSync, readFileSync} from 'node:fs'
import {SourceMap} from 'node:module'
import {dirname, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

/** Self time (µs) of each profile node: the time delta that follows each of its samples. */
function selfTimes(profile) {
  const selfTime = new Map()
  profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  return selfTime
}

/**
 * Where the code that ran lives: a package in node_modules (the innermost one), ap-demo's own code,
 * Node's module loader, the rest of Node, or V8's own entries ("(program)", "(garbage collector)").
 */
export function location(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const path = url.replace(/^file:\/\//, '')
  const i = path.lastIndexOf('/node_modules/')
  if (i !== -1) {
    const [a, b] = path.slice(i + '/node_modules/'.length).split('/')
    return a.startsWith('@') ? `${a}/${b}` : a
  }
  if (/^node:internal\/(modules|process\/esm_loader|vm)/.test(path)) return 'node: module loader'
  if (path.startsWith('node:')) return 'node: other'
  return 'ap-demo'
}

const maps = new Map()
/**
 * The file a profiled function came from before bundling: scripts/bundle.mjs writes a source map
 * next to each output file (not linked, not shipped); for other files, the file itself.
 */
function originalUrl({url, lineNumber, columnNumber}) {
  if (!url.startsWith('file://') || !url.includes('/dist/bundle/')) return url
  const file = fileURLToPath(url)
  if (!maps.has(file)) maps.set(file, existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) : null)
  const entry = maps.get(file)?.findEntry(lineNumber, columnNumber)
  return entry?.originalSource ? pathToFileURL(resolve(dirname(file), entry.originalSource)).href : url
}

/**
 * A profile's time grouped by location(): {totalMs, rows: [{where, ms, files}]}, largest first.
 * A sample in Node's or V8's code counts for the nearest package (or ap-demo) up its stack, when
 * there is one: a module's top-level code, or a call into Node made from a package, is that
 * package's cost. What remains under "node: module loader" is loading ES modules (resolve, read,
 * compile, link), which runs with no package on the stack.
 */
export function selfTimeByLocation(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const isCode = (where) => !where.startsWith('(') && !where.startsWith('node:')
  const groups = new Map()
  let total = 0
  for (const [id, t] of selfTimes(profile)) {
    total += t
    const url = originalUrl(nodes.get(id).callFrame)
    let where = location(url, nodes.get(id).callFrame.functionName)
    for (let cur = parent.get(id); !isCode(where) && where !== '(idle)' && cur !== undefined; cur = parent.get(cur)) {
      const up = location(originalUrl(nodes.get(cur).callFrame), nodes.get(cur).callFrame.functionName)
      if (isCode(up)) where = up
    }
    const g = groups.get(where) ?? {where, us: 0, files: new Set()}
    g.us += t
    if (url) g.files.add(url)
    groups.set(where, g)
  }
  const rows = [...groups.values()].map((g) => ({where: g.where, ms: g.us / 1000, files: g.files.size})).sort((a, b) => b.ms - a.ms)
  return {totalMs: total / 1000, rows}
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) summarize()

function summarize() {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [rows]')
    process.exit(2)
  }
  const rows = Number(process.argv[3] ?? 30)
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  const shortUrl = (url) => {
    const path = url.replace(/^file:\/\//, '')
    if (path.includes('/node_modules/')) return path.replace(/.*\/node_modules\//, 'nm:')
    return path.replace(/^.*?\/(dist|bench)\//, '$1/')
  }
  const where = (cf) => shortUrl(cf.url) || `(${cf.functionName || 'native'})`
  const fnKey = (cf) => `${cf.functionName || '(anonymous)'} ${where(cf)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`

  const selfTime = selfTimes(profile)

  let total = 0
  const byFile = new Map()
  const byFunction = new Map()
  const inclusive = new Map()
  const add = (map, key, t) => map.set(key, (map.get(key) ?? 0) + t)
  for (const [id, t] of selfTime) {
    total += t
    const cf = nodes.get(id).callFrame
    add(byFile, where(cf), t)
    add(byFunction, fnKey(cf), t)
    const seen = new Set()
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = fnKey(nodes.get(cur).callFrame)
      if (!seen.has(key)) {
        seen.add(key)
        add(inclusive, key, t)
      }
    }
  }
  const top = (map, k) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n')
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`)
  console.log(`--- self time by file\n${top(byFile, 15)}`)
  console.log(`--- self time by function\n${top(byFunction, rows)}`)
  console.log(`--- inclusive time by function\n${top(inclusive, rows)}`)
}
