#!/usr/bin/env node
// ap-demo as the client under test of the MCP conformance suite (pinned 0.1.16, run with Node 22):
// `initialize` and `tools_call` (no authorization), and every `auth/*` client scenario the suite
// lists, each through the ap-demo commands interop/scenario-commands.mjs gives it (`login` then
// `mcp call`, or `mcp call` with a client for the client_credentials ones). A scenario that does
// not apply is reported with its reason (docs/compatibility.md), never left out silently; a suite
// scenario with no entry there fails the run. On top of the suite's own verdict, the requests it
// recorded are checked for what the MCP authorization spec asks of every client (EXTRA below).
//   node interop/client-scenarios.mjs        (after npm run build and bash interop/install-tools.sh)
//   node interop/client-scenarios.mjs auth/scope-step-up ...   (only those)
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {REPO, findChecks, interopTools, runSuite, summarise} from './lib.mjs'
import {commandsFor} from './scenario-commands.mjs'

const PROTOCOL_SCENARIOS = ['initialize', 'tools_call']
/** Scenarios run at once: each starts its own servers on free ports and two to four ap-demo processes. */
const CONCURRENCY = 3

/** The protected resource metadata the suite served, if it served one. */
function servedResource(checks) {
  const prm = checks.find((c) => c.id === 'outgoing-response' && c.details?.path?.startsWith('/.well-known/oauth-protected-resource') && c.details.statusCode === 200)
  const body = typeof prm?.details?.body === 'string' ? JSON.parse(prm.details.body) : prm?.details?.body
  return body?.resource
}

/**
 * What every authorization code flow must show in the suite's request log (MCP authorization
 * 2025-11-25): S256 PKCE, a state, a loopback redirect URI, and the resource (the metadata's, byte
 * for byte, or the MCP URL for a 2025-03-26 server without metadata) in both the authorization and
 * the token request.
 */
function codeFlowProblems(checks, {scenario, serverUrl}) {
  const problems = []
  // The authorization server's requests are logged as incoming-auth-request; a 2025-03-26 server
  // that is its own authorization server logs them with its MCP traffic, as incoming-request.
  const incoming = (suffix) => checks.filter((c) => (c.id === 'incoming-auth-request' || c.id === 'incoming-request') && c.details?.path?.endsWith(suffix))
  const authorizations = incoming('/authorize').map((c) => c.details.query ?? {})
  const tokenPosts = incoming('/token')
  // A 2025-03-26 server parses form bodies after its request log: there the body is not recorded.
  const tokenRequests = tokenPosts.map((c) => c.details.body ?? {}).filter((b) => b.grant_type === 'authorization_code')
  if (scenario === 'auth/resource-mismatch') {
    return authorizations.length === 0 ? [] : [`${authorizations.length} authorization request(s) for a resource that is not the server`]
  }
  if (authorizations.length === 0) problems.push('no authorization request was recorded')
  if (tokenPosts.length === 0) problems.push('no token request was recorded')
  const expected = servedResource(checks) ?? serverUrl
  for (const q of authorizations) {
    if (q.code_challenge_method !== 'S256') problems.push(`authorization request code_challenge_method ${JSON.stringify(q.code_challenge_method)}`)
    if (typeof q.state !== 'string' || q.state.length < 16) problems.push(`authorization request state ${JSON.stringify(q.state)} is not a random value`)
    if (!/^http:\/\/127\.0\.0\.1:\d+\/callback$/.test(q.redirect_uri ?? '')) problems.push(`redirect_uri ${JSON.stringify(q.redirect_uri)} is not a loopback IP literal (RFC 8252 §7.3)`)
    if (expected && q.resource !== expected) problems.push(`authorization request resource ${JSON.stringify(q.resource)} is not ${JSON.stringify(expected)}`)
  }
  for (const b of tokenRequests) {
    if (expected && b.resource !== expected) problems.push(`token request resource ${JSON.stringify(b.resource)} is not ${JSON.stringify(expected)}`)
    if (!b.code_verifier) problems.push('token request without code_verifier')
  }
  return problems
}

/** Extra assertions on what the suite recorded, per scenario; each returns a list of problems. */
const EXTRA = {
  tools_call(checks) {
    const call = checks.find((c) => c.id === 'tool-add-numbers')
    return call?.details?.result === 5 ? [] : [`add_numbers was not called with 2 and 3 (recorded: ${JSON.stringify(call?.details)})`]
  },
  'auth/client-credentials-basic'(checks) {
    const problems = []
    const tokenRequests = checks.filter((c) => c.id === 'incoming-auth-request' && c.details?.path === '/token')
    if (tokenRequests.length !== 1) problems.push(`expected exactly one token request, saw ${tokenRequests.length}`)
    const resource = servedResource(checks)
    if (typeof resource !== 'string') problems.push('the protected resource metadata was never served')
    for (const request of tokenRequests) {
      const body = request.details.body ?? {}
      if (body.grant_type !== 'client_credentials') problems.push(`token request grant_type is ${JSON.stringify(body.grant_type)}`)
      // RFC 8707 + MCP spec: the resource parameter is the metadata's resource, not a URL the client made up.
      if (body.resource !== resource) problems.push(`token request resource ${JSON.stringify(body.resource)} is not the metadata's resource ${JSON.stringify(resource)}`)
      if (body.client_secret !== undefined) problems.push('the secret was sent in the body, not with Basic authentication')
    }
    return problems
  },
  'auth/client-credentials-jwt'(checks) {
    const problems = []
    const tokenRequests = checks.filter((c) => c.id === 'incoming-auth-request' && c.details?.path === '/token').map((c) => c.details.body ?? {})
    const resource = servedResource(checks)
    for (const body of tokenRequests) {
      if (body.resource !== resource) problems.push(`token request resource ${JSON.stringify(body.resource)} is not the metadata's resource ${JSON.stringify(resource)}`)
      if (body.client_secret !== undefined) problems.push('a client_secret was sent with private_key_jwt')
      const claims = JSON.parse(Buffer.from(String(body.client_assertion).split('.')[1] ?? '', 'base64url').toString() || '{}')
      if (!claims.jti || typeof claims.exp !== 'number' || claims.exp - claims.iat > 300) problems.push(`client assertion claims ${JSON.stringify(claims)}: a jti and a short life are required (RFC 7523 §3)`)
    }
    return problems
  },
  'auth/scope-step-up'(checks) {
    const scopes = checks.filter((c) => c.id === 'incoming-auth-request' && c.details?.path?.endsWith('/authorize')).map((c) => c.details.query?.scope)
    return scopes.length === 2 ? [] : [`expected exactly two authorization requests (sign-in, then one step-up), saw ${scopes.length}: ${JSON.stringify(scopes)}`]
  },
}

