#!/usr/bin/env node
// ap-demo as the client under test of the MCP conformance suite (pinned 0.1.16, run with Node 22):
// the scenarios `initialize` and `tools_call` (no authorization) and `auth/client-credentials-basic`
// (client_credentials with client_secret_basic, found from the server's 401 alone). On top of the
// suite's own verdict, the token request it recorded must carry `resource` equal to the `resource`
// of the protected resource metadata it served, byte for byte.
//   node interop/client-scenarios.mjs        (after npm run build and bash interop/install-tools.sh)
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {REPO, findChecks, interopTools, runSuite, summarise} from './lib.mjs'

const SCENARIOS = ['initialize', 'tools_call', 'auth/client-credentials-basic']

/** Extra assertions on what the suite recorded, per scenario; each returns a list of problems. */
const EXTRA = {
  tools_call(checks) {
    const call = checks.find((c) => c.id === 'tool-add-numbers')
    return call?.details?.result === 5 ? [] : [`add_numbers was not called with 2 and 3 (recorded: ${JSON.stringify(call?.details)})`]
  },
  'auth/client-credentials-basic'(checks) {
    const problems = []
    const prm = checks.find((c) => c.id === 'outgoing-response' && c.details?.path?.startsWith('/.well-known/oauth-protected-resource') && c.details.statusCode === 200)
    const tokenRequests = checks.filter((c) => c.id === 'incoming-auth-request' && c.details?.path === '/token')
    if (!prm) problems.push('the protected resource metadata was never served')
    if (tokenRequests.length !== 1) problems.push(`expected exactly one token request, saw ${tokenRequests.length}`)
    const resource = prm?.details?.body?.resource
    for (const request of tokenRequests) {
      const body = request.details.body ?? {}
      if (body.grant_type !== 'client_credentials') problems.push(`token request grant_type is ${JSON.stringify(body.grant_type)}`)
      // RFC 8707 + MCP spec: the resource parameter is the metadata's resource, not a URL the client made up.
      if (typeof resource !== 'string' || body.resource !== resource) {
        problems.push(`token request resource ${JSON.stringify(body.resource)} is not the metadata's resource ${JSON.stringify(resource)}`)
      }
      if (body.client_secret !== undefined) problems.push('the secret was sent in the body, not with Basic authentication')
    }
    return problems
  },
}

async function runClientScenarios() {
  const tools = interopTools()
  const client = `${process.execPath} ${join(REPO, 'interop', 'conformance-client.mjs')}`
  if (/\s/.test(process.execPath) || /\s/.test(REPO)) {
    // The suite splits --command on spaces; a quoted path would reach the shell as two words.
    console.error(`client-scenarios: the suite cannot run a client whose path has a space (${REPO}, ${process.execPath}); use a checkout path without spaces`)
    process.exit(2)
  }
  const results = []
  for (const scenario of SCENARIOS) {
    const out = mkdtempSync(join(tmpdir(), 'ap-demo-conformance-'))
    try {
      const run = await runSuite(tools, ['client', '--command', client, '--scenario', scenario, '--output-dir', out, '--timeout', '60000'])
      const files = findChecks(out)
      const checks = files.flatMap((f) => f.checks)
      const summary = summarise(checks)
      const problems = []
      if (run.code !== 0) problems.push(`the suite exited with ${run.code}`)
      if (summary.verdicts.length === 0) problems.push('the suite recorded no verdict')
      for (const c of summary.verdicts.filter((v) => v.status !== 'SUCCESS')) problems.push(`${c.id}: ${c.status} ${c.description}`)
      problems.push(...(EXTRA[scenario]?.(checks) ?? []))
      results.push({scenario, ...summary, problems, output: run.output})
    } finally {
      rmSync(out, {recursive: true, force: true})
    }
  }
  return {tools, results}
}

// Always the entry point (run by interop/run.mjs or by hand), so it cannot be skipped silently.
const {tools, results} = await runClientScenarios()
console.log(`MCP conformance ${tools.version}, client scenarios, ap-demo as the client under test:`)
for (const r of results) {
  console.log(`  ${r.problems.length === 0 ? 'PASS' : 'FAIL'}  ${r.scenario.padEnd(32)} ${r.success} passed, ${r.failure} failed, ${r.warning} warnings`)
  for (const p of r.problems) console.log(`        ${p}`)
}
const failed = results.filter((r) => r.problems.length > 0)
for (const r of failed) console.error(`\n--- suite output for ${r.scenario} ---\n${r.output}`)
process.exit(failed.length === 0 && results.length === SCENARIOS.length ? 0 : 1)
