import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import type {StackHandle} from '../../src/stack/index.js'
import {assertCleanFailure, closedPort, Sandbox, useTestStack} from './helpers.js'

/** Registers the tier-02 resource and a client on the stack; returns the client's id and secret. */
async function registerClient(env: NodeJS.ProcessEnv): Promise<{id: string; secret: string}> {
  const admin = new Sandbox(env)
  try {
    assert.equal((await admin.run(['setup', 'resource'])).code, 0)
    const created = await admin.run(['setup', 'client'])
    assert.equal(created.code, 0, created.stderr)
    const saved = JSON.parse(readFileSync(admin.storePath, 'utf8')).profiles.default.client
    return {id: saved.id, secret: saved.secret}
  } finally {
    admin.cleanup()
  }
}

/**
 * A server that only ever answers one way: for the cases the real MCP server cannot be made to
 * produce (metadata naming another resource, no metadata at all).
 */
async function scriptedServer(handler: (path: string, base: string) => {status: number; headers?: Record<string, string>; body?: unknown}): Promise<{server: Server; base: string; hits: string[]}> {
  const hits: string[] = []
  let base = ''
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    const answer = handler(req.url ?? '/', base)
    res.writeHead(answer.status, {'content-type': 'application/json', ...answer.headers})
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {server, base, hits}
}

describe('mcp call with only the MCP URL and client credentials (discovery)', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  let client!: {id: string; secret: string}
  useTestStack((s) => ({stack, env} = s))
  before(async () => {
    client = await registerClient(env)
  })

  it('follows 401 -> resource metadata -> authorization server metadata -> token, with no issuer configured', async () => {
    // A fresh machine: no AUTHPLANE_ISSUER, no profile; only the URL and the client.
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: client.secret})
    try {
      const tokensBefore = stack.authServer.stats().tokenRequests
      const result = await box.run(['mcp', 'call', 'echo', '--text', 'found it', '--mcp-url', stack.mcpUrl, '--client-id', client.id, '--json'])
      assert.equal(result.code, 0, result.stderr)
      const {result: out} = JSON.parse(result.stdout)
      assert.equal(out.result.content[0].text, 'found it')
      assert.equal(out.auth.mode, 'discovered')
      assert.equal(out.auth.via, 'challenge')
      assert.equal(out.auth.issuer, stack.issuer)
      assert.equal(out.auth.resource, stack.resource, 'the token is bound to the metadata\'s resource')
      assert.equal(out.auth.resourceMetadataUrl, `${new URL(stack.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`)
      assert.deepEqual(out.auth.scopes, ['mcp:echo'])
      assert.equal(out.auth.scopeSource, 'challenge')
      assert.equal(out.auth.credentialsSource, 'flag')
      assert.equal(out.tokenFromCache, false)
      assert.equal(stack.authServer.stats().tokenRequests, tokensBefore + 1)

      // The second call reuses the cached token: no token request, same answer.
      const again = await box.run(['mcp', 'call', 'echo', '--text', 'again', '--mcp-url', stack.mcpUrl, '--client-id', client.id, '--json'])
      assert.equal(again.code, 0, again.stderr)
      assert.equal(JSON.parse(again.stdout).result.tokenFromCache, true)
      assert.equal(stack.authServer.stats().tokenRequests, tokensBefore + 1)
    } finally {
      box.cleanup()
    }
  })

  it('says each discovery step on stderr, and --print-curl shows the secret only as its variable', async () => {
    const box = new Sandbox()
    try {
      const result = await box.run(['mcp', 'tools', '--mcp-url', stack.mcpUrl, '--client-id', client.id, '--client-secret', client.secret, '--print-curl', '--no-cache'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^echo/m)
      assert.match(result.stderr, /401 from .*; resource metadata .*oauth-protected-resource\/mcp \(named by the challenge\)/)
      assert.match(result.stderr, new RegExp(`authorization server ${stack.issuer}; token for resource ${stack.resource}, scope mcp:echo`))
      assert.match(result.stderr, /curl .*oauth-authorization-server/)
      assert.match(result.stderr, /-u "[^:"]+:\$\{AUTHPLANE_CLIENT_SECRET\}"/)
      assert.ok(!result.stderr.includes(client.secret), 'the secret never reaches the terminal')
    } finally {
      box.cleanup()
    }
  })

  it('refuses an --issuer the MCP server does not trust, before sending the secret anywhere', async () => {
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: client.secret})
    try {
      const tokensBefore = stack.authServer.stats().tokenRequests
      const result = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--discover', '--issuer', 'http://localhost:1/', '--mcp-url', stack.mcpUrl, '--client-id', client.id])
      assertCleanFailure(result, 7, /trusts "http:\/\/127\.0\.0\.1:\d+", not "http:\/\/localhost:1\/"/)
      assert.equal(stack.authServer.stats().tokenRequests, tokensBefore)
    } finally {
      box.cleanup()
    }
  })

  it('uses the saved client only when the discovered issuer is the configured one', async () => {
    const box = new Sandbox(env)
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      const result = await box.run(['mcp', 'call', 'echo', '--text', 'saved', '--discover', '--json'])
      assert.equal(result.code, 0, result.stderr)
      const out = JSON.parse(result.stdout).result
      assert.equal(out.auth.credentialsSource, 'profile')
      assert.equal(out.result.content[0].text, 'saved')

      // With another issuer configured, the saved client belongs to that configuration: a server
      // found by discovery does not get its secret.
      const elsewhere = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--discover', '--no-cache'], {env: {AUTHPLANE_ISSUER: 'http://localhost:9'}})
      assertCleanFailure(elsewhere, 3, /needs a token from http:\/\/127\.0\.0\.1:\d+; the configured client \(profile\) belongs to http:\/\/localhost:9/)
    } finally {
      box.cleanup()
    }
  })

  it('sends the client of the environment or ./.env only to the configured issuer', async () => {
    // A working client of the stack, configured through ./.env together with another issuer: the
    // stack, found through the MCP server, must not receive that client's secret.
    const box = new Sandbox()
    try {
      writeFileSync(join(box.root, '.env'), `AUTHPLANE_ISSUER=http://localhost:9\nAUTHPLANE_CLIENT_ID=${client.id}\nAUTHPLANE_CLIENT_SECRET=${client.secret}\n`)
      const tokensBefore = stack.authServer.stats().tokenRequests
      const result = await box.run(['mcp', 'tools', '--discover', '--mcp-url', stack.mcpUrl])
      assertCleanFailure(result, 3, /the configured client \(\.env\) belongs to http:\/\/localhost:9/)
      assert.equal(stack.authServer.stats().tokenRequests, tokensBefore, 'no token request reached the discovered server')

      // Named on the command line, the same client is the user's choice for whatever server is found.
      const named = await box.run(['mcp', 'tools', '--mcp-url', stack.mcpUrl, '--client-id', client.id])
      assert.equal(named.code, 0, named.stderr)
    } finally {
      box.cleanup()
    }
  })

  it('says which server refused a client named on the command line, without Authplane admin advice', async () => {
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: 'not-the-secret'})
    try {
      const result = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', stack.mcpUrl, '--client-id', client.id])
      assertCleanFailure(result, 3, /token request refused: invalid_client.* at http:\/\/127\.0\.0\.1:\d+/)
      assert.match(result.stderr, /must be a client_credentials client registered at that server/)
      assert.doesNotMatch(result.stderr, /setup client --rotate/)
    } finally {
      box.cleanup()
    }
  })

  it('--client-id without a secret is a usage error', async () => {
    const box = new Sandbox()
    try {
      assertCleanFailure(await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', stack.mcpUrl, '--client-id', client.id]), 2, /--client-id needs a secret/)
    } finally {
      box.cleanup()
    }
  })
})

