// The tier-01 server's two front doors (issue 18): the official SDK v2 client, a peer nobody here
// wrote, in each of its negotiation modes (legacy, auto, pinned to 2026-07-28) against the server in
// each of its --mcp-protocol modes; the same token, DPoP and per-tool scope checks in both eras.
import assert from 'node:assert/strict'
import {request} from 'node:http'
import {after, before, describe, it} from 'node:test'

import {Client, DpopSession, InsufficientScopeError, SdkError, SdkErrorCode, StreamableHTTPClientTransport, withDpop, type VersionNegotiationMode} from '@modelcontextprotocol/client'

import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import type {McpServerHandle, McpServerOptions} from '../../../src/stack/types.js'
import {ACCEPT_BOTH, initializeRequest, IssuerFixture} from './issuer-fixture.js'

interface Connected {
  client: Client
  transport: StreamableHTTPClientTransport
}

async function connect(url: string, mode: VersionNegotiationMode, init: {token?: string; fetch?: typeof fetch} = {}): Promise<Connected> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: init.token ? {headers: {Authorization: `Bearer ${init.token}`}} : undefined,
    ...(init.fetch ? {fetch: init.fetch} : {}),
  })
  const client = new Client({name: 'sdk-v2-client', version: '2.4.0'}, {versionNegotiation: {mode}})
  await client.connect(transport)
  return {client, transport}
}

async function echo(c: Connected, text: string): Promise<string> {
  const result = await c.client.callTool({name: 'echo', arguments: {text}})
  return (result.content as Array<{type: string; text: string}>)[0]!.text
}

async function close(c: Connected): Promise<void> {
  await c.transport.terminateSession().catch(() => {})
  await c.client.close()
}

