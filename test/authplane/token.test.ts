import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {describe, it} from 'node:test'
import {
  AuthplaneClient,
  AuthplaneConsentRequiredError,
  AuthplaneNetworkError,
  AuthplaneOAuthError,
  AuthplaneProtocolError,
  AuthplaneServerError,
  AuthplaneTimeoutError,
  OAUTH_ERROR_CODES,
  basicAuthorization,
  describeToken,
  type AuthplaneClientOptions,
  type ObservedRequest,
} from '../../src/authplane/index.js'
import {FixtureServer, jsonError, metadata, problem, type Reply, tokenOk, useFixtureServer, WELL_KNOWN} from './fixture.js'

const WK = WELL_KNOWN
const TOKEN = '/oauth/token'
const RESOURCE = 'http://localhost:8080/mcp'

describe('authplane client_credentials (contract §4)', () => {
  let server!: FixtureServer
  useFixtureServer((s) => (server = s), {withMetadata: true})

  async function client(extra: Partial<AuthplaneClientOptions> = {}): Promise<AuthplaneClient> {
    const c = await AuthplaneClient.create({
      issuer: server.origin,
      auth: {clientId: 'client-1', clientSecret: 'secret-1'},
      ...extra,
    })
    server.requests.length = 0
    return c
  }

  async function tokenRequestFor(scopes: string[], resources: string[]) {
    server.on('POST', TOKEN, tokenOk())
    const c = await client()
    await c.clientCredentials(scopes, resources, {noCache: true})
    assert.equal(server.requests.length, 1)
    return server.requests[0]!
  }

  describe('request', () => {
    it('POSTs the exact form: grant_type, single-space scope, one resource per value, blanks dropped', async () => {
      const req = await tokenRequestFor(['mcp:echo', 'files:read'], [RESOURCE, '', '  ', 'https://r2.example/api'])
      assert.equal(req.method, 'POST')
      assert.equal(req.path, TOKEN)
      assert.equal(
        req.body,
        'grant_type=client_credentials&scope=mcp%3Aecho+files%3Aread' +
          '&resource=http%3A%2F%2Flocalhost%3A8080%2Fmcp&resource=https%3A%2F%2Fr2.example%2Fapi',
      )
      const form = new URLSearchParams(req.body)
      assert.equal(form.get('scope'), 'mcp:echo files:read')
      assert.deepEqual(form.getAll('resource'), [RESOURCE, 'https://r2.example/api'])
      assert.match(String(req.headers['content-type']), /^application\/x-www-form-urlencoded/)
    })

    it('omits scope when there are no scopes (and resource when there are none)', async () => {
      let req = await tokenRequestFor([], [RESOURCE])
      assert.equal(req.body, 'grant_type=client_credentials&resource=http%3A%2F%2Flocalhost%3A8080%2Fmcp')
      server.reset()
      server.on('GET', WK, metadata(server.origin, server.origin))
      req = await tokenRequestFor([], [])
      assert.equal(req.body, 'grant_type=client_credentials')
    })

    it('sends Accept: application/json', async () => {
      const req = await tokenRequestFor(['mcp:echo'], [RESOURCE])
      assert.equal(req.headers['accept'], 'application/json')
    })

    it('sends Basic auth as base64(encodeURIComponent(id) ":" encodeURIComponent(secret)), exactly', async () => {
      const clientId = "id:+/ !'*%"
      const clientSecret = "s3cr:t+/ !'*%~"
      // encodeURIComponent leaves ! ' * ~ alone and writes a space as %20 (form encoding would use +
      // and escape !'*).
      const encoded = "id%3A%2B%2F%20!'*%25:s3cr%3At%2B%2F%20!'*%25~"
      const expected = `Basic ${Buffer.from(encoded, 'ascii').toString('base64')}`
      assert.equal(basicAuthorization(clientId, clientSecret), expected)

      server.on('POST', TOKEN, tokenOk())
      const c = await client({auth: {clientId, clientSecret}})
      await c.clientCredentials(['mcp:echo'], [RESOURCE])
      const req = server.requests[0]!
      assert.equal(req.headers['authorization'], expected)
      const decoded = Buffer.from(String(req.headers['authorization']).slice('Basic '.length), 'base64').toString()
      assert.equal(decoded, encoded)
      const [u, p] = decoded.split(':')
      assert.equal(decodeURIComponent(u!), clientId)
      assert.equal(decodeURIComponent(p!), clientSecret)
      assert.ok(!new URLSearchParams(req.body).has('client_secret'))
    })

    it('client_secret_post puts id and secret in the body and sends no Authorization header', async () => {
      server.on('POST', TOKEN, tokenOk())
      const c = await client({auth: {clientId: 'id +1', clientSecret: 'sec&=ret', method: 'client_secret_post'}})
      await c.clientCredentials(['mcp:echo'], [RESOURCE])
      const req = server.requests[0]!
      assert.equal(req.headers['authorization'], undefined)
      const form = new URLSearchParams(req.body)
      assert.equal(form.get('grant_type'), 'client_credentials')
      assert.equal(form.get('client_id'), 'id +1')
      assert.equal(form.get('client_secret'), 'sec&=ret')
      assert.ok(req.body.startsWith('grant_type=client_credentials&scope=mcp%3Aecho&resource='))
    })

    it('calls onRequest before each HTTP request with the real request', async () => {
      const seen: ObservedRequest[] = []
      server.on('POST', TOKEN, tokenOk())
      const c = await AuthplaneClient.create({
        issuer: server.origin,
        auth: {clientId: 'client-1', clientSecret: 'secret-1'},
        onRequest: (r) => seen.push(r),
      })
      await c.clientCredentials(['mcp:echo'], [RESOURCE])
      assert.equal(seen.length, 2)
      assert.equal(seen[0]?.method, 'GET')
      assert.equal(seen[0]?.url, `${server.origin}${WK}`)
      assert.equal(seen[1]?.method, 'POST')
      assert.equal(seen[1]?.url, `${server.origin}${TOKEN}`)
      assert.equal(seen[1]?.headers['authorization'], basicAuthorization('client-1', 'secret-1'))
      assert.equal(seen[1]?.body, server.requestsTo(TOKEN)[0]?.body)
    })
  })

  describe('response checks', () => {
    it('returns the token result with the raw body', async () => {
      server.on('POST', TOKEN, tokenOk({extra: 'x'}))
      const c = await client()
      const r = await c.clientCredentials(['mcp:echo'], [RESOURCE])
      assert.equal(r.accessToken, 'eyJhbGciOiJFUzI1NiJ9.e30.sig')
      assert.equal(r.tokenType, 'Bearer')
      assert.equal(r.expiresIn, 3600)
      assert.equal(r.scope, 'mcp:echo')
      assert.equal(r.fromCache, false)
      assert.equal(r.raw['extra'], 'x')
    })

    it('accepts token_type DPoP and a missing expires_in', async () => {
      server.on('POST', TOKEN, tokenOk({token_type: 'DPoP', expires_in: undefined}))
      const c = await client()
      const r = await c.clientCredentials(['mcp:echo'], [RESOURCE])
      assert.equal(r.tokenType, 'DPoP')
      assert.equal(r.expiresIn, undefined)
    })

    it('accepts expires_in 0', async () => {
      server.on('POST', TOKEN, tokenOk({expires_in: 0}))
      const r = await (await client()).clientCredentials([], [RESOURCE])
      assert.equal(r.expiresIn, 0)
    })

    const bad: Array<[string, Reply, RegExp]> = [
      ['missing access_token', tokenOk({access_token: undefined}), /access_token/],
      ['empty access_token', tokenOk({access_token: ''}), /access_token/],
      ['numeric access_token', tokenOk({access_token: 42}), /access_token/],
      ['missing token_type', tokenOk({token_type: undefined}), /token_type/],
      ['lower-case token_type bearer', tokenOk({token_type: 'bearer'}), /"token_type" is "bearer"/],
      ['token_type mac', tokenOk({token_type: 'mac'}), /token_type/],
      ['expires_in "3600" (string)', tokenOk({expires_in: '3600'}), /"expires_in" is "3600"/],
      ['expires_in -1', tokenOk({expires_in: -1}), /"expires_in" is -1/],
      ['expires_in 1.5', tokenOk({expires_in: 1.5}), /"expires_in" is 1.5/],
      ['scope not a string', tokenOk({scope: ['mcp:echo']}), /scope/],
      ['non-JSON body', {status: 200, headers: {'content-type': 'text/plain'}, body: 'access_token=x'}, /not a JSON object/],
      ['JSON array body', {status: 200, headers: {'content-type': 'application/json'}, body: '[]'}, /not a JSON object/],
    ]
    for (const [name, reply, pattern] of bad) {
      it(`rejects ${name} as a protocol error`, async () => {
        server.on('POST', TOKEN, reply)
        const c = await client()
        await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
          assert.ok(err instanceof AuthplaneProtocolError, String(err))
          assert.equal(err.code, 'protocol_error')
          assert.equal(err.statusCode, 200)
          assert.match(err.message, pattern)
          return true
        })
      })
    }
  })

  describe('errors', () => {
    for (const code of OAUTH_ERROR_CODES) {
      for (const [style, make] of [
        ['problem+json', problem],
        ['application/json', jsonError],
      ] as const) {
        it(`maps ${code} (${style}) to AuthplaneOAuthError`, async () => {
          const status = code === 'invalid_client' ? 401 : code === 'access_denied' ? 403 : 400
          server.on('POST', TOKEN, make(status, code, `the server says ${code}`))
          const c = await client()
          await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
            assert.ok(err instanceof AuthplaneOAuthError, String(err))
            assert.ok(!(err instanceof AuthplaneConsentRequiredError))
            assert.equal(err.code, code)
            assert.equal(err.oauthError, code)
            assert.equal(err.statusCode, status)
            assert.equal(err.description, `the server says ${code}`)
            assert.ok(err.message.includes(`the server says ${code}`))
            assert.ok(err.message.includes(code))
            return true
          })
        })
      }
    }

    it('falls back to the problem+json detail when error_description is absent', async () => {
      server.on('POST', TOKEN, {
        status: 400,
        headers: {'content-type': 'application/problem+json'},
        body: {error: 'invalid_target', title: 'Bad Request', detail: 'resource "x" is not a registered resource', status: 400},
      })
      const c = await client()
      await assert.rejects(c.clientCredentials([], ['x']), (err: unknown) => {
        assert.ok(err instanceof AuthplaneOAuthError)
        assert.equal(err.code, 'invalid_target')
        assert.equal(err.description, 'resource "x" is not a registered resource')
        return true
      })
    })

    for (const code of ['consent_required', 'interaction_required']) {
      it(`maps ${code} to AuthplaneConsentRequiredError with consent_url`, async () => {
        server.on('POST', TOKEN, problem(403, code, 'a human must approve', {consent_url: 'https://as.example/consent/123'}))
        const c = await client()
        await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
          assert.ok(err instanceof AuthplaneConsentRequiredError, String(err))
          assert.equal(err.code, code)
          assert.equal(err.statusCode, 403)
          assert.equal(err.consentUrl, 'https://as.example/consent/123')
          assert.match(err.message, /consent\/123/)
          return true
        })
      })
    }

    it('maps 500 server_error (problem+json) to AuthplaneServerError', async () => {
      server.on('POST', TOKEN, problem(500, 'server_error', 'internal error'))
      const c = await client()
      await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
        assert.ok(err instanceof AuthplaneServerError)
        assert.equal(err.code, 'server_error')
        assert.equal(err.statusCode, 500)
        assert.equal(err.oauthError, 'server_error')
        assert.match(err.message, /internal error/)
        return true
      })
    })

    it('maps a 502 HTML page to AuthplaneServerError', async () => {
      server.on('POST', TOKEN, {status: 502, headers: {'content-type': 'text/html'}, body: '<h1>Bad Gateway</h1>'})
      const c = await client()
      await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
        assert.ok(err instanceof AuthplaneServerError)
        assert.equal(err.statusCode, 502)
        return true
      })
    })

    it('maps a 4xx without an OAuth error to AuthplaneProtocolError', async () => {
      server.on('POST', TOKEN, {status: 404, headers: {'content-type': 'text/plain'}, body: 'not found'})
      const c = await client()
      await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
        assert.ok(err instanceof AuthplaneProtocolError)
        assert.equal(err.statusCode, 404)
        return true
      })
    })

    it('does not follow a redirect from the token endpoint', async () => {
      server.on('POST', TOKEN, {status: 307, headers: {location: `${server.origin}/other`}})
      server.on('POST', '/other', tokenOk())
      const c = await client()
      await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
        assert.ok(err instanceof AuthplaneProtocolError)
        assert.equal(err.statusCode, 307)
        return true
      })
      assert.deepEqual(
        server.requests.map((r) => r.path),
        [TOKEN],
      )
    })

    it('maps a slow token endpoint to AuthplaneTimeoutError (timeoutMs, no retry)', async () => {
      server.on('POST', TOKEN, {...tokenOk(), delayMs: 2000})
      const c = await client({timeoutMs: 100})
      const started = Date.now()
      await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
        assert.ok(err instanceof AuthplaneTimeoutError, String(err))
        assert.equal(err.code, 'timeout')
        assert.equal(err.timeoutMs, 100)
        assert.match(err.message, /100 ms/)
        return true
      })
      assert.ok(Date.now() - started < 1500)
      assert.equal(server.requestsTo(TOKEN).length, 1)
    })

    it('maps a refused connection to AuthplaneNetworkError', async () => {
      const port = await closedPort()
      server.on('GET', WK, metadata(server.origin, server.origin, {token_endpoint: `http://127.0.0.1:${port}/oauth/token`}))
      const c = await client()
      await assert.rejects(c.clientCredentials(['mcp:echo'], [RESOURCE]), (err: unknown) => {
        assert.ok(err instanceof AuthplaneNetworkError, String(err))
        assert.equal(err.code, 'network_error')
        assert.match(err.message, /ECONNREFUSED/)
        return true
      })
    })
  })

  describe('describeToken', () => {
    it('decodes header and claims without verifying', () => {
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
      const jwt = `${b64({alg: 'ES256', kid: 'k1', typ: 'at+jwt'})}.${b64({iss: 'http://localhost:9000', aud: [RESOURCE], scope: 'mcp:echo'})}.c2ln`
      const {header, claims} = describeToken(jwt)
      assert.equal(header.typ, 'at+jwt')
      assert.equal(header.kid, 'k1')
      assert.deepEqual(claims.aud, [RESOURCE])
      assert.equal(claims['scope'], 'mcp:echo')
    })

    it('throws a protocol error for a non-JWT', () => {
      assert.throws(() => describeToken('opaque-token'), AuthplaneProtocolError)
    })
  })
})

async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const address = srv.address()
  const port = typeof address === 'object' && address ? address.port : 0
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}
