import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AuthplaneClient,
  AuthplaneConfigError,
  AuthplaneIssuerMismatchError,
  AuthplaneProtocolError,
  AuthplaneServerError,
  AuthplaneTimeoutError,
  discoveryUrl,
} from '../../src/authplane/index.js'
import {FixtureServer, metadata, useFixtureServer, WELL_KNOWN} from './fixture.js'

const WK = WELL_KNOWN
const auth = {clientId: 'client-1', clientSecret: 'secret-1'}

describe('authplane discovery (contract §4, RFC 8414 §3)', () => {
  let server!: FixtureServer
  useFixtureServer((s) => (server = s))

  it('GETs exactly <origin>/.well-known/oauth-authorization-server for an issuer without a path', async () => {
    const issuer = server.origin
    server.on('GET', WK, metadata(issuer, server.origin))
    const client = await AuthplaneClient.create({issuer, auth})
    assert.equal(client.metadata.issuer, issuer)
    assert.equal(client.metadata.token_endpoint, `${server.origin}/oauth/token`)
    assert.deepEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
      [`GET ${WK}`],
    )
    assert.equal(server.requests[0]?.headers['accept'], 'application/json')
  })

  it('inserts the issuer path after the well-known segment (RFC 8414 §3.1)', async () => {
    const issuer = `${server.origin}/tenants/acme`
    server.on('GET', `${WK}/tenants/acme`, metadata(issuer, server.origin))
    await AuthplaneClient.create({issuer, auth})
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [`${WK}/tenants/acme`],
    )
  })

  it('drops the trailing slash of the issuer path in the URL but keeps it for the issuer comparison', async () => {
    const issuer = `${server.origin}/tenants/acme/`
    server.on('GET', `${WK}/tenants/acme`, metadata(issuer, server.origin))
    const client = await AuthplaneClient.create({issuer, auth})
    assert.equal(client.metadata.issuer, issuer)
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [`${WK}/tenants/acme`],
    )
  })

  it('computes discovery URLs for the CLI', () => {
    assert.equal(discoveryUrl('http://localhost:9000'), 'http://localhost:9000/.well-known/oauth-authorization-server')
    assert.equal(discoveryUrl('http://localhost:9000/'), 'http://localhost:9000/.well-known/oauth-authorization-server')
    assert.equal(discoveryUrl('https://as.example/t/x/'), 'https://as.example/.well-known/oauth-authorization-server/t/x')
  })

  it('does not fall back to openid-configuration on 404', async () => {
    const issuer = server.origin
    server.on('GET', '/.well-known/openid-configuration', metadata(issuer, server.origin))
    await assert.rejects(AuthplaneClient.create({issuer, auth}), (err: unknown) => {
      assert.ok(err instanceof AuthplaneProtocolError)
      assert.equal(err.statusCode, 404)
      assert.match(err.message, /oauth-authorization-server/)
      assert.match(err.message, /OpenID discovery is not tried/)
      return true
    })
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [WK],
    )
  })

  it('refuses a redirect (3xx is an error, the target is never fetched)', async () => {
    const issuer = server.origin
    server.on('GET', WK, {status: 302, headers: {location: `${server.origin}/elsewhere`}})
    server.on('GET', '/elsewhere', metadata(issuer, server.origin))
    await assert.rejects(AuthplaneClient.create({issuer, auth}), (err: unknown) => {
      assert.ok(err instanceof AuthplaneProtocolError)
      assert.equal(err.statusCode, 302)
      assert.match(err.message, /redirect/)
      assert.match(err.message, /\/elsewhere/)
      return true
    })
    assert.deepEqual(
      server.requests.map((r) => r.path),
      [WK],
    )
  })

  it('accepts an issuer that differs by one trailing slash, either way, as Authplane\'s SDKs do', async () => {
    // python-sdk AuthplaneClient.create / MetadataCache._validate_metadata strip it; Authplane's
    // Python MCP adapters announce the issuer as http://host:port/ (docs/fidelity.md K9).
    server.on('GET', WK, metadata(`${server.origin}/`, server.origin))
    assert.equal((await AuthplaneClient.create({issuer: server.origin, auth})).metadata.issuer, `${server.origin}/`)
    server.on('GET', WK, metadata(server.origin, server.origin))
    assert.equal((await AuthplaneClient.create({issuer: `${server.origin}/`, auth})).metadata.issuer, server.origin)
  })

  it('accepts one trailing slash on an issuer with a path too (oauth4webapi alone would not)', async () => {
    server.on('GET', `${WK}/tenants/acme`, metadata(`${server.origin}/tenants/acme/`, server.origin))
    assert.equal((await AuthplaneClient.create({issuer: `${server.origin}/tenants/acme`, auth})).metadata.issuer, `${server.origin}/tenants/acme/`)
  })

  it('rejects anything beyond one trailing slash, showing both strings', async () => {
    const issuer = server.origin
    server.on('GET', WK, metadata(`${server.origin}//`, server.origin))
    await assert.rejects(AuthplaneClient.create({issuer, auth}), (err: unknown) => {
      assert.ok(err instanceof AuthplaneIssuerMismatchError)
      assert.equal(err.code, 'issuer_mismatch')
      assert.equal(err.expected, issuer)
      assert.equal(err.actual, `${server.origin}//`)
      assert.ok(err.message.includes(JSON.stringify(issuer)))
      assert.ok(err.message.includes(JSON.stringify(`${server.origin}//`)))
      return true
    })
  })

  it('rejects localhost vs 127.0.0.1', async () => {
    const issuer = server.origin // http://127.0.0.1:<port>
    const announced = server.origin.replace('127.0.0.1', 'localhost')
    server.on('GET', WK, metadata(announced, server.origin))
    await assert.rejects(AuthplaneClient.create({issuer, auth}), (err: unknown) => {
      assert.ok(err instanceof AuthplaneIssuerMismatchError)
      assert.equal(err.actual, announced)
      assert.ok(err.message.includes(announced))
      assert.ok(err.message.includes(issuer))
      return true
    })
  })

  it('rejects a document without an issuer', async () => {
    server.on('GET', WK, metadata('', server.origin, {issuer: undefined}))
    await assert.rejects(AuthplaneClient.create({issuer: server.origin, auth}), AuthplaneIssuerMismatchError)
  })

  for (const [name, overrides, pattern] of [
    ['missing token_endpoint', {token_endpoint: undefined}, /no "token_endpoint"/],
    ['relative token_endpoint', {token_endpoint: '/oauth/token'}, /"token_endpoint" "\/oauth\/token", which is not an absolute URL/],
    ['missing jwks_uri', {jwks_uri: undefined}, /no "jwks_uri"/],
    ['relative jwks_uri', {jwks_uri: '.well-known/jwks.json'}, /"jwks_uri".*not an absolute URL/],
    ['non-http token_endpoint', {token_endpoint: 'ftp://127.0.0.1/oauth/token'}, /unsupported scheme/],
  ] as const) {
    it(`rejects metadata with ${name}`, async () => {
      server.on('GET', WK, metadata(server.origin, server.origin, overrides))
      await assert.rejects(AuthplaneClient.create({issuer: server.origin, auth}), (err: unknown) => {
        assert.ok(err instanceof AuthplaneProtocolError, String(err))
        assert.match(err.message, pattern)
        return true
      })
    })
  }

  it('rejects a non-JSON metadata body', async () => {
    server.on('GET', WK, {status: 200, headers: {'content-type': 'text/html'}, body: '<html>hi</html>'})
    await assert.rejects(AuthplaneClient.create({issuer: server.origin, auth}), AuthplaneProtocolError)
  })

  it('maps a 5xx metadata answer to AuthplaneServerError', async () => {
    server.on('GET', WK, {status: 503, body: {status: 'not_ready'}})
    await assert.rejects(AuthplaneClient.create({issuer: server.origin, auth}), (err: unknown) => {
      assert.ok(err instanceof AuthplaneServerError)
      assert.equal(err.statusCode, 503)
      return true
    })
  })

  it('times out discovery after timeoutMs', async () => {
    server.on('GET', WK, {...metadata(server.origin, server.origin), delayMs: 2000})
    await assert.rejects(AuthplaneClient.create({issuer: server.origin, auth, timeoutMs: 50}), AuthplaneTimeoutError)
  })

  it('allows http for a loopback issuer by default (development mode)', async () => {
    server.on('GET', WK, metadata(server.origin, server.origin))
    const client = await AuthplaneClient.create({issuer: server.origin, auth})
    assert.equal(client.allowInsecureHttp, true)
  })

  it('refuses an http issuer when allowInsecureHttp is false, without any request', async () => {
    server.on('GET', WK, metadata(server.origin, server.origin))
    await assert.rejects(AuthplaneClient.create({issuer: server.origin, auth, allowInsecureHttp: false}), (err: unknown) => {
      assert.ok(err instanceof AuthplaneConfigError)
      assert.match(err.message, /http:\/\//)
      return true
    })
    assert.equal(server.requests.length, 0)
  })

  it('refuses a non-loopback http issuer by default', async () => {
    await assert.rejects(
      AuthplaneClient.create({issuer: 'http://authserver.invalid:9000', auth}),
      AuthplaneConfigError,
    )
  })

  it('accepts plain http endpoints with an explicit allowInsecureHttp: true', async () => {
    server.on('GET', WK, metadata(server.origin, server.origin))
    const client = await AuthplaneClient.create({issuer: server.origin, auth, allowInsecureHttp: true})
    assert.equal(client.metadata.jwks_uri, `${server.origin}/.well-known/jwks.json`)
  })

  it('rejects issuers with a query or fragment, and a missing client secret', async () => {
    await assert.rejects(AuthplaneClient.create({issuer: `${server.origin}?x=1`, auth}), AuthplaneConfigError)
    await assert.rejects(AuthplaneClient.create({issuer: `${server.origin}#f`, auth}), AuthplaneConfigError)
    await assert.rejects(
      AuthplaneClient.create({issuer: server.origin, auth: {clientId: 'c', clientSecret: ''}}),
      /token_endpoint_auth_method "none"/,
    )
    assert.equal(server.requests.length, 0)
  })
})