describe('tier-01 MCP server: both protocol eras behind one auth check', () => {
  let issuer: IssuerFixture
  const servers: McpServerHandle[] = []
  async function server(options: Partial<McpServerOptions> = {}): Promise<McpServerHandle> {
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0, resource: 'http://127.0.0.1:1/mcp', ...options})
    servers.push(mcp)
    return mcp
  }
  let both!: McpServerHandle
  let token!: string

  before(async () => {
    issuer = await IssuerFixture.start()
    issuer.audience = 'http://127.0.0.1:1/mcp'
    both = await server()
    token = await issuer.token()
  })
  after(async () => {
    for (const s of servers) await s.stop()
    await issuer.stop()
  })

  it('serves the SDK v2 client in legacy mode as before: initialize, a session, the echo tool', async () => {
    assert.equal(both.protocol, 'both')
    const c = await connect(both.url, 'legacy', {token})
    try {
      assert.equal(c.client.getProtocolEra(), 'legacy')
      assert.match(c.transport.sessionId ?? '', /^[0-9a-f-]{36}$/)
      assert.equal(both.sessionCount(), 1)
      assert.equal(await echo(c, 'legacy'), 'legacy')
    } finally {
      await close(c)
    }
  })

  it('serves auto and a pin to 2026-07-28 statelessly: server/discover, no session, the same tools', async () => {
    for (const mode of ['auto', {pin: '2026-07-28'}] as const) {
      const before = both.sessionCount()
      const c = await connect(both.url, mode, {token})
      try {
        assert.equal(c.client.getProtocolEra(), 'modern', JSON.stringify(mode))
        assert.equal(c.client.getNegotiatedProtocolVersion(), '2026-07-28')
        assert.equal(c.transport.sessionId, undefined)
        assert.deepEqual(c.client.getServerVersion(), {name: 'demo-server', version: '1.0.0'})
        assert.deepEqual((await c.client.listTools()).tools.map((t) => t.name).sort(), ['echo', 'whoami'])
        assert.equal(await echo(c, 'modern'), 'modern')
        assert.equal(both.sessionCount(), before, 'the 2026-07-28 era opens no session')
      } finally {
        await close(c)
      }
    }
  })

  it('refuses a 2026-07-28 request without a token, or with a bad one, exactly as a 2025 one', async () => {
    await assert.rejects(connect(both.url, {pin: '2026-07-28'}), (e: unknown) => e instanceof SdkError && e.code === SdkErrorCode.ClientHttpAuthentication)
    const refused = await fetch(both.url, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: ACCEPT_BOTH, authorization: `Bearer ${await issuer.token({claims: {aud: ['http://elsewhere/mcp']}})}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'server/discover', params: {_meta: {'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}}}}),
    })
    assert.equal(refused.status, 401)
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token", error_description="token audience does not include/)
  })

  it('applies per-tool scopes in the 2026-07-28 era: 403 insufficient_scope naming the scopes', async () => {
    const scoped = await server({toolScopes: {whoami: 'mcp:whoami'}})
    const c = await connect(scoped.url, {pin: '2026-07-28'}, {token})
    try {
      assert.equal(await echo(c, 'fine'), 'fine')
      // The SDK's own typed error for a 403 insufficient_scope challenge, with the scopes it named.
      await assert.rejects(c.client.callTool({name: 'whoami', arguments: {}}), (e: unknown) => e instanceof InsufficientScopeError && e.requiredScope === 'mcp:echo mcp:whoami')
    } finally {
      await close(c)
    }
    const wider = await connect(scoped.url, {pin: '2026-07-28'}, {token: await issuer.token({claims: {scope: 'mcp:echo mcp:whoami'}})})
    try {
      const result = await wider.client.callTool({name: 'whoami', arguments: {}})
      assert.match((result.content as Array<{text: string}>)[0]!.text, /scope mcp:echo mcp:whoami/)
    } finally {
      await close(wider)
    }
  })

  it('takes a DPoP-bound token from the SDK v2 client pinned to 2026-07-28 (its own withDpop: DPoP scheme and proofs)', async () => {
    const dpop = await server({dpop: 'required'})
    const session = await DpopSession.create()
    const bound = await issuer.token({claims: {cnf: {jkt: session.thumbprint}}})
    const c = await connect(dpop.url, {pin: '2026-07-28'}, {fetch: withDpop(session, () => bound)(fetch) as typeof fetch})
    try {
      assert.equal(c.client.getProtocolEra(), 'modern')
      assert.equal(await echo(c, 'bound'), 'bound')
      const who = await c.client.callTool({name: 'whoami', arguments: {}})
      assert.match((who.content as Array<{text: string}>)[0]!.text, new RegExp(`DPoP-bound, cnf.jkt ${session.thumbprint}`))
    } finally {
      await close(c)
    }
  })

  it('keeps the DNS-rebinding guard in front of both doors', async () => {
    // fetch cannot set Host; a rebound browser request reaches the server with the attacker's name.
    const body = JSON.stringify({jsonrpc: '2.0', id: 1, method: 'server/discover', params: {_meta: {'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}}}})
    const url = new URL(both.url)
    const answer = await new Promise<{status: number; text: string}>((resolve, reject) => {
      const req = request({host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: {'content-type': 'application/json', accept: ACCEPT_BOTH, host: `evil.example:${url.port}`, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover'}}, (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({status: res.statusCode ?? 0, text}))
      })
      req.on('error', reject)
      req.end(body)
    })
    assert.equal(answer.status, 403)
    assert.match((JSON.parse(answer.text) as {error: {message: string}}).error.message, /^Forbidden: Host/)
  })

  it('--mcp-protocol 2025-11-25: a 2025-only server; auto falls back to initialize, a pin to 2026-07-28 fails', async () => {
    const old = await server({protocol: '2025-11-25'})
    const auto = await connect(old.url, 'auto', {token})
    try {
      assert.equal(auto.client.getProtocolEra(), 'legacy')
      assert.match(auto.transport.sessionId ?? '', /^[0-9a-f-]{36}$/)
      assert.equal(await echo(auto, 'fallback'), 'fallback')
    } finally {
      await close(auto)
    }
    await assert.rejects(connect(old.url, {pin: '2026-07-28'}, {token}), (e: unknown) => e instanceof SdkError && e.code === SdkErrorCode.EraNegotiationFailed)
  })

  it('--mcp-protocol 2026-07-28: a 2026-only server; initialize gets -32022 naming 2026-07-28, GET 405, auto works', async () => {
    const modern = await server({protocol: '2026-07-28'})
    const init = await fetch(modern.url, {method: 'POST', headers: {'content-type': 'application/json', accept: ACCEPT_BOTH, authorization: `Bearer ${token}`}, body: JSON.stringify(initializeRequest())})
    assert.equal(init.status, 400)
    const body = (await init.json()) as {error: {code: number; data: {supported: string[]}}}
    assert.equal(body.error.code, -32022)
    assert.deepEqual(body.error.data.supported, ['2026-07-28'])
    const get = await fetch(modern.url, {headers: {accept: 'text/event-stream', authorization: `Bearer ${token}`}})
    assert.equal(get.status, 405)
    await get.body?.cancel()
    await assert.rejects(connect(modern.url, 'legacy', {token}))
    const auto = await connect(modern.url, 'auto', {token})
    try {
      assert.equal(auto.client.getProtocolEra(), 'modern')
      assert.equal(await echo(auto, 'only modern'), 'only modern')
      assert.equal(modern.sessionCount(), 0)
    } finally {
      await close(auto)
    }
  })
})
