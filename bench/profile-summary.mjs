// Diagnostic, not part of `npm run bench`: summarizes a V8 .cpuprofile (self time by file and by
// function, inclusive time by function). To profile the stack child of the benchmark:
//
//   BENCH_STACK_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/ap-prof" npm run bench
//   node bench/profile-summary.mjs /tmp/ap-prof/CPU.<first>.cpuprofile [rows]
//
// (the first profile is the token-endpoint stack of step 2, the second the stack of steps 4-5).
import {readFileSync} from 'node:fs'

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

// Sample weights: the time delta that follows each sample.
const selfTime = new Map()
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

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
