// Where each command's start-up time goes (issue 12, "measure first"). Not part of `npm run bench`:
// a diagnostic. Against the embedded stack (bench/stack-server.mjs, in a child), it runs
//   ap-demo --version, ap-demo token mint (cached token), ap-demo mcp call echo (cached token),
//   ap-demo verify, and ap-demo stack up until its first request is served
// each under V8's sampling profiler (--cpu-prof), and prints for each: the wall time, the CPU time
// the profile saw, and that CPU time split by where the code lives: each package in node_modules,
// ap-demo's own code, Node's module loader (resolving, reading, linking), the rest of Node, and
// V8's own work ("(program)": mostly parsing and compiling, "(garbage collector)"). Bundled code is
// traced back to its package through the source maps scripts/bundle.mjs writes. Last, what oclif's
// Config.load (the first step of every command) spends, how much of it the plugins take, and the
// floor of any oclif CLI: @oclif/core's run alone, and its --version with no ap-demo code.
//
//   npm run build && node bench/startup-profile.mjs [--node <path>] [--rows 12] [--keep <dir>]
//
// --node runs the commands with another Node (e.g. Node 22 from interop/install-tools.sh); --keep
// leaves the .cpuprofile files in <dir> for a closer look (bench/profile-summary.mjs, or Chrome's
// DevTools). One run per command, so the numbers carry the machine's noise: read the split, not
// the last millisecond.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {parseArgs} from 'node:util'

import {ROOT} from './lib.mjs'
import {selfTimeByLocation} from './profile-summary.mjs'

const {values: opt} = parseArgs({options: {node: {type: 'string'}, rows: {type: 'string', default: '12'}, keep: {type: 'string'}}})
const NODE = opt.node ?? process.execPath
const ROWS = Number(opt.rows)
const CLI = join(ROOT, 'bin', 'run.js')
const tmp = mkdtempSync(join(os.tmpdir(), 'ap-demo-startup-profile-'))
const profDir = opt.keep ?? join(tmp, 'profiles')
mkdirSync(profDir, {recursive: true})
const children = new Set()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  rmSync(tmp, {recursive: true, force: true})
})

/** The embedded stack with the walkthrough's resource and client registered (in memory, free ports). */
async function startStack() {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'stack-server.mjs')], {stdio: ['pipe', 'pipe', 'inherit']})
  children.add(child)
  for await (const line of createInterface({input: child.stdout})) {
    if (line.startsWith('{"ready"')) return {child, info: JSON.parse(line).ready}
  }
  throw new Error('bench/stack-server.mjs ended before it was ready')
}

/** Node parses NODE_EXTRA_CA_CERTS at every start, which says nothing about ap-demo (bench/run.mjs drops it too). */
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'))

function cliEnv(info) {
  const env = Object.fromEntries(Object.entries(BASE_ENV).filter(([k]) => !/^(AUTHPLANE_|AP_DEMO_|XDG_)/.test(k)))
  const home = join(tmp, 'home')
  mkdirSync(home, {recursive: true})
  return {...env, HOME: home, NO_COLOR: '1', AUTHPLANE_ISSUER: info.issuer, ADMIN_URL: info.adminUrl, AUTHPLANE_ADMIN_API_KEY: info.adminKey, MCP_URL: info.mcpUrl, AUTHPLANE_RESOURCE: info.resource}
}

/** Runs `ap-demo <args>` to completion under --cpu-prof; returns its wall time and its profile. */
function profiled(name, args, env) {
  const dir = join(profDir, name)
  const began = performance.now()
  const r = spawnSync(NODE, ['--cpu-prof', `--cpu-prof-dir=${dir}`, CLI, ...args], {env, cwd: tmp, encoding: 'utf8', timeout: 120_000})
  const wallMs = performance.now() - began
  if (r.status !== 0) throw new Error(`ap-demo ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`)
  return {wallMs, profile: readProfile(dir)}
}

function readProfile(dir) {
  const [file] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  return JSON.parse(readFileSync(join(dir, file), 'utf8'))
}

/**
 * `ap-demo stack up` on free ports, in memory: the time from spawn until the issuer has answered its
 * first request (RFC 8414 metadata, 200), then SIGINT so that it stops cleanly and the profile is
 * written.
 */
async function profiledStackUp(env) {
  const dir = join(profDir, 'stack-up')
  const began = performance.now()
  const child = spawn(NODE, ['--cpu-prof', `--cpu-prof-dir=${dir}`, CLI, 'stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--no-save', '--json'], {env, cwd: tmp, stdio: ['ignore', 'pipe', 'inherit']})
  children.add(child)
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  let issuer
  while (!issuer) {
    if (child.exitCode !== null) throw new Error(`ap-demo stack up exited (${child.exitCode}) before it was ready:\n${out}`)
    await new Promise((r) => setTimeout(r, 2))
    try {
      issuer = JSON.parse(out).result.issuer
    } catch {}
  }
  const res = await fetch(`${issuer}/.well-known/oauth-authorization-server`)
  if (res.status !== 200) throw new Error(`the stack's issuer answered ${res.status}`)
  await res.arrayBuffer()
  const wallMs = performance.now() - began
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGINT')
  await exited
  children.delete(child)
  return {wallMs, profile: readProfile(dir)}
}

const fmt = (ms) => `${ms.toFixed(0).padStart(5)} ms`

