// ap-demo's client against MCP servers built on the official SDK v2 (test/peers/v2-mcp-server.ts):
// one that speaks only protocol revision 2026-07-28 and one that serves both eras, with and
// without Authplane tokens. Before issue 18 the modern-only one refused every ap-demo call with
// JSON-RPC -32022 and the hint blamed the URL.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import type {StackHandle} from '../../src/stack/index.js'
import {assertCleanFailure, Sandbox, useTestStack} from '../cli/helpers.js'
import {startV1Peer, type V1Peer} from './v1-mcp-server.js'
import {startV2Peer, type V2Peer} from './v2-mcp-server.js'

const json = (stdout: string) => JSON.parse(stdout) as {status: string; result: any; error?: any}

describe('ap-demo against an SDK v2 server that speaks only 2026-07-28 (no auth)', () => {
  let peer!: V2Peer
  const box = new Sandbox()
  before(async () => {
    peer = await startV2Peer({eras: 'modern'})
  })
  after(async () => {
    await peer.stop()
    box.cleanup()
  })

  it('mcp call echo works: the client negotiates (server/discover) and speaks 2026-07-28', async () => {
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'hi modern', '--mcp-url', peer.url, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json(r.stdout).result
    assert.equal(out.result.content[0].text, 'hi modern')
    assert.equal(out.session.era, 'modern')
    assert.equal(out.session.protocolVersion, '2026-07-28')
    assert.equal(out.session.id, undefined, 'no session in the stateless era')
    assert.ok(peer.requests.some((q) => q.method === 'server/discover'))
    assert.ok(peer.requests.filter((q) => q.method === 'tools/call').every((q) => q.protocolVersion === '2026-07-28'))
    assert.ok(!peer.requests.some((q) => q.method === 'initialize'), 'no initialize was needed')
  })

  it('--protocol 2026-07-28 pins it; mcp tools says the era in --json', async () => {
    const r = await box.run(['mcp', 'tools', '--mcp-url', peer.url, '--protocol', '2026-07-28', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json(r.stdout).result
    assert.deepEqual(out.tools.map((t: {name: string}) => t.name).sort(), ['add', 'echo', 'whoami'])
    assert.equal(out.session.era, 'modern')
  })

  it('pinned to 2025-11-25 (flag or AP_DEMO_MCP_PROTOCOL), the -32022 answer is explained, not blamed on the URL', async () => {
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', peer.url, '--protocol', '2025-11-25'])
    assertCleanFailure(r, 5, /does not speak protocol revision 2025-11-25 \(it supports 2026-07-28\)/)
    assert.match(r.stderr, /Hint: Use --protocol 2026-07-28, or --protocol auto/)
    assert.doesNotMatch(r.stderr, /--mcp-url|MCP_URL|not an MCP server/)
    const viaEnv = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', peer.url, '--json'], {env: {AP_DEMO_MCP_PROTOCOL: '2025-11-25'}})
    assert.equal(viaEnv.code, 5)
    const error = json(viaEnv.stdout).error
    assert.equal(error.code, 'mcp_protocol_unsupported')
    assert.deepEqual(error.supported, ['2026-07-28'])
    assert.equal(error.protocol, '2025-11-25')
    assert.match(error.hint, /unset AP_DEMO_MCP_PROTOCOL/)
  })

  it('a bad AP_DEMO_MCP_PROTOCOL is a usage error naming the variable; a bad --protocol is refused by the parser', async () => {
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', peer.url], {env: {AP_DEMO_MCP_PROTOCOL: '2025'}})
    assertCleanFailure(r, 2, /AP_DEMO_MCP_PROTOCOL="2025" is not an MCP protocol choice/)
    const flag = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', peer.url, '--protocol', 'modern'])
    assertCleanFailure(flag, 2, /--protocol/)
  })
})

describe('structured tool results, checked by the SDK client\'s JSON Schema validator (loaded on first use)', () => {
  let peer!: V2Peer
  const box = new Sandbox()
  before(async () => {
    peer = await startV2Peer({eras: 'modern'})
  })
  after(async () => {
    await peer.stop()
    box.cleanup()
  })

  it('a result that fits the tool\'s output schema passes', async () => {
    const r = await box.run(['mcp', 'call', 'add', '--a', '2', '--b', '3', '--mcp-url', peer.url, '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(json(r.stdout).result.result.structuredContent, {sum: 5})
  })

  it('a result that breaks it is refused (a server no SDK would let lie: one JSON-RPC answer per method)', async () => {
    const {createServer} = await import('node:http')
    const answers: Record<string, unknown> = {
      initialize: {protocolVersion: '2025-11-25', capabilities: {tools: {}}, serverInfo: {name: 'liar', version: '0'}},
      'tools/list': {tools: [{name: 'add', inputSchema: {type: 'object', properties: {a: {type: 'number'}}}, outputSchema: {type: 'object', properties: {sum: {type: 'number'}}, required: ['sum']}}]},
      'tools/call': {content: [{type: 'text', text: 'five'}], structuredContent: {sum: 'five'}},
    }
    const liar = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        if (req.method !== 'POST') return void res.writeHead(405).end()
        const message = JSON.parse(body) as {id?: number; method: string}
        if (message.id === undefined) return void res.writeHead(202).end()
        res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({jsonrpc: '2.0', id: message.id, result: answers[message.method] ?? {}}))
      })
    })
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(liar.address() as {port: number}).port}/mcp`
      const r = await box.run(['mcp', 'call', 'add', '--a', '2', '--mcp-url', url, '--protocol', '2025-11-25'])
      assertCleanFailure(r, 5, /Structured content does not match the tool's output schema: data\/sum must be number/)
      assert.doesNotMatch(r.stderr, /--mcp-url/, 'the server answered: the URL is not the problem')
    } finally {
      liar.closeAllConnections()
      await new Promise((resolve) => liar.close(resolve))
    }
  })
})

describe('ap-demo against an SDK v2 server that serves both eras', () => {
  let peer!: V2Peer
  const box = new Sandbox()
  before(async () => {
    peer = await startV2Peer({eras: 'dual'})
  })
  after(async () => {
    await peer.stop()
    box.cleanup()
  })

  it('auto lands on 2026-07-28; a pinned 2025-11-25 speaks initialize and still works', async () => {
    const auto = await box.run(['mcp', 'call', 'echo', '--text', 'a', '--mcp-url', peer.url, '--json'])
    assert.equal(auto.code, 0, auto.stderr)
    assert.equal(json(auto.stdout).result.session.era, 'modern')
    peer.eras.length = 0
    const legacy = await box.run(['mcp', 'call', 'echo', '--text', 'b', '--mcp-url', peer.url, '--protocol', '2025-11-25', '--json'])
    assert.equal(legacy.code, 0, legacy.stderr)
    const out = json(legacy.stdout).result
    assert.equal(out.session.era, 'legacy')
    assert.equal(out.session.protocolVersion, '2025-11-25')
    assert.equal(out.result.content[0].text, 'b')
    assert.ok(peer.eras.length > 0 && peer.eras.every((e) => e === 'legacy'), `the server saw ${peer.eras.join(', ')}`)
  })
})

describe('ap-demo against a 2025-era server (SDK v1): everything as before issue 18', () => {
  let peer!: V1Peer
  const box = new Sandbox()
  before(async () => {
    peer = await startV1Peer()
  })
  after(async () => {
    await peer.stop()
    box.cleanup()
  })

  it('auto falls back to initialize after one server/discover probe; 2025-11-25 sends no probe at all', async () => {
    const auto = await box.run(['mcp', 'call', 'echo', '--text', 'old', '--mcp-url', peer.url, '--json'])
    assert.equal(auto.code, 0, auto.stderr)
    const out = json(auto.stdout).result
    assert.equal(out.result.content[0].text, 'old')
    assert.deepEqual([out.session.era, out.session.protocolVersion], ['legacy', '2025-11-25'])
    assert.match(out.session.id, /^[0-9a-f-]{36}$/)
    assert.deepEqual(peer.methods.slice(0, 3), ['server/discover', 'initialize', 'notifications/initialized'])
    peer.methods.length = 0
    const pinned = await box.run(['mcp', 'call', 'echo', '--text', 'old', '--mcp-url', peer.url, '--protocol', '2025-11-25'])
    assert.equal(pinned.code, 0, pinned.stderr)
    assert.equal(pinned.stdout, 'old\n')
    assert.equal(peer.methods[0], 'initialize')
    assert.ok(!peer.methods.includes('server/discover'))
  })

  it('pinned to 2026-07-28, the refusal says the server is of the 2025 era and which --protocol reaches it', async () => {
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', peer.url, '--protocol', '2026-07-28'])
    assertCleanFailure(r, 5, /does not speak protocol revision 2026-07-28: it answered server\/discover with HTTP 400, as a server of the 2025 era/)
    assert.match(r.stderr, /Hint: The server speaks only the 2025 era \(initialize and sessions\): use --protocol auto, which falls back to it, or --protocol 2025-11-25/)
  })
})

describe('ap-demo against an SDK v2 server that speaks only 2026-07-28, protected by the embedded Authplane', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  let peer!: V2Peer
  useTestStack((s) => ({stack, env} = s))
  before(async () => {
    peer = await startV2Peer({eras: 'modern', issuer: stack.issuer})
  })
  after(async () => {
    await peer.stop()
  })

  it('verify --mcp-url --resource passes every step in the 2026-07-28 era', async () => {
    const box = new Sandbox(env)
    try {
      const r = await box.run(['verify', '--mcp-url', peer.url, '--resource', peer.url, '--json'])
      assert.equal(r.code, 0, r.stderr + r.stdout)
      const report = json(r.stdout).result
      assert.equal(report.passed, true)
      assert.equal(report.steps.length, 10)
      assert.deepEqual(report.protocol, {choice: 'auto', era: 'modern', version: '2026-07-28'})
      assert.match(report.steps[5].detail, /^2026-07-28 \(server\/discover, stateless\), sdk-v2-peer 2\.4\.0$/)
      // The refusal checks were sent in the era the connection negotiated.
      const refusals = peer.requests.filter((q) => q.method === 'initialize')
      assert.deepEqual(refusals.map((q) => q.authorization === undefined), [true], 'only the readiness probe (no token) was an initialize')

      // The human step lines say the era too.
      const human = await box.run(['verify', '--mcp-url', peer.url, '--resource', peer.url])
      assert.equal(human.code, 0, human.stderr)
      assert.match(human.stdout, /\[ 6\/10\] OK {3}MCP connect .*\n? *2026-07-28 \(server\/discover, stateless\), sdk-v2-peer/)
    } finally {
      box.cleanup()
    }
  })

  it('mcp call --discover works with only the URL and a client: 401 -> metadata -> token -> 2026-07-28 call', async () => {
    const admin = new Sandbox(env)
    try {
      assert.equal((await admin.run(['setup', 'resource', '--uri', peer.url, '--slug', 'v2-peer'])).code, 0)
      const created = await admin.run(['setup', 'client', '--name', 'v2-peer-agent'])
      assert.equal(created.code, 0, created.stderr)
      const client = JSON.parse(readFileSync(admin.storePath, 'utf8')).profiles.default.client as {id: string; secret: string}
      const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: client.secret})
      try {
        const r = await box.run(['mcp', 'call', 'echo', '--text', 'discovered', '--discover', '--mcp-url', peer.url, '--client-id', client.id, '--json'])
        assert.equal(r.code, 0, r.stderr)
        const out = json(r.stdout).result
        assert.equal(out.result.content[0].text, 'discovered')
        assert.equal(out.auth.mode, 'discovered')
        assert.equal(out.auth.issuer, stack.issuer)
        assert.equal(out.auth.resource, peer.url)
        assert.equal(out.session.era, 'modern')
      } finally {
        box.cleanup()
      }
    } finally {
      admin.cleanup()
    }
  })
})
