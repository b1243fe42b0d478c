import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ConfigStore} from '../../src/config/store.js'
import type {RecordedExchange} from '../../src/http/recorder.js'
import {startStack, type StackHandle} from '../../src/stack/index.js'
import {toAscii} from '../../src/trace/ascii.js'
import {RunTrace, diagramTarget, type TraceResult} from '../../src/trace/run.js'
import {buildSequence} from '../../src/trace/sequence.js'
import type {WalkthroughContext} from '../../src/walkthrough/context.js'
import {runVerify, VerifyFailed, verifyTargets} from '../../src/walkthrough/verify.js'
import {closedPort} from '../cli/helpers.js'
import {harProblems, mermaidBlock, parseMermaid} from './validators.js'

/** Runs verify in this process with a trace attached, as the CLI does, and returns what it wrote. */
async function tracedVerify(ctx: WalkthroughContext, dir: string, options: {waitMs?: number} = {}) {
  const trace = RunTrace.start({har: join(dir, 'run.har'), diagram: diagramTarget(join(dir, 'flow.md'))})!
  let outcome: {ok: boolean; message: string}
  try {
    await runVerify(ctx, {waitMs: options.waitMs ?? 10_000, echoText: 'traced', ...verifyTargets(ctx), onStart: (step, name) => trace.mark(`${step}. ${name}`)})
    outcome = {ok: true, message: 'ALL CHECKS PASSED'}
  } catch (error) {
    assert.ok(error instanceof VerifyFailed, String(error))
    outcome = {ok: false, message: `step "${error.report.failedStep}" failed: ${(error.failure as Error).message}`}
  }
  const secrets = ctx.adminKey ? [{value: ctx.adminKey, kind: 'admin-key' as const}] : []
  const result: TraceResult = await trace.finish({outcome, endpoints: ctx, secrets, creator: {name: 'ap-demo', version: 'test'}, title: 'verify'})
  return {trace, result, outcome, har: readFileSync(join(dir, 'run.har'), 'utf8'), diagram: readFileSync(join(dir, 'flow.md'), 'utf8')}
}

/** Every secret value a recording carried: in request headers and in response bodies. */
function rawSecrets(exchanges: RecordedExchange[]): string[] {
  const found = new Set<string>()
  for (const x of exchanges) {
    for (const [name, value] of x.request.headers) {
      if (name.toLowerCase() === 'authorization') {
        const credentials = value.split(' ')[1]!
        found.add(credentials)
        if (/^basic /i.test(value)) found.add(decodeURIComponent(Buffer.from(credentials, 'base64').toString('utf8').split(':')[1]!))
      }
    }
    const body = x.response?.body ?? ''
    for (const m of body.matchAll(/"(?:client_secret|access_token)"\s*:\s*"([^"]+)"/g)) found.add(m[1]!)
  }
  return [...found]
}

