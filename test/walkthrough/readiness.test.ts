import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'

import {waitForMcpServer} from '../../src/walkthrough/mcp-probe.js'

// A server of the 2026-07-28 era alone that checks the protocol before the token (as the SDK's
// strict handler does when nothing sits in front of it): a 2025 `initialize` gets 400 with
// JSON-RPC -32022, a 2026-07-28 request without a token the 401 challenge.
describe('verify step 2 (the MCP server ready) under --protocol auto', () => {
  let server: Server
  let base = ''
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/.well-known/oauth-protected-resource/mcp') {
        res.writeHead(200, {'Content-Type': 'application/json'}).end(JSON.stringify({resource: `${base}/mcp`, authorization_servers: ['http://127.0.0.1:1']}))
        return
      }
      if (req.headers['mcp-protocol-version'] !== '2026-07-28') {
        res.writeHead(400, {'Content-Type': 'application/json'}).end(JSON.stringify({jsonrpc: '2.0', id: 1, error: {code: -32022, message: 'Unsupported protocol version', data: {supported: ['2026-07-28']}}}))
        return
      }
      res.writeHead(401, {'WWW-Authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`}).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('asks in the other era when the first is refused with 400, and finds the challenge', async () => {
    const ready = await waitForMcpServer(`${base}/mcp`, {waitMs: 2000, requestTimeoutMs: 2000, era: 'legacy', negotiate: true})
    assert.equal(ready.status, 401)
    assert.equal(ready.resourceMetadata.resource, `${base}/mcp`)
  })

  it('with the era pinned, the 400 stands (the server does not speak the pinned revision)', async () => {
    await assert.rejects(waitForMcpServer(`${base}/mcp`, {waitMs: 300, requestTimeoutMs: 2000, era: 'legacy'}), /answered HTTP 400 to an unauthenticated request/)
  })
})
