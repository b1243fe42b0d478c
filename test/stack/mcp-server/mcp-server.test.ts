import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'

import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import type {McpServerHandle} from '../../../src/stack/types.js'
import {ACCEPT_BOTH, initializeRequest, IssuerFixture, postMcp} from './issuer-fixture.js'

describe('tier-01 MCP echo server', () => {
  let issuer: IssuerFixture
  let mcp: McpServerHandle
  let token: string

  before(async () => {
    issuer = await IssuerFixture.start()
    mcp = await startMcpServer({issuer: issuer.issuer, host: '127.0.0.1', port: 0})
    issuer.audience = mcp.resource
    token = await issuer.token()
  })
  after(async () => {
    await mcp.stop()
    await issuer.stop()
  })

  it('announces its URL, resource and resource metadata URL', () => {
    assert.match(mcp.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    assert.equal(mcp.resource, mcp.url)
    const port = new URL(mcp.url).port
    assert.equal(mcp.resourceMetadataUrl, `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`)
  })

  it('serves the echo tool to the SDK client', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
      requestInit: {headers: {Authorization: `Bearer ${token}`}},
    })
    const client = new Client({name: 'test-client', version: '0.0.1'})
    await client.connect(transport)
    try {
      assert.ok(transport.sessionId, 'the session id header is set')
      assert.deepEqual(client.getServerVersion(), {name: 'demo-server', version: '1.0.0'})
      const {tools} = await client.listTools()
      // The tier-01 echo tool, and whoami (tier 03: something to compare per-tool scopes with).
      assert.deepEqual(tools.map((t) => t.name), ['echo', 'whoami'])
      const echo = tools[0]
      assert.equal(echo?.name, 'echo')
      assert.equal(echo?.inputSchema.type, 'object')
      assert.deepEqual(echo?.inputSchema.required, ['text'])
      assert.equal((echo?.inputSchema.properties?.['text'] as {type?: string} | undefined)?.type, 'string')
      const result = await client.callTool({name: 'echo', arguments: {text: 'hi'}})
      assert.deepEqual(result.content, [{type: 'text', text: 'hi'}])
      assert.equal(mcp.sessionCount(), 1)
      // A missing required argument is a tool error, not a crash.
      const bad = await client.callTool({name: 'echo', arguments: {}})
      assert.equal(bad.isError, true)
    } finally {
      await transport.terminateSession()
      await client.close()
    }
    assert.equal(mcp.sessionCount(), 0, 'DELETE ended the session')
  })

  it('speaks plain HTTP: initialize over SSE, initialized -> 202, tools/call with the session header', async () => {
    const init = await postMcp(mcp.url, initializeRequest(), {token})
    assert.equal(init.status, 200)
    assert.match(init.headers.get('content-type') ?? '', /^text\/event-stream/)
    const sessionId = init.headers.get('mcp-session-id')
    assert.match(sessionId ?? '', /^[0-9a-f-]{36}$/)
    const frames = await init.text()
    assert.match(frames, /^event: message$/m)
    const data = /^data: (.*)$/m.exec(frames)?.[1]
    const message = JSON.parse(data ?? 'null') as {id: number; result: {serverInfo: unknown}}
    assert.equal(message.id, 1)
    assert.deepEqual(message.result.serverInfo, {name: 'demo-server', version: '1.0.0'})

    const initialized = await postMcp(mcp.url, {jsonrpc: '2.0', method: 'notifications/initialized'}, {
      token,
      sessionId: sessionId ?? '',
    })
    assert.equal(initialized.status, 202)
    await initialized.text()

    const call = await postMcp(
      mcp.url,
      {jsonrpc: '2.0', id: 2, method: 'tools/call', params: {name: 'echo', arguments: {text: 'hello from tier 02'}}},
      {token, sessionId: sessionId ?? ''},
    )
    assert.equal(call.status, 200)
    assert.match(await call.text(), /"text":"hello from tier 02"/)

    const del = await fetch(mcp.url, {
      method: 'DELETE',
      headers: {Authorization: `Bearer ${token}`, 'Mcp-Session-Id': sessionId ?? ''},
    })
    assert.equal(del.status, 200)
    await del.text()
    const gone = await postMcp(mcp.url, {jsonrpc: '2.0', id: 3, method: 'tools/list'}, {token, sessionId: sessionId ?? ''})
    assert.equal(gone.status, 404)
    assert.deepEqual(await gone.json(), {jsonrpc: '2.0', error: {code: -32001, message: 'Session not found'}, id: null})
  })

  it('answers 406 when the client does not accept both JSON and SSE, without opening a session', async () => {
    const before = mcp.sessionCount()
    const res = await postMcp(mcp.url, initializeRequest(), {token, headers: {Accept: 'application/json'}})
    assert.equal(res.status, 406)
    const body = (await res.json()) as {error: {message: string}}
    assert.match(body.error.message, /Not Acceptable/)
    assert.equal(mcp.sessionCount(), before)
  })

  it('refuses a non-initialize request without a session id and an unknown session id', async () => {
    const noSession = await postMcp(mcp.url, {jsonrpc: '2.0', id: 1, method: 'tools/list'}, {token})
    assert.equal(noSession.status, 400)
    await noSession.text()
    const unknown = await postMcp(mcp.url, {jsonrpc: '2.0', id: 1, method: 'tools/list'}, {
      token,
      sessionId: '00000000-0000-0000-0000-000000000000',
    })
    assert.equal(unknown.status, 404)
    assert.deepEqual(await unknown.json(), {jsonrpc: '2.0', error: {code: -32001, message: 'Session not found'}, id: null})
  })

  it('answers 400 to a body that is not JSON', async () => {
    const res = await fetch(mcp.url, {
      method: 'POST',
      headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: ACCEPT_BOTH},
      body: '{not json',
    })
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as {error: {code: number}}).error.code, -32700)
  })

  it('serves the RFC 9728 protected resource metadata without auth', async () => {
    const res = await fetch(mcp.resourceMetadataUrl)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(await res.json(), {
      resource: mcp.resource,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      resource_signing_alg_values_supported: ['RS256', 'ES256'],
      scopes_supported: ['mcp:echo'],
    })
  })

  it('answers 404 JSON on other paths', async () => {
    const res = await fetch(new URL('/nope', mcp.url))
    assert.equal(res.status, 404)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(((await res.json()) as {error: string}).error, 'not_found')
  })
})