describe('a traced verify run against the embedded stack', () => {
  let stack!: StackHandle
  let dir!: string
  let temporary!: ReturnType<typeof ConfigStore.temporary>
  let run!: Awaited<ReturnType<typeof tracedVerify>>
  let ctx!: WalkthroughContext

  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
    dir = mkdtempSync(join(tmpdir(), 'ap-demo-trace-'))
    temporary = ConfigStore.temporary()
    ctx = {issuer: stack.issuer, adminUrl: stack.adminUrl, adminKey: stack.adminKey, mcpUrl: stack.mcpUrl, resource: stack.resource, store: temporary.store, profile: 'verify', requestTimeoutMs: 10_000}
    run = await tracedVerify(ctx, dir)
    assert.equal(run.outcome.ok, true, run.outcome.message)
  })
  after(async () => {
    await stack.stop()
    temporary.dispose()
    rmSync(dir, {recursive: true, force: true})
  })

  it('writes HAR 1.2 that the HAR schema accepts, mode 0600', () => {
    assert.deepEqual(harProblems(JSON.parse(run.har)), [])
    assert.equal(statSync(join(dir, 'run.har')).mode & 0o777, 0o600)
    assert.equal(run.result.harFile, join(dir, 'run.har'))
  })

  it('records every exchange, including those of oauth4webapi and the MCP SDK', () => {
    const har = JSON.parse(run.har)
    const entries = har.log.entries as Array<{request: {method: string; url: string; headers: Array<{name: string; value: string}>; postData?: {text: string}}; response: {status: number}; comment?: string}>
    assert.equal(entries.length, run.trace.recorder.exchanges.length)
    const token = entries.find((e) => e.request.method === 'POST' && e.request.url.endsWith('/oauth/token'))
    assert.ok(token, 'the token request is recorded')
    assert.match(token.request.headers.find((h) => h.name === 'user-agent')?.value ?? '', /oauth4webapi/)
    assert.equal(token.comment, '5. token minted (aud = resource)')
    const mcpMethods = entries.filter((e) => e.request.postData?.text.includes('"jsonrpc"')).map((e) => JSON.parse(e.request.postData!.text).method)
    // The readiness probe's initialize, then the 2026-07-28 connection the embedded server negotiates.
    for (const method of ['initialize', 'server/discover', 'tools/list', 'tools/call']) assert.ok(mcpMethods.includes(method), `${method} in ${mcpMethods.join(', ')}`)
    assert.deepEqual(
      entries.filter((e) => e.response.status === 401).map((e) => e.comment),
      ['2. MCP server ready (401 without a token)', '8. refused: no token', '9. refused: token without resource', '10. refused: tampered token'],
    )
  })

  it('writes no secret: admin key, client secret, access tokens, Authorization headers', () => {
    const secrets = rawSecrets(run.trace.recorder.exchanges)
    const client = temporary.store.getProfile('verify').client
    assert.ok(client?.secret)
    secrets.push(stack.adminKey, client.secret)
    // Three tokens (bound, unbound, tampered), the admin key, the client secret, the Basic credentials.
    assert.ok(secrets.length >= 6, `found ${secrets.length} secrets in the recording`)
    for (const secret of secrets) {
      assert.ok(!run.har.includes(secret), `the HAR contains a secret (${secret.slice(0, 4)}…)`)
      assert.ok(!run.diagram.includes(secret), `the diagram contains a secret (${secret.slice(0, 4)}…)`)
    }
    assert.doesNotMatch(run.har, /eyJ[\w-]+\.eyJ/, 'no JWT of any kind')
  })

  it('replaces each secret by one fingerprint, the same at every use', () => {
    const har = JSON.parse(run.har)
    const headers = (har.log.entries as Array<{request: {url: string; headers: Array<{name: string; value: string}>}}>).flatMap((e) => e.request.headers.map((h) => ({...h, url: e.request.url})))
    const admin = new Set(headers.filter((h) => h.name === 'authorization' && h.url.includes('/admin/')).map((h) => h.value))
    assert.equal(admin.size, 1)
    assert.match([...admin][0]!, /^Bearer \[redacted admin-key [0-9a-f]{8}\]$/)
    const basic = new Set(headers.filter((h) => h.name === 'authorization' && h.url.endsWith('/oauth/token')).map((h) => h.value))
    assert.equal(basic.size, 1, 'both token requests use the same client secret')
    const secretMark = /secret=(\[redacted client-secret [0-9a-f]{8}\])/.exec([...basic][0]!)?.[1]
    assert.ok(secretMark, [...basic][0])
    // The secret the admin API returned at creation carries the same fingerprint.
    const created = har.log.entries.find((e: {request: {url: string}}) => e.request.url.endsWith('/admin/clients'))
    assert.ok(created.response.content.text.includes(secretMark))
    // The bound token: minted once, sent in server/discover, tools/list and tools/call.
    const tokenMark = /"access_token":"(\[redacted access-token [0-9a-f]{8}\])"/.exec(run.har.replace(/\\"/g, '"'))?.[1]
    assert.ok(tokenMark)
    assert.ok(headers.filter((h) => h.value === `Bearer ${tokenMark}`).length >= 3)
  })

  it('names the MCP method and protocol revision of each MCP request in the HAR', () => {
    const entries = JSON.parse(run.har).log.entries as Array<{request: {url: string; method: string}; _mcpMethod?: string; _mcpProtocolVersion?: string}>
    const mcp = entries.filter((e) => e.request.url === stack.mcpUrl && e.request.method === 'POST')
    assert.ok(mcp.length >= 5, `${mcp.length} MCP POSTs`)
    for (const e of mcp) assert.ok(e._mcpMethod, `an MCP POST without _mcpMethod: ${JSON.stringify(e.request)}`)
    // verify negotiates: the probe speaks 2026-07-28, the connection then runs in the server's era.
    const discover = mcp.find((e) => e._mcpMethod === 'server/discover')
    assert.equal(discover?._mcpProtocolVersion, '2026-07-28')
    const call = mcp.find((e) => e._mcpMethod === 'tools/call')
    assert.equal(call?._mcpProtocolVersion, '2026-07-28')
    // The readiness probe (no token) is a 2025 initialize: its revision is the one it offered.
    assert.equal(mcp.find((e) => e._mcpMethod === 'initialize')?._mcpProtocolVersion, '2025-11-25')
    assert.equal(entries.filter((e) => e._mcpMethod !== undefined && e.request.url !== stack.mcpUrl).length, 0, 'only MCP requests are marked')
  })

  it('draws a Mermaid sequence diagram that Mermaid parses', async () => {
    assert.equal(await parseMermaid(mermaidBlock(run.diagram)), 'sequence')
    const text = mermaidBlock(run.diagram)
    for (const participant of ['agent as ap-demo (agent)', 'admin as Authplane admin API', 'auth as Authorization server', 'mcp as MCP server']) assert.ok(text.includes(`participant ${participant}`), participant)
    assert.match(text, /agent->>admin: POST \/admin\/resources · 201/)
    assert.ok(text.includes(`Note over auth: token: aud ${stack.resource}, scope "mcp:echo"`))
    // The embedded server speaks both eras: verify negotiates the stateless one.
    assert.match(text, /agent->>mcp: POST \/mcp server\/discover · 200\n {4}Note over mcp: protocol 2026-07-28, stateless \(no session\)/)
    assert.doesNotMatch(text, /session [0-9a-f-]{36}/)
    assert.match(text, /Note over mcp: 401: invalid_token: token audience does not include/)
    assert.match(text, /Note over mcp: 401: invalid_token: token signature is invalid/)
    assert.match(text, /Note over agent,mcp: ✓ ALL CHECKS PASSED\n$/)
    // One arrow per request.
    assert.equal(text.match(/->>/g)?.length, run.trace.recorder.exchanges.length)
  })

  it('prints the same run as a text chart no wider than 100 columns', () => {
    const chart = toAscii(buildSequence(run.trace.recorder.events, ctx, {ok: true, message: 'ALL CHECKS PASSED'}))
    const lines = chart.trimEnd().split('\n')
    for (const line of lines) assert.ok([...line].length <= 100, `${[...line].length} columns: ${line}`)
    assert.match(lines[0]!, /ap-demo +admin API +auth server +MCP server/)
    // The arrow ends on the lifeline of the server it went to.
    const arrow = lines.find((l) => l.includes('POST /admin/resources'))!
    const header = lines[0]!
    const lifeline = lines[1]!.indexOf('|', lines[1]!.indexOf('|') + 1)
    assert.equal(arrow.indexOf('>'), lifeline - 1)
    assert.ok(header.indexOf('admin API') < lifeline && lifeline < header.indexOf('admin API') + 'admin API'.length)
    assert.ok(lines.some((l) => l.startsWith('-- 9. refused: token without resource')))
    assert.equal(lines.at(-1), '== ALL CHECKS PASSED')
  })
})

