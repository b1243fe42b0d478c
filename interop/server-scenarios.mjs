#!/usr/bin/env node
// The SDK check in reverse: our tier-01 MCP server under test of the MCP conformance suite (pinned
// 0.1.16, run with Node 22), server scenarios `server-initialize`, `ping`, `tools-list` and
// `dns-rebinding-protection`. The suite cannot send a bearer token, so it talks to our server
// through interop/bearer-proxy.mjs, which adds a real token minted by our embedded authorization
// server and otherwise passes requests through (see mapHost() there for the one Host rewrite).
//
// Verdicts: a FAILURE fails the run, and so does a WARNING unless ACCEPTED_WARNINGS names its
// check with a reason (and a SKIPPED, which proves nothing). The suite is pinned, so a new warning can only come from a change on our
// side; it marks a SHOULD of the spec we stopped meeting, which deserves a decision, not silence.
//   node interop/server-scenarios.mjs        (after npm run build and bash interop/install-tools.sh)
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {startBearerProxy} from './bearer-proxy.mjs'
import {REPO, findChecks, interopTools, runSuite, summarise} from './lib.mjs'

const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection']
const SCOPE = 'mcp:echo'
const HTTP_TIMEOUT_MS = 10_000
const SUITE_TIMEOUT_MS = 120_000

/** check id -> why a WARNING of it is acceptable. Empty: none of these scenarios warns today. */
const ACCEPTED_WARNINGS = {}

/** Extra assertions on what the suite recorded, per scenario; each returns a list of problems. */
const EXTRA = {
  'tools-list'(checks) {
    const tools = checks.find((c) => c.id === 'tools-list')?.details?.tools ?? []
    return tools.includes('echo') ? [] : [`tools/list did not report echo (recorded: ${JSON.stringify(tools)})`]
  },
  'dns-rebinding-protection'(checks, forwarded) {
    const problems = []
    // The 403 must be our server's Host guard speaking, not the proxy or the bearer check.
    const rejected = checks.find((c) => c.id === 'localhost-host-rebinding-rejected')?.details
    if (rejected?.statusCode !== 403 || !/^Forbidden: (Host|Origin) /.test(rejected?.body?.error?.message ?? '')) {
      problems.push(`the rebound request was not refused by the server's Host/Origin guard: ${JSON.stringify(rejected)}`)
    }
    // And the proxy must have handed the rebinding headers through as the suite sent them.
    const evil = forwarded.filter((r) => /evil/.test(r.host ?? ''))
    if (evil.length === 0) problems.push('the proxy saw no request with the rebinding Host')
    for (const r of evil) {
      if (r.forwardedHost !== r.host) problems.push(`the proxy rewrote Host ${r.host} to ${r.forwardedHost}`)
    }
    return problems
  },
}

const cleanups = []
async function cleanup() {
  while (cleanups.length > 0) {
    try {
      await withTimeout(cleanups.pop()(), 15_000, 'shutdown')
    } catch (error) {
      console.error(`cleanup: ${error.message}`)
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup().finally(() => process.exit(130))
  })
}

function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