function report(label, {wallMs, profile}, baseMs) {
  const {totalMs, rows} = selfTimeByLocation(profile)
  console.log(`\n${label}: ${wallMs.toFixed(0)} ms wall${baseMs ? ` (${(wallMs / baseMs).toFixed(1)}x node -e 0)` : ''}, ${totalMs.toFixed(0)} ms in the profile`)
  for (const r of rows.slice(0, ROWS)) console.log(`  ${fmt(r.ms)}  ${((100 * r.ms) / totalMs).toFixed(0).padStart(3)}%  ${r.where}${r.files > 1 ? `  (${r.files} files)` : ''}`)
  const rest = rows.slice(ROWS).reduce((t, r) => t + r.ms, 0)
  if (rest > 0) console.log(`  ${fmt(rest)}        ${rows.length - ROWS} more`)
}

/**
 * What oclif's Config.load (every command's first step) spends, and how much of it goes to the
 * plugins (help, autocomplete, not-found), from oclif's own performance markers
 * (globalThis.oclif.performanceEnabled), median of 7 fresh processes.
 */
function configLoadCost() {
  const script = `globalThis.oclif = {performanceEnabled: true}
    const {Config, Performance} = await import('@oclif/core')
    await Config.load({root: process.cwd()})
    await Performance.collect()
    const out = {}
    for (const results of Performance._results.values()) for (const r of results) out[r.name] = r.duration
    process.stdout.write(JSON.stringify(out))`
  const runs = Array.from({length: 7}, () => {
    const r = spawnSync(NODE, ['--input-type=module', '-e', script], {cwd: ROOT, env: BASE_ENV, encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`oclif Config.load failed:\n${r.stderr}`)
    return JSON.parse(r.stdout)
  })
  const med = (name) => runs.map((r) => r[name] ?? 0).sort((a, b) => a - b)[3]
  const plugins = Object.keys(runs[0]).filter((n) => /^plugin\.load#@oclif\//.test(n))
  console.log(`\noclif Config.load (oclif's performance markers, median of 7): ${med('config.load').toFixed(1)} ms, of which`)
  console.log(`  ${med('plugin.load#root').toFixed(1).padStart(6)} ms  ap-demo's package.json and oclif.manifest.json`)
  console.log(`  ${med('config.loadAllPlugins').toFixed(1).padStart(6)} ms  the ${plugins.length} plugins, loaded side by side (${plugins.map((n) => `${n.slice('plugin.load#@oclif/'.length)} ${med(n).toFixed(1)}`).join(', ')} ms): package.json and manifest each; their code loads only when one of their commands or hooks runs`)
}

/**
 * The floor of any oclif CLI on this machine: loading @oclif/core's `run` entry point, and running
 * `--version` through it with ap-demo's package.json (no ap-demo code), in fresh processes,
 * alternately with node -e 0, median of 9.
 */
function oclifFloor() {
  const cases = {
    bare: ['-e', '0'],
    load: ['--input-type=module', '-e', "await import('@oclif/core/run')"],
    version: ['--input-type=module', '-e', `const {run} = await import('@oclif/core/run'); await run(['--version'], ${JSON.stringify(join(ROOT, 'bin', 'run.js'))})`],
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let i = 0; i < 9; i++) {
    for (const [k, args] of Object.entries(cases)) {
      const t = performance.now()
      const r = spawnSync(NODE, args, {cwd: ROOT, env: BASE_ENV, encoding: 'utf8'})
      times[k].push(performance.now() - t)
      if (r.status !== 0) throw new Error(`${args.join(' ')} failed:\n${r.stderr}`)
    }
  }
  const med = (k) => times[k].sort((a, b) => a - b)[4]
  const x = (ms) => `${ms.toFixed(0)} ms (${(ms / med('bare')).toFixed(1)}x node -e 0)`
  console.log(`\nthe oclif floor, no ap-demo code (median of 9): node -e 0 ${med('bare').toFixed(0)} ms; import of @oclif/core's run ${x(med('load'))}; its run(['--version']) with ap-demo's package.json ${x(med('version'))}`)
}

const version = spawnSync(NODE, ['--version'], {encoding: 'utf8'}).stdout.trim()
console.log(`ap-demo start-up profile, Node ${version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`)
const stack = await startStack()
try {
  const env = cliEnv(stack.info)
  for (const args of [['setup', 'resource'], ['setup', 'client'], ['token', 'mint']]) {
    const r = spawnSync(NODE, [CLI, ...args], {env, cwd: tmp, encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`ap-demo ${args.join(' ')} failed:\n${r.stderr}`)
  }
  const bare = [0, 1, 2].map(() => {
    const t = performance.now()
    spawnSync(NODE, ['-e', '0'], {env: BASE_ENV})
    return performance.now() - t
  })
  const baseMs = bare.sort((a, b) => a - b)[1]
  console.log(`node -e 0: ${baseMs.toFixed(0)} ms wall (median of 3)`)
  report('ap-demo --version', profiled('version', ['--version'], env), baseMs)
  report('ap-demo token mint (cached token)', profiled('token-mint', ['token', 'mint'], env), baseMs)
  report('ap-demo mcp call echo (cached token)', profiled('mcp-call', ['mcp', 'call', 'echo', '--text', 'profile'], env), baseMs)
  report('ap-demo verify', profiled('verify', ['verify'], env), baseMs)
  // The embedded stack needs better-sqlite3's addon built for this Node (scripts/test-node22.sh
  // builds one for Node 22 only while it runs).
  const sqlite = spawnSync(NODE, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], {cwd: ROOT, encoding: 'utf8'})
  if (sqlite.status === 0) report('ap-demo stack up, until the first request is served', await profiledStackUp(env), baseMs)
  else console.log(`\nap-demo stack up: not profiled, node_modules/better-sqlite3 is not built for Node ${version}`)
  configLoadCost()
  oclifFloor()
  if (opt.keep) console.log(`\nprofiles kept in ${profDir}`)
} finally {
  stack.child.kill('SIGTERM')
}
