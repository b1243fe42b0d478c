// The mutation run of issue 19: with the SDK layer accepting http token and JWKS endpoints from an
// https issuer, every test passed, since every discovery test used an http localhost issuer. Here
// the issuer is https (a TLS server on loopback with a test-only self-signed certificate, trusted
// through NODE_EXTRA_CA_CERTS by the child process that discovers it) and the metadata points
// elsewhere: an https issuer never hands a token request or a key download to plain http, unless
// the caller asks for development mode (allowInsecureHttp: true). Its neighbours: other schemes,
// relative URLs, and the http localhost issuer that stays allowed.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {createServer as createHttpsServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'

import {ROOT} from '../cli/helpers.js'

const TLS = join(ROOT, 'test', 'fixtures', 'tls')
const RUNNER = join(ROOT, 'dist', 'test', 'authplane', 'discover-once.js')

interface Outcome {
  ok: boolean
  name?: string
  message?: string
  tokenEndpoint?: string
  jwksUri?: string
  allowInsecureHttp?: boolean
}

describe('discovery of an https issuer', () => {
  let server: Server
  let issuer = ''
  /** What the metadata names, per test. */
  let endpoints: {token_endpoint?: unknown; jwks_uri?: unknown} = {}

  before(async () => {
    server = createHttpsServer({cert: readFileSync(join(TLS, 'localhost.cert.pem')), key: readFileSync(join(TLS, 'localhost.key.pem'))}, (req, res) => {
      if (req.url === '/.well-known/oauth-authorization-server') {
        res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({issuer, response_types_supported: ['code'], grant_types_supported: ['client_credentials'], ...endpoints}))
      } else {
        res.writeHead(404).end()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    issuer = `https://localhost:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  async function discover(metadata: typeof endpoints, options: {allowInsecureHttp?: boolean} = {}): Promise<Outcome> {
    endpoints = metadata
    const {stdout} = await promisify(execFile)(process.execPath, [RUNNER, JSON.stringify({issuer, ...options})], {env: {...process.env, NODE_EXTRA_CA_CERTS: join(TLS, 'localhost.cert.pem')}, encoding: 'utf8'})
    return JSON.parse(stdout) as Outcome
  }

  it('accepts https endpoints (the certificate is trusted: the refusals below are about the scheme)', async () => {
    const r = await discover({token_endpoint: `${issuer}/oauth/token`, jwks_uri: `${issuer}/.well-known/jwks.json`})
    assert.deepEqual(r, {ok: true, tokenEndpoint: `${issuer}/oauth/token`, jwksUri: `${issuer}/.well-known/jwks.json`, allowInsecureHttp: false})
  })

  it('refuses an http token_endpoint, although the issuer is on localhost', async () => {
    const r = await discover({token_endpoint: 'http://localhost:9/oauth/token', jwks_uri: `${issuer}/.well-known/jwks.json`})
    assert.equal(r.ok, false)
    assert.equal(r.name, 'AuthplaneProtocolError')
    assert.match(r.message!, /has an http:\/\/ "token_endpoint" \(http:\/\/localhost:9\/oauth\/token\); http is only allowed in development mode/)
  })

  it('refuses an http jwks_uri', async () => {
    const r = await discover({token_endpoint: `${issuer}/oauth/token`, jwks_uri: 'http://127.0.0.1:9/jwks.json'})
    assert.equal(r.ok, false)
    assert.match(r.message!, /has an http:\/\/ "jwks_uri" \(http:\/\/127\.0\.0\.1:9\/jwks\.json\)/)
  })

  it('accepts http endpoints only in explicit development mode (allowInsecureHttp: true)', async () => {
    const r = await discover({token_endpoint: 'http://localhost:9/oauth/token', jwks_uri: 'http://localhost:9/jwks.json'}, {allowInsecureHttp: true})
    assert.equal(r.ok, true, r.message)
    assert.equal(r.tokenEndpoint, 'http://localhost:9/oauth/token')
  })

  it('refuses other schemes and relative endpoints, and a metadata without them', async () => {
    for (const [metadata, pattern] of [
      [{token_endpoint: 'ftp://localhost/token', jwks_uri: `${issuer}/jwks`}, /"token_endpoint" "ftp:\/\/localhost\/token" with an unsupported scheme/],
      [{token_endpoint: `${issuer}/token`, jwks_uri: 'javascript:alert(1)'}, /"jwks_uri" "javascript:alert\(1\)" with an unsupported scheme/],
      [{token_endpoint: '/oauth/token', jwks_uri: `${issuer}/jwks`}, /"token_endpoint" "\/oauth\/token", which is not an absolute URL/],
      [{jwks_uri: `${issuer}/jwks`}, /has no "token_endpoint"/],
    ] as const) {
      const r = await discover(metadata)
      assert.equal(r.ok, false, JSON.stringify(metadata))
      assert.match(r.message!, pattern)
    }
  })
})
