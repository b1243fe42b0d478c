import assert from 'node:assert/strict'
import {request} from 'node:http'
import {after, before, describe, it} from 'node:test'

import {allowedAuthorities, createHostGuard, normalizeAuthority} from '../../../src/stack/mcp-server/host-guard.js'
import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import type {McpServerHandle} from '../../../src/stack/types.js'
import {ACCEPT_BOTH, initializeRequest, IssuerFixture} from './issuer-fixture.js'

interface Answer {
  status: number
  body: any
}

/**
 * POSTs to the server with exactly the Host and Origin given (fetch would not let a test choose
 * Host), the way a rebound browser or the conformance suite's dns-rebinding scenario does.
 */
function post(serverUrl: string, headers: Record<string, string>, body: unknown = initializeRequest(), path?: string): Promise<Answer> {
  const url = new URL(serverUrl)
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body)
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: path ?? url.pathname,
        method: path === undefined ? 'POST' : 'GET',
        headers: {'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Content-Length': Buffer.byteLength(text), ...headers},
        // Only the response matters: no sockets left behind for the next test.
        agent: false,
      },
      (res) => {
        let data = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (data += d))
        res.on('end', () => {
          let parsed: unknown = data
          try {
            parsed = JSON.parse(data)
          } catch {
            // SSE frames: kept as text
          }
          resolve({status: res.statusCode ?? 0, body: parsed})
        })
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')))
    req.on('error', reject)
    req.end(path === undefined ? text : undefined)
  })
}

describe('host guard rules (DNS-rebinding protection)', () => {
  it('normalizes authorities like the URL parser and refuses what is not one', () => {
    assert.equal(normalizeAuthority('LOCALHOST:8080'), 'localhost:8080')
    assert.equal(normalizeAuthority('localhost:80'), 'localhost')
    assert.equal(normalizeAuthority('[0:0:0:0:0:0:0:1]:8080'), '[::1]:8080')
    for (const bad of ['', 'evil.example.com@localhost:8080', 'localhost:8080/x', 'a b', 'localhost:99999', 'localhost:8080#']) {
      assert.equal(normalizeAuthority(bad), undefined, bad)
    }
  })

  it('allows the loopback names with the bound port, the bind address, the resource host and extras', () => {
    const loopback = allowedAuthorities({bindHost: '127.0.0.1', port: 8080, resource: 'http://localhost:8080/mcp'})
    assert.deepEqual([...loopback].sort(), ['127.0.0.1:8080', '[::1]:8080', 'localhost:8080'])
    const wildcard = allowedAuthorities({bindHost: '0.0.0.0', port: 8080, resource: 'https://mcp.example.com/mcp', allowedHosts: ['MCP-Server:8080']})
    assert.deepEqual([...wildcard].sort(), ['127.0.0.1:8080', '[::1]:8080', 'localhost:8080', 'mcp-server:8080', 'mcp.example.com'])
    const v6 = allowedAuthorities({bindHost: '::1', port: 8080, resource: 'http://[::1]:8080/mcp'})
    assert.ok(v6.has('[::1]:8080'))
    assert.throws(() => allowedAuthorities({bindHost: '0.0.0.0', port: 1, resource: 'http://localhost:1/mcp', allowedHosts: ['http://x/']}), /is not a host\[:port\]/)
  })

  it('checks Host first, then a present Origin', () => {
    const check = createHostGuard({bindHost: '127.0.0.1', port: 8080, resource: 'http://localhost:8080/mcp'})
    assert.equal(check('localhost:8080', undefined), undefined)
    assert.equal(check('127.0.0.1:8080', 'http://localhost:3000'), undefined, 'another local page is not a rebinding')
    assert.equal(check('[::1]:8080', 'https://127.0.0.1'), undefined)
    assert.deepEqual(check(undefined, undefined), {header: 'Host', message: 'Missing Host header'})
    assert.equal(check('evil.example.com', undefined)?.header, 'Host')
    assert.equal(check('evil.example.com:8080', undefined)?.header, 'Host')
    assert.equal(check('localhost:9999', undefined)?.header, 'Host', 'the port is part of the authority')
    assert.equal(check('localhost:8080', 'http://evil.example.com')?.header, 'Origin')
    assert.equal(check('localhost:8080', 'null')?.header, 'Origin')
    assert.equal(check('localhost:8080', 'file:///tmp/x.html')?.header, 'Origin')
    // A foreign site is foreign over https too, and a name that merely starts like a loopback one
    // is not loopback (mutant mcp-origin-guard of scripts/mutants.mjs let https origins through).
    for (const origin of ['https://evil.example.com', 'https://evil.example.com:8080', 'http://localhost.evil.example.com', 'https://127.0.0.1.evil.example']) {
      assert.deepEqual(check('localhost:8080', origin), {header: 'Origin', message: `Origin ${origin} is not allowed`}, origin)
    }
    // The server's own authority is accepted under either scheme (a TLS-terminating proxy in front).
    assert.equal(check('localhost:8080', 'https://localhost:8080'), undefined)
  })
})