describe('discovery against servers whose metadata cannot be used', () => {
  const servers: Server[] = []
  let closed = 0
  before(async () => {
    closed = await closedPort()
  })
  after(() => {
    for (const s of servers) s.close()
  })

  it('refuses metadata that names another resource, and asks no authorization server', async () => {
    const as = await scriptedServer(() => ({status: 500}))
    const mcp = await scriptedServer((path, base) =>
      path.startsWith('/.well-known/oauth-protected-resource')
        ? {status: 200, body: {resource: 'https://evil.example/mcp', authorization_servers: [as.base]}}
        : {status: 401, headers: {'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`}, body: {error: 'invalid_token'}},
    )
    servers.push(as.server, mcp.server)
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: 's3cret'})
    try {
      const result = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', `${mcp.base}/mcp`, '--client-id', 'c1'])
      assertCleanFailure(result, 4, /names resource "https:\/\/evil\.example\/mcp", which is not the MCP server/)
      assert.deepEqual(as.hits, [], 'the authorization server was never contacted')
    } finally {
      box.cleanup()
    }
  })

  it('names the 401 challenge when its resource_metadata cannot be reached, and follows only http(s)', async () => {
    const unreachable = await scriptedServer(() => ({status: 401, headers: {'www-authenticate': `Bearer resource_metadata="http://127.0.0.1:${closed}/prm"`}}))
    const fileScheme = await scriptedServer(() => ({status: 401, headers: {'www-authenticate': 'Bearer resource_metadata="file:///etc/passwd"'}}))
    servers.push(unreachable.server, fileScheme.server)
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: 's3cret'})
    try {
      const first = await box.run(['mcp', 'tools', '--mcp-url', `${unreachable.base}/mcp`, '--client-id', 'c1'])
      assertCleanFailure(first, 4, /which the MCP server's 401 named as its resource metadata/)
      const second = await box.run(['mcp', 'tools', '--mcp-url', `${fileScheme.base}/mcp`, '--client-id', 'c1'])
      assertCleanFailure(second, 4, /names resource_metadata "file:\/\/\/etc\/passwd", which is not an http\(s\) URL/)
    } finally {
      box.cleanup()
    }
  })

  it('falls back to the RFC 9728 well-known URLs when the challenge names no metadata', async () => {
    const mcp = await scriptedServer((path) =>
      path.startsWith('/.well-known/') ? {status: 404} : {status: 401, headers: {'www-authenticate': 'Bearer'}, body: {error: 'invalid_token'}},
    )
    servers.push(mcp.server)
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: 's3cret'})
    try {
      const result = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', `${mcp.base}/tenant/mcp`, '--client-id', 'c1', '--json'])
      assert.equal(result.code, 4, result.stderr)
      const error = JSON.parse(result.stdout).error
      assert.equal(error.code, 'resource_metadata_missing')
      assert.ok(mcp.hits.includes('GET /.well-known/oauth-protected-resource/tenant/mcp'), mcp.hits.join(', '))
      assert.ok(mcp.hits.includes('GET /.well-known/oauth-protected-resource'), mcp.hits.join(', '))
    } finally {
      box.cleanup()
    }
  })
})