/** Every client scenario the installed suite lists: the two protocol ones and all auth/* ones. */
async function suiteScenarios(tools) {
  const listed = await runSuite(tools, ['list'])
  const client = listed.output.slice(listed.output.indexOf('Client scenarios'))
  return [...client.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]).filter((name) => name.startsWith('auth/'))
}

async function runScenario(tools, client, scenario) {
  const plan = commandsFor(scenario, {serverUrl: 'http://placeholder/mcp'})
  if (!plan) return {scenario, success: 0, failure: 0, warning: 0, problems: [`no ap-demo commands for this scenario in interop/scenario-commands.mjs: map it, or give the reason it does not apply`], output: ''}
  if (plan.skip) return {scenario, skipped: plan.skip, problems: []}
  const out = mkdtempSync(join(tmpdir(), 'ap-demo-conformance-'))
  try {
    const run = await runSuite(tools, ['client', '--command', client, '--scenario', scenario, '--output-dir', out, '--timeout', '60000'])
    const checks = findChecks(out).flatMap((f) => f.checks)
    const summary = summarise(checks)
    const problems = []
    if (run.code !== 0) problems.push(`the suite exited with ${run.code}`)
    if (summary.verdicts.length === 0) problems.push('the suite recorded no verdict')
    for (const c of summary.verdicts.filter((v) => v.status !== 'SUCCESS')) problems.push(`${c.id}: ${c.status} ${c.description}`)
    const serverUrl = /Executing client: .* (http\S+)/.exec(run.output)?.[1]
    if (scenario.startsWith('auth/') && !scenario.startsWith('auth/client-credentials')) problems.push(...codeFlowProblems(checks, {scenario, serverUrl}))
    problems.push(...(EXTRA[scenario]?.(checks) ?? []))
    return {scenario, ...summary, problems, output: run.output}
  } finally {
    rmSync(out, {recursive: true, force: true})
  }
}

async function runClientScenarios(only) {
  const tools = interopTools()
  const client = `${process.execPath} ${join(REPO, 'interop', 'conformance-client.mjs')}`
  if (/\s/.test(process.execPath) || /\s/.test(REPO)) {
    // The suite splits --command on spaces; a quoted path would reach the shell as two words.
    console.error(`client-scenarios: the suite cannot run a client whose path has a space (${REPO}, ${process.execPath}); use a checkout path without spaces`)
    process.exit(2)
  }
  const all = [...PROTOCOL_SCENARIOS, ...(await suiteScenarios(tools))]
  const scenarios = only.length > 0 ? all.filter((s) => only.includes(s)) : all
  const results = new Array(scenarios.length)
  let next = 0
  await Promise.all(
    Array.from({length: CONCURRENCY}, async () => {
      while (next < scenarios.length) {
        const i = next++
        results[i] = await runScenario(tools, client, scenarios[i])
      }
    }),
  )
  return {tools, results, auth: scenarios.filter((s) => s.startsWith('auth/')).length}
}

// Always the entry point (run by interop/run.mjs or by hand), so it cannot be skipped silently.
const only = process.argv.slice(2)
const {tools, results, auth} = await runClientScenarios(only)
console.log(`MCP conformance ${tools.version}, client scenarios, ap-demo as the client under test (${auth} auth scenarios listed by the suite):`)
for (const r of results) {
  if (r.skipped) {
    console.log(`  SKIP  ${r.scenario.padEnd(42)} does not apply (docs/compatibility.md): ${r.skipped}`)
    continue
  }
  console.log(`  ${r.problems.length === 0 ? 'PASS' : 'FAIL'}  ${r.scenario.padEnd(42)} ${r.success} passed, ${r.failure} failed, ${r.warning} warnings`)
  for (const p of r.problems) console.log(`        ${p}`)
}
const failed = results.filter((r) => r.problems.length > 0)
const passed = results.filter((r) => !r.skipped && r.problems.length === 0)
console.log(`${passed.length} passed, ${failed.length} failed, ${results.filter((r) => r.skipped).length} not applicable`)
for (const r of failed) console.error(`\n--- suite output for ${r.scenario} ---\n${r.output}`)
process.exit(failed.length === 0 && results.length > 0 ? 0 : 1)
