#!/usr/bin/env node
// Every outside check, one after the other: software nobody here wrote judging ap-demo and its
// embedded stack. Exits non-zero when any of them fails. Needs `npm run build` and
// `bash interop/install-tools.sh` first (CI does both). docs/compatibility.md lists what each proves.
//   npm run interop
import {spawn} from 'node:child_process'
import {join} from 'node:path'

import {REPO, killGroup} from './lib.mjs'

const CHECKS = [
  {name: 'MCP conformance client scenarios (ap-demo as the client)', script: 'client-scenarios.mjs'},
  {name: 'MCP SDK simpleClientCredentials example against ap-demo stack up', script: 'sdk-client-credentials.mjs'},
  {name: 'MCP conformance server scenarios against the tier-01 server', script: 'server-scenarios.mjs'},
]

let current
// Each check runs in a process group of its own, so that a stop (or the backstop below) also ends
// the servers and clients it started.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) killGroup(current, 'SIGTERM')
    process.exit(130)
  })
}

function run(script) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [join(REPO, 'interop', script)], {cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'], detached: true})
    current = child
    let stdout = ''
    child.stdout.on('data', (d) => {
      stdout += d
      process.stdout.write(d)
    })
    // Each script bounds its own waits; this is the backstop for a hang nobody foresaw.
    const timer = setTimeout(() => killGroup(child), 5 * 60_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      current = undefined
      // A check that exits 0 without saying PASS did not run what it should have.
      const said = /\bPASS\b/.test(stdout)
      resolve({code: code === 0 && !said ? 1 : (code ?? (signal ? 128 : 1)), ms: Date.now() - started, said})
    })
  })
}

const results = []
for (const check of CHECKS) {
  console.log(`\n== ${check.name} (interop/${check.script})`)
  results.push({...check, ...(await run(check.script))})
}
console.log('\nOutside checks:')
for (const r of results) console.log(`  ${r.code === 0 ? 'PASS' : 'FAIL'}  ${r.name}  (${(r.ms / 1000).toFixed(1)} s)${r.said ? '' : ' (it never reported PASS)'}`)
const failed = results.filter((r) => r.code !== 0)
console.log(failed.length === 0 ? 'ALL OUTSIDE CHECKS PASSED' : `${failed.length} OUTSIDE CHECK(S) FAILED`)
process.exit(failed.length === 0 ? 0 : 1)
