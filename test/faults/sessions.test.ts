// The MCP server's session cap under pressure: abandoned sessions pile up, and the one to go is
// the oldest idle one, never a session with a request or stream still open while an idle one exists.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'

import {startMcpServer} from '../../src/stack/mcp-server/index.js'
import {IssuerFixture, openSession, pingSession} from '../stack/mcp-server/issuer-fixture.js'

describe('fault suite: MCP session cap', () => {
  let issuer: IssuerFixture
  before(async () => {
    issuer = await IssuerFixture.start()
  })
  after(async () => {
    await issuer.stop()
  })

  it('evicts the oldest idle session, not an older one with an open stream', async () => {
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0, maxSessions: 2})
    issuer.audience = mcp.resource
    const token = await issuer.token()
    // The SDK client keeps its standalone GET stream open: its session is busy the whole time.
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {requestInit: {headers: {Authorization: `Bearer ${token}`}}})
    const client = new Client({name: 'busy-client', version: '0.0.1'})
    client.onerror = () => {}
    try {
      await client.connect(transport)
      const busy = transport.sessionId ?? ''
      await new Promise((resolve) => setTimeout(resolve, 100))
      const idle1 = await openSession(mcp.url, token)
      assert.equal(mcp.sessionCount(), 2)
      const idle2 = await openSession(mcp.url, token)
      assert.equal(mcp.sessionCount(), 2)
      assert.equal(await pingSession(mcp.url, token, idle1), 404, 'the oldest idle session went')
      const idle3 = await openSession(mcp.url, token)
      assert.equal(await pingSession(mcp.url, token, idle2), 404)
      assert.equal(await pingSession(mcp.url, token, idle3), 200)
      // The busy session, the oldest of all, survived every eviction and still answers.
      const result = await client.callTool({name: 'echo', arguments: {text: 'still here'}})
      assert.equal(transport.sessionId, busy)
      assert.match(JSON.stringify(result.content), /still here/)
    } finally {
      await client.close().catch(() => {})
      await mcp.stop()
    }
  })

  it('holds the bound when 80 clients open sessions and walk away', async () => {
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0, maxSessions: 10})
    try {
      issuer.audience = mcp.resource
      const token = await issuer.token()
      const ids: string[] = []
      for (let i = 0; i < 8; i++) ids.push(...(await Promise.all(Array.from({length: 10}, () => openSession(mcp.url, token)))))
      assert.equal(mcp.sessionCount(), 10)
      // The newest answer; the first ones are gone.
      assert.equal(await pingSession(mcp.url, token, ids.at(-1) ?? ''), 200)
      assert.equal(await pingSession(mcp.url, token, ids[0] ?? ''), 404)
    } finally {
      await mcp.stop()
    }
  })
})
