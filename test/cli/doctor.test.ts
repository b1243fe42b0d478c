// `ap-demo doctor` as a user runs it: the report on stdout within 100 columns, the --json envelope,
// the exit codes, no secret anywhere, --har and --diagram; and verify and the wizard pointing to
// doctor when a step fails against servers ap-demo did not start (and only then).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ConfigStore} from '../../src/config/store.js'
import type {StackHandle} from '../../src/stack/index.js'
import {startFakeAs, startMcpDeployment, type FakeAs, type McpDeployment} from '../doctor/deployments.js'
import {assertCleanFailure, closedPort, Sandbox, terminate, useTestStack} from './helpers.js'

const json = (stdout: string) => JSON.parse(stdout) as {status: string; ok?: boolean; result: any; error?: any}

/** Every line of the human report fits 100 columns. */
function assertWidth(stdout: string): void {
  for (const line of stdout.split('\n')) assert.ok(line.length <= 100, `${line.length} columns: ${line}`)
}

describe('ap-demo doctor', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  useTestStack((s) => ({stack, env} = s))
  const box = new Sandbox()
  let secret = ''
  let foreign!: McpDeployment
  const stops: Array<() => Promise<void>> = []

  before(async () => {
    assert.equal((await box.run(['setup', 'resource'], {env})).code, 0)
    const client = await box.run(['setup', 'client', '--json'], {env})
    assert.equal(client.code, 0, client.stderr)
    secret = new ConfigStore({cwd: join(box.root, 'config', 'ap-demo')}).getProfile('default').client!.secret
    assert.ok(secret.length > 20)
    // An MCP server in front of the same issuer whose metadata announces another resource.
    foreign = await startMcpDeployment({authorizationServers: [stack.issuer], prmResource: 'https://elsewhere.example/mcp', verify: {jwks: `${stack.issuer}/.well-known/jwks.json`}})
    stops.push(() => foreign.stop())
  })
  after(async () => {
    for (const stop of stops) await stop()
    box.cleanup()
  })

  it('a healthy deployment: one line per step, the primary finding ok, exit 0, within 100 columns, no secret', async () => {
    const har = join(box.root, 'doctor.har')
    const r = await box.run(['doctor', '--har', har], {env})
    assert.equal(r.code, 0, r.stderr)
    const steps = r.stdout.split('\n').filter((l) => /^\[ \d\/7\] (OK  |SKIP|FAIL) /.test(l))
    assert.deepEqual(steps.map((l) => l.slice(12, 34).trim()), ['MCP server, no token', 'resource metadata', 'authorization server', 'token minted', 'MCP connect', 'tools/list', 'tools/call'])
    assert.match(r.stdout, /^primary finding: ok$/m)
    assert.match(r.stdout, /tools\/call echo \{"text":"ap-demo doctor"\}/)
    assertWidth(r.stdout)
    const text = readFileSync(har, 'utf8')
    for (const out of [r.stdout, r.stderr, text]) assert.ok(!out.includes(secret), 'the client secret appears nowhere')
    const tokens = JSON.parse(text).log.entries.map((e: any) => e.response.content?.text ?? '').join('\n')
    assert.doesNotMatch(tokens, /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/, 'no token in the HAR')
  })

  it('--json: {status, ok, result: {primary, findings}}; a finding exits 1 with the report, no Error line', async () => {
    const good = await box.run(['doctor', '--json'], {env})
    assert.equal(good.code, 0)
    const ok = json(good.stdout)
    assert.equal(ok.status, 'ok')
    assert.equal(ok.ok, true)
    assert.equal(ok.result.primary, 'ok')
    assert.deepEqual(Object.keys(ok.result.findings[0]).sort(), ['evidence', 'fix', 'id', 'severity', 'summary'])
    assert.equal(ok.result.token.claims.aud[0], stack.resource, 'the token as its claims')

    const bad = await box.run(['doctor', '--scope', 'mcp:nope', '--json'], {env})
    assert.equal(bad.code, 1)
    const doc = json(bad.stdout)
    assert.equal(doc.status, 'error')
    assert.equal(doc.ok, false)
    assert.equal(doc.result.primary, 'scope_not_allowed')
    assert.equal(doc.result.findings[0].id, 'scope_not_allowed')
    assert.deepEqual(doc.error, {code: 'scope_not_allowed', message: doc.result.findings[0].summary, hint: doc.result.findings[0].fix, exitCode: 1})

    const human = await box.run(['doctor', '--scope', 'mcp:nope'], {env})
    assert.equal(human.code, 1)
    assert.match(human.stdout, /^\[ 4\/7\] FAIL token minted/m)
    assert.match(human.stdout, /^primary finding: scope_not_allowed \(error\)$/m)
    assert.match(human.stdout, /^evidence:$/m)
    assert.match(human.stdout, /^fix:$/m)
    assert.doesNotMatch(human.stderr, /^Error:/m, 'the report on stdout is the whole story')
    assertWidth(human.stdout)
  })

  it('--diagram=ascii draws the walk; mcp_unreachable on a closed port exits 1', async () => {
    const drawn = await box.run(['doctor', '--diagram=ascii'], {env})
    assert.equal(drawn.code, 0, drawn.stderr)
    assert.match(drawn.stdout, /-- 4\. token minted -+/)
    assert.match(drawn.stdout, /POST \/oauth\/token · 200/)
    const down = await box.run(['doctor', '--mcp-url', `http://127.0.0.1:${await closedPort()}/mcp`, '--json'], {env})
    assert.equal(down.code, 1)
    assert.equal(json(down.stdout).result.primary, 'mcp_unreachable')
  })

  it('doctor itself cannot run: a bad flag (2), no client for a server that wants a token (7)', async () => {
    assertCleanFailure(await box.run(['doctor', '--protocol', '2024-01-01'], {env}), 2)
    const empty = new Sandbox(env)
    try {
      const r = await empty.run(['doctor'])
      assertCleanFailure(r, 7, /asks for a token, but profile "default" has no client/)
      assert.match(r.stdout, /^\[ 1\/7\] OK   MCP server, no token/m, 'the steps so far are shown')
    } finally {
      empty.cleanup()
    }
  })

  it('server text reaches the terminal escaped (escape sequences in an error_description and a tool answer)', async () => {
    const as: FakeAs = await startFakeAs({clientErrorDescription: 'bad client\u001b]0;pwned\u0007\u001b[2J'})
    stops.push(() => as.stop())
    const d: McpDeployment = await startMcpDeployment({authorizationServers: [as.issuer], verify: {jwks: as.jwksUrl}, tools: [{name: 'echo', requiredText: ['text'], answer: 'hi\u001b[2J'}]})
    stops.push(() => d.stop())
    const refused = await box.run(['doctor', '--mcp-url', d.url, '--client-id', as.client.id], {env: {...env, AUTHPLANE_CLIENT_SECRET: 'wrong-secret'}})
    assert.equal(refused.code, 1, refused.stdout + refused.stderr)
    assert.match(refused.stdout, /^primary finding: client_rejected/m)
    assert.ok(!refused.stdout.includes('\u001b'), 'no raw ESC on stdout')
    assert.match(refused.stdout, /bad client\\x1b\]0;pwned\\x07\\x1b\[2J/)
    const ok = await box.run(['doctor', '--mcp-url', d.url, '--client-id', as.client.id], {env: {...env, AUTHPLANE_CLIENT_SECRET: as.client.secret}})
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    assert.ok(!ok.stdout.includes('\u001b'), 'no raw ESC on stdout')
  })

  it('verify against servers ap-demo did not start points to doctor with the exact command line', async () => {
    const r = await box.run(['verify', '--timeout', '5'], {env: {...env, MCP_URL: foreign.url}})
    assert.equal(r.code, 7, r.stderr)
    assert.match(r.stdout, /\[ 2\/10\] FAIL MCP server ready/)
    const hint = /^Hint: (.*)$/m.exec(r.stderr)![1]!
    assert.ok(hint.includes(`Then: ap-demo doctor --mcp-url ${foreign.url} walks this deployment`), hint)
    const viaJson = json((await box.run(['verify', '--timeout', '5', '--json'], {env: {...env, MCP_URL: foreign.url}})).stdout)
    assert.equal(viaJson.error.report.doctor, `ap-demo doctor --mcp-url ${foreign.url}`)
  })

  it('verify against the servers `stack up` started (the profile says so) does not point to doctor', async () => {
    const own = new Sandbox()
    try {
      const {child} = await own.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--json'])
      try {
        const profile = new ConfigStore({cwd: join(own.root, 'config', 'ap-demo')}).getProfile('default')
        assert.equal(profile.startedStack?.by, 'stack up')
        assert.equal(profile.startedStack?.mcpUrl, profile.mcpUrl)
        // The same failure as above (the MCP server announces another resource), on ap-demo's own servers.
        const r = await own.run(['verify', '--timeout', '5', '--resource', 'http://127.0.0.1:1/other'])
        assert.equal(r.code, 7, r.stderr)
        assert.match(r.stdout, /\[ 2\/10\] FAIL MCP server ready/)
        assert.doesNotMatch(r.stderr, /ap-demo doctor/)
      } finally {
        await terminate(child)
      }
    } finally {
      own.cleanup()
    }
  })

  it('the wizard points to doctor when its verify fails against servers it did not start', async () => {
    const wizard = new Sandbox(env)
    try {
      const r = await wizard.run(['setup', '--yes', '--verify', '--mcp-url', foreign.url, '--uri', foreign.url, '--slug', 'doctor-wizard'])
      assert.equal(r.code, 7, r.stdout + r.stderr)
      assert.match(r.stderr, /FAIL MCP server ready/)
      assert.match(r.stderr, new RegExp(`^Hint: .*Then: ap-demo doctor --mcp-url ${foreign.url.replace(/[.]/g, '\\.')} walks this deployment`, 'm'))
    } finally {
      wizard.cleanup()
    }
  })
})