describe('startMcpServer options', () => {
  it('derives the metadata URL from a configured resource and answers on its path', async () => {
    const mcp = await startMcpServer({
      issuer: 'http://127.0.0.1:9/',
      port: 0,
      resource: 'http://localhost:8080/mcp',
      requiredScope: 'tools:run',
    })
    try {
      assert.equal(mcp.resource, 'http://localhost:8080/mcp')
      assert.equal(mcp.resourceMetadataUrl, 'http://localhost:8080/.well-known/oauth-protected-resource/mcp')
      const res = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', mcp.url))
      assert.deepEqual(await res.json(), {
        resource: 'http://localhost:8080/mcp',
        authorization_servers: ['http://127.0.0.1:9/'],
        bearer_methods_supported: ['header'],
        resource_signing_alg_values_supported: ['RS256', 'ES256'],
        scopes_supported: ['tools:run'],
      })
    } finally {
      await mcp.stop()
    }
  })

  it('uses localhost in URLs for a wildcard bind', async () => {
    const mcp = await startMcpServer({issuer: 'http://127.0.0.1:9', host: '0.0.0.0', port: 0})
    try {
      assert.match(mcp.url, /^http:\/\/localhost:\d+\/mcp$/)
      assert.equal(mcp.resource, mcp.url)
    } finally {
      await mcp.stop()
    }
  })

  it('rejects with the original error when the port is taken, and stop() is idempotent', async () => {
    const first = await startMcpServer({issuer: 'http://127.0.0.1:9', port: 0})
    try {
      const port = Number(new URL(first.url).port)
      await assert.rejects(startMcpServer({issuer: 'http://127.0.0.1:9', port}), (err: NodeJS.ErrnoException & {port?: number}) => {
        assert.equal(err.code, 'EADDRINUSE')
        assert.equal(err.port, port)
        return true
      })
    } finally {
      await first.stop()
      await first.stop()
    }
  })
})
