import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, it} from 'node:test'

import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'

import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import {IssuerFixture, openSession, pingSession} from './issuer-fixture.js'

/** Polls `check` until it holds or `ms` elapse; timing-based tests wait for a state, not a delay. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await sleep(10)
  }
}

describe('MCP sessions', () => {
  let issuer: IssuerFixture

  before(async () => {
    issuer = await IssuerFixture.start()
  })
  after(async () => {
    await issuer.stop()
  })

  it('closes idle sessions after sessionIdleMs and keeps used ones', async () => {
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0, sessionIdleMs: 300})
    try {
      issuer.audience = mcp.resource
      const token = await issuer.token()
      const idle = await openSession(mcp.url, token)
      const busy = await openSession(mcp.url, token)
      assert.equal(mcp.sessionCount(), 2)
      // Keep `busy` in use past the idle time of `idle`.
      const start = Date.now()
      while (Date.now() - start < 600) {
        assert.equal(await pingSession(mcp.url, token, busy), 200)
        await sleep(50)
      }
      await eventually(() => mcp.sessionCount() === 1)
      assert.equal(await pingSession(mcp.url, token, idle), 404)
      assert.equal(await pingSession(mcp.url, token, busy), 200)
      await eventually(() => mcp.sessionCount() === 0)
      assert.equal(await pingSession(mcp.url, token, busy), 404)
    } finally {
      await mcp.stop()
    }
  })

  it('bounds live sessions by maxSessions, closing the least recently used', async () => {
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0, maxSessions: 3})
    try {
      issuer.audience = mcp.resource
      const token = await issuer.token()
      const ids = []
      for (let i = 0; i < 3; i++) ids.push(await openSession(mcp.url, token))
      assert.equal(mcp.sessionCount(), 3)
      // Touch the oldest, so the second one becomes the least recently used.
      assert.equal(await pingSession(mcp.url, token, ids[0] ?? ''), 200)
      ids.push(await openSession(mcp.url, token))
      assert.equal(mcp.sessionCount(), 3)
      assert.equal(await pingSession(mcp.url, token, ids[1] ?? ''), 404)
      ids.push(await openSession(mcp.url, token))
      assert.equal(mcp.sessionCount(), 3)
      assert.equal(await pingSession(mcp.url, token, ids[2] ?? ''), 404)
      for (const id of [ids[0], ids[3], ids[4]]) assert.equal(await pingSession(mcp.url, token, id ?? ''), 200)
    } finally {
      await mcp.stop()
    }
  })

  it('answers 404 when another client (token sub) uses a session', async () => {
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0})
    try {
      issuer.audience = mcp.resource
      const owner = await issuer.token()
      const other = await issuer.token({claims: {sub: 'client-b', client_id: 'client-b'}})
      const id = await openSession(mcp.url, owner)
      assert.equal(await pingSession(mcp.url, other, id), 404)
      const del = await fetch(mcp.url, {method: 'DELETE', headers: {Authorization: `Bearer ${other}`, 'Mcp-Session-Id': id}})
      assert.equal(del.status, 404)
      await del.text()
      // The owner, even with a fresh token, still has it.
      assert.equal(await pingSession(mcp.url, await issuer.token(), id), 200)
      assert.equal(mcp.sessionCount(), 1)
    } finally {
      await mcp.stop()
    }
  })

  it('stop() closes every session and leaves no open handles', async () => {
    const countHandles = () => {
      const info = process.getActiveResourcesInfo()
      return info.filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap').length
    }
    const baseline = countHandles()
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0})
    issuer.audience = mcp.resource
    const token = await issuer.token()
    // The SDK client also holds the standalone GET SSE stream open.
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
      requestInit: {headers: {Authorization: `Bearer ${token}`}},
    })
    const client = new Client({name: 'test-client', version: '0.0.1'})
    client.onerror = () => {}
    await client.connect(transport)
    await openSession(mcp.url, token)
    assert.equal(mcp.sessionCount(), 2)
    assert.ok(countHandles() > baseline)

    await mcp.stop()
    assert.equal(mcp.sessionCount(), 0)
    await mcp.stop()
    await client.close()
    await eventually(() => countHandles() <= baseline)
    await assert.rejects(fetch(mcp.url), TypeError)
  })
})