describe('tier-01 MCP server refuses rebound requests', () => {
  let issuer: IssuerFixture
  let mcp: McpServerHandle
  let token: string
  let port: string

  before(async () => {
    issuer = await IssuerFixture.start()
    mcp = await startMcpServer({issuer: issuer.issuer, host: '127.0.0.1', port: 0})
    issuer.audience = mcp.resource
    token = await issuer.token()
    port = new URL(mcp.url).port
  })
  after(async () => {
    await mcp.stop()
    await issuer.stop()
  })

  it('answers 403 with a JSON-RPC error for a foreign Host, even with a valid token', async () => {
    const res = await post(mcp.url, {Host: 'evil.example.com', Origin: 'http://evil.example.com', Authorization: `Bearer ${token}`})
    assert.equal(res.status, 403)
    assert.deepEqual(res.body, {jsonrpc: '2.0', error: {code: -32000, message: 'Forbidden: Host evil.example.com is not allowed'}, id: null})
    assert.equal(mcp.sessionCount(), 0)
  })

  it('decides before authentication: no token and a foreign Host is 403, not 401', async () => {
    const res = await post(mcp.url, {Host: `evil.example.com:${port}`})
    assert.equal(res.status, 403)
  })

  it('refuses a foreign Origin on a valid Host', async () => {
    const res = await post(mcp.url, {Host: `localhost:${port}`, Origin: 'http://evil.example.com', Authorization: `Bearer ${token}`})
    assert.equal(res.status, 403)
    assert.match(res.body.error.message, /Origin http:\/\/evil\.example\.com is not allowed/)
  })

  it('refuses a loopback Host with another port', async () => {
    const other = String(Number(port) === 65535 ? 1 : Number(port) + 1)
    const res = await post(mcp.url, {Host: `localhost:${other}`, Authorization: `Bearer ${token}`})
    assert.equal(res.status, 403)
  })

  it('protects the resource metadata route too, with an OAuth-style error body', async () => {
    const res = await post(mcp.url, {Host: 'evil.example.com'}, undefined, '/.well-known/oauth-protected-resource/mcp')
    assert.equal(res.status, 403)
    assert.deepEqual(res.body, {error: 'forbidden', error_description: 'Host evil.example.com is not allowed'})
    const ok = await post(mcp.url, {Host: `localhost:${port}`}, undefined, '/.well-known/oauth-protected-resource/mcp')
    assert.equal(ok.status, 200)
  })

  it('serves localhost, 127.0.0.1 and [::1] Hosts with a loopback Origin', async () => {
    for (const name of ['localhost', '127.0.0.1', '[::1]']) {
      const res = await post(mcp.url, {Host: `${name}:${port}`, Origin: `http://${name}:${port}`, Authorization: `Bearer ${token}`})
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.body)}`)
    }
  })

  it('keeps the contract answers for a valid Host: 401 without a token (contract §5)', async () => {
    const res = await post(mcp.url, {Host: `localhost:${port}`})
    assert.equal(res.status, 401)
    assert.equal(res.body.error_description, 'Missing Authorization header')
  })
})

describe('wildcard bind (the Docker topology)', () => {
  it('accepts the resource host and --allowed-host names, nothing else', async () => {
    const issuer = await IssuerFixture.start()
    // Port 8080 inside the container is published as 18080 on the host: the resource names 18080.
    const mcp = await startMcpServer({issuer: issuer.issuer, host: '0.0.0.0', port: 0, resource: 'http://localhost:18080/mcp', allowedHosts: ['mcp-server:8080']})
    try {
      issuer.audience = mcp.resource
      const token = await issuer.token()
      const local = `http://127.0.0.1:${new URL(mcp.url).port}/mcp`
      for (const host of ['localhost:18080', 'mcp-server:8080', `localhost:${new URL(mcp.url).port}`]) {
        const res = await post(local, {Host: host, Authorization: `Bearer ${token}`})
        assert.equal(res.status, 200, `${host}: ${JSON.stringify(res.body)}`)
      }
      for (const host of ['other-container:8080', 'mcp-server:9999', 'evil.example.com']) {
        const res = await post(local, {Host: host, Authorization: `Bearer ${token}`})
        assert.equal(res.status, 403, host)
      }
    } finally {
      await mcp.stop()
      await issuer.stop()
    }
  })

  it('refuses a malformed allowedHosts entry before listening', async () => {
    await assert.rejects(startMcpServer({issuer: 'http://127.0.0.1:9', port: 0, allowedHosts: ['user@host']}), TypeError)
  })
})