async function postJson(url, headers, body) {
  const res = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body: JSON.stringify(body), signal: AbortSignal.timeout(HTTP_TIMEOUT_MS)})
  const text = await res.text()
  if (res.status !== 201) throw new Error(`POST ${url} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}

/** A client_credentials token for the resource, the way any OAuth client asks for one (RFC 6749 §4.4, RFC 8707). */
async function mintToken(stack, client) {
  const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')
  const res = await fetch(`${stack.publicUrl}/oauth/token`, {
    method: 'POST',
    headers: {authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json'},
    body: new URLSearchParams({grant_type: 'client_credentials', scope: SCOPE, resource: stack.resource}),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  })
  const body = await res.json()
  if (res.status !== 200 || typeof body.access_token !== 'string') throw new Error(`token request answered ${res.status}: ${JSON.stringify(body)}`)
  return body.access_token
}

async function main() {
  const tools = interopTools()
  const stackModule = join(REPO, 'dist', 'src', 'stack', 'index.js')
  if (!existsSync(stackModule)) {
    console.error('interop: dist/ is missing; run: npm run build')
    return 2
  }
  const {startStack} = await import(pathToFileURL(stackModule).href)
  // In memory, free loopback ports, default MCP server options: the configuration under test.
  const stack = await withTimeout(startStack({port: 0, adminPort: 0, mcpPort: 0}), 30_000, 'starting the stack')
  cleanups.push(() => stack.stop())
  const adminHeaders = {authorization: `Bearer ${stack.adminKey}`}
  await postJson(`${stack.adminUrl}/admin/resources`, adminHeaders, {slug: 'conformance', uri: stack.resource, backend_kind: 'mint', scopes: [{name: SCOPE}]})
  const client = await postJson(`${stack.adminUrl}/admin/clients`, adminHeaders, {
    client_name: 'conformance-bearer-proxy',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: SCOPE,
  })
  const token = await mintToken(stack, client)
  const forwarded = []
  const proxy = await startBearerProxy({target: stack.mcpUrl, token, onRequest: (r) => forwarded.push(r)})
  cleanups.push(() => proxy.stop())
  console.log(`tier-01 MCP server ${stack.mcpUrl} (audience ${stack.resource}), reached by the suite through the bearer proxy ${proxy.url}`)

  const out = mkdtempSync(join(tmpdir(), 'ap-demo-server-scenarios-'))
  let keep = false
  cleanups.push(() => (keep ? console.error(`interop: results kept in ${out}`) : rmSync(out, {recursive: true, force: true})))

  const results = []
  for (const scenario of SCENARIOS) {
    const dir = join(out, scenario)
    const from = forwarded.length
    const run = await runSuite(tools, ['server', '--url', proxy.url, '--scenario', scenario, '--output-dir', dir], {timeoutMs: SUITE_TIMEOUT_MS})
    const checks = findChecks(dir).flatMap((f) => f.checks)
    const summary = summarise(checks)
    const problems = []
    if (summary.verdicts.length === 0) problems.push('the scenario recorded no check')
    // Only SUCCESS, or a WARNING accepted above, passes; SKIPPED proves nothing about our server.
    for (const c of summary.verdicts) {
      if (c.status === 'SUCCESS' || (c.status === 'WARNING' && ACCEPTED_WARNINGS[c.id])) continue
      const why = c.status === 'WARNING' ? ' (not in ACCEPTED_WARNINGS)' : ''
      problems.push(`${c.id}: ${c.status} ${c.errorMessage ?? c.description}${why}`)
    }
    if (run.code !== 0 && problems.length === 0) problems.push(`the suite exited with ${run.code}`)
    problems.push(...(EXTRA[scenario]?.(checks, forwarded.slice(from)) ?? []))
    results.push({scenario, verdicts: summary.verdicts, problems, output: run.output})
  }

  console.log(`\nMCP conformance ${tools.version}, server scenarios, ap-demo's tier-01 MCP server under test:`)
  console.log(`  ${'scenario'.padEnd(26)} ${'check'.padEnd(36)} status`)
  for (const r of results) {
    if (r.verdicts.length === 0) console.log(`  ${r.scenario.padEnd(26)} ${'(none)'.padEnd(36)} -`)
    for (const c of r.verdicts) {
      const note = c.status === 'WARNING' && ACCEPTED_WARNINGS[c.id] ? `  (accepted: ${ACCEPTED_WARNINGS[c.id]})` : ''
      console.log(`  ${r.scenario.padEnd(26)} ${c.id.padEnd(36)} ${c.status}${note}`)
    }
  }
  const failed = results.filter((r) => r.problems.length > 0)
  for (const r of failed) {
    console.error(`\n--- ${r.scenario}: ${r.problems.length} problem(s) ---`)
    for (const p of r.problems) console.error(`  ${p}`)
    console.error(`--- suite output ---\n${r.output}`)
  }
  const total = results.reduce((n, r) => n + r.verdicts.length, 0)
  if (failed.length === 0) {
    console.log(`PASS  ${results.length} scenarios, ${total} checks`)
    return 0
  }
  keep = process.env.AP_DEMO_INTEROP_KEEP === '1'
  console.log(`FAIL  ${failed.map((r) => r.scenario).join(', ')}`)
  return 1
}

main()
  .catch((error) => {
    console.error(`FAIL  ${error?.stack ?? error}`)
    return 1
  })
  .then(async (code) => {
    await cleanup()
    process.exit(code)
  })
