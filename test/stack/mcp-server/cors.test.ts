import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import type {McpServerHandle} from '../../../src/stack/types.js'
import {initializeRequest, IssuerFixture, postMcp} from './issuer-fixture.js'

const INSPECTOR = 'http://localhost:6274'

/** A browser's preflight before a POST /mcp carrying a token and the MCP headers. */
function preflight(url: string, origin: string): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type, mcp-protocol-version',
    },
  })
}

describe('MCP server CORS (--cors-origin, browser-based clients such as the MCP Inspector)', () => {
  let issuer: IssuerFixture
  let mcp: McpServerHandle
  let plain: McpServerHandle

  before(async () => {
    issuer = await IssuerFixture.start()
    mcp = await startMcpServer({issuer: issuer.issuer, port: 0, corsOrigins: [INSPECTOR]})
    plain = await startMcpServer({issuer: issuer.issuer, port: 0})
  })
  after(async () => {
    await mcp.stop()
    await plain.stop()
    await issuer.stop()
  })

  it('answers the preflight before authentication, with the MCP methods and headers', async () => {
    const res = await preflight(mcp.url, INSPECTOR)
    await res.text()
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), INSPECTOR)
    const methods = res.headers.get('access-control-allow-methods') ?? ''
    for (const m of ['GET', 'POST', 'DELETE', 'OPTIONS']) assert.match(methods, new RegExp(`\\b${m}\\b`))
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase()
    // mcp-method and mcp-name: the standard headers of every 2026-07-28 request (SEP-2243).
    for (const h of ['authorization', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'dpop', 'last-event-id', 'accept']) {
      assert.ok(allowed.split(/,\s*/).includes(h), `Allow-Headers lacks ${h}: ${allowed}`)
    }
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/)
    assert.match(res.headers.get('vary') ?? '', /Origin/)
    assert.equal(res.headers.get('www-authenticate'), null, 'a preflight is not authenticated')
  })

  it('lets the page read the 401 challenge of POST /mcp without a token', async () => {
    const res = await postMcp(mcp.url, initializeRequest(), {headers: {Origin: INSPECTOR}})
    await res.text()
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('access-control-allow-origin'), INSPECTOR)
    const exposed = res.headers.get('access-control-expose-headers') ?? ''
    for (const h of ['WWW-Authenticate', 'Mcp-Session-Id', 'DPoP-Nonce']) assert.match(exposed, new RegExp(h))
    assert.match(res.headers.get('www-authenticate') ?? '', /resource_metadata=/)
  })

  it('serves the protected resource metadata to the page, and a session with a token', async () => {
    const prm = await fetch(mcp.resourceMetadataUrl, {headers: {Origin: INSPECTOR}})
    assert.equal(prm.status, 200)
    assert.equal(prm.headers.get('access-control-allow-origin'), INSPECTOR)
    assert.equal((await prm.json()).resource, mcp.resource)
    const pre = await preflight(mcp.resourceMetadataUrl, INSPECTOR)
    await pre.text()
    assert.equal(pre.status, 204)

    const init = await postMcp(mcp.url, initializeRequest(), {token: await issuer.token({claims: {aud: [mcp.resource]}}), headers: {Origin: INSPECTOR}})
    await init.text()
    assert.equal(init.status, 200)
    assert.equal(init.headers.get('access-control-allow-origin'), INSPECTOR)
    assert.ok(init.headers.get('mcp-session-id'))
  })

  it('still refuses other origins (DNS-rebinding guard) and sends no CORS headers without --cors-origin', async () => {
    const evil = await preflight(mcp.url, 'http://evil.example.com')
    await evil.text()
    assert.equal(evil.status, 403)
    assert.equal(evil.headers.get('access-control-allow-origin'), null)

    // Loopback origins pass the guard, but without configured origins nothing is announced.
    const res = await postMcp(plain.url, initializeRequest(), {headers: {Origin: INSPECTOR}})
    await res.text()
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
  })

  it('accepts a non-loopback origin given with --cors-origin, and * for any', async () => {
    const site = 'https://inspector.example.com'
    const named = await startMcpServer({issuer: issuer.issuer, port: 0, corsOrigins: [site]})
    const any = await startMcpServer({issuer: issuer.issuer, port: 0, corsOrigins: ['*']})
    try {
      const res = await postMcp(named.url, initializeRequest(), {headers: {Origin: site}})
      await res.text()
      assert.equal(res.status, 401, 'the guard lets the configured origin through to authentication')
      assert.equal(res.headers.get('access-control-allow-origin'), site)
      const star = await preflight(any.url, 'https://elsewhere.example.org')
      await star.text()
      assert.equal(star.status, 204)
      assert.equal(star.headers.get('access-control-allow-origin'), '*')
    } finally {
      await named.stop()
      await any.stop()
    }
  })
})

describe('startStack passes corsOrigins to both servers', () => {
  it('the issuer discovery and the MCP 401 both carry Allow-Origin', async () => {
    const {startStack} = await import('../../../src/stack/index.js')
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, corsOrigins: [INSPECTOR]})
    try {
      const mcp = await postMcp(stack.mcpUrl, initializeRequest(), {headers: {Origin: INSPECTOR}})
      await mcp.text()
      assert.equal(mcp.status, 401)
      assert.equal(mcp.headers.get('access-control-allow-origin'), INSPECTOR)
      const meta = await fetch(`${stack.publicUrl}/.well-known/oauth-authorization-server`, {headers: {Origin: INSPECTOR}})
      await meta.text()
      assert.equal(meta.headers.get('access-control-allow-origin'), INSPECTOR)
    } finally {
      await stack.stop()
    }
  })
})