describe('a traced run that fails', () => {
  let stack!: StackHandle
  let dir!: string
  let temporary!: ReturnType<typeof ConfigStore.temporary>
  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
    temporary = ConfigStore.temporary()
  })
  after(async () => {
    await stack.stop()
    temporary.dispose()
  })

  it('shows where the flow stopped: a refused admin key', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ap-demo-trace-'))
    try {
      const wrongKey = 'not-the-admin-key-0123456789'
      const run = await tracedVerify({issuer: stack.issuer, adminUrl: stack.adminUrl, adminKey: wrongKey, mcpUrl: stack.mcpUrl, resource: stack.resource, store: temporary.store, profile: 'fails', requestTimeoutMs: 10_000}, dir)
      assert.equal(run.outcome.ok, false)
      assert.deepEqual(harProblems(JSON.parse(run.har)), [])
      assert.ok(!run.har.includes(wrongKey), 'a refused admin key is a secret too')
      const text = mermaidBlock(run.diagram)
      assert.equal(await parseMermaid(text), 'sequence')
      assert.match(text, /agent->>admin: POST \/admin\/resources · 401\n {4}Note over agent,mcp: ✗ stopped: step "resource registered" failed: .+\n$/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('shows a server that never answered as a lost message, polled attempts counted', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ap-demo-trace-'))
    try {
      const nowhere = `http://127.0.0.1:${await closedPort()}/mcp`
      const run = await tracedVerify({issuer: stack.issuer, adminUrl: stack.adminUrl, adminKey: stack.adminKey, mcpUrl: nowhere, resource: nowhere, store: temporary.store, profile: 'nowhere', requestTimeoutMs: 2000}, dir, {waitMs: 1500})
      assert.equal(run.outcome.ok, false)
      const har = JSON.parse(run.har)
      assert.deepEqual(harProblems(har), [])
      const lost = har.log.entries.filter((e: {response: {status: number}}) => e.response.status === 0)
      assert.ok(lost.length >= 1)
      assert.match(lost[0].response._error, /ECONNREFUSED/)
      const text = mermaidBlock(run.diagram)
      assert.equal(await parseMermaid(text), 'sequence')
      assert.match(text, /agent-xmcp: POST \/mcp initialize · no answer \(ECONNREFUSED\)( \(×\d+\))?\n/)
      assert.match(text, /✗ stopped: step "MCP server ready \(401 without a token\)" failed/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
