import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {admin, assertOAuthError, createResource, decodeJwt, RESOURCE_URI, start, token} from './helpers.js'

async function register(h: AuthServerHandle, body: unknown, headers: Record<string, string> = {}): Promise<{status: number; headers: Headers; body: any; text: string}> {
  const res = await fetch(`${h.publicUrl}/oauth/register`, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body: typeof body === 'string' ? body : JSON.stringify(body)})
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return {status: res.status, headers: res.headers, body: parsed, text}
}

/** The real server's register errors: OAuth + problem+json hybrid, no Cache-Control. */
function assertRegisterError(r: Awaited<ReturnType<typeof register>>, status: number, error: string, description: string | RegExp): void {
  assert.equal(r.status, status, r.text)
  assert.equal(r.headers.get('content-type'), 'application/problem+json')
  assert.deepEqual(Object.keys(r.body).sort(), ['detail', 'error', 'error_description', 'status', 'title', 'type'])
  assert.equal(r.body.error, error)
  assert.equal(r.body.type, `https://docs.authplane.ai/errors/${error}`)
  assert.equal(r.body.detail, r.body.error_description)
  if (typeof description === 'string') assert.equal(r.body.error_description, description)
  else assert.match(r.body.error_description, description)
}

const INVALID = 'client authentication failed: client validation failed: '

describe('POST /oauth/register (RFC 7591)', () => {
  let h: AuthServerHandle
  before(async () => {
    h = await start()
  })
  after(async () => {
    await h.stop()
  })

  it('registers a public client with the RFC 7591 defaults (201, no-store, no secret)', async () => {
    const r = await register(h, {client_name: 'desktop app', redirect_uris: ['http://127.0.0.1:33418/callback']})
    assert.equal(r.status, 201, r.text)
    assert.equal(r.headers.get('content-type'), 'application/json')
    assert.equal(r.headers.get('cache-control'), 'no-store')
    assert.match(r.body.client_id, /^[A-Za-z0-9_-]{22}$/)
    assert.equal(r.body.client_secret, undefined)
    assert.equal(r.body.client_secret_expires_at, undefined)
    assert.equal(typeof r.body.client_id_issued_at, 'number')
    assert.ok(Math.abs(r.body.client_id_issued_at - Date.now() / 1000) < 60)
    assert.deepEqual(r.body.grant_types, ['authorization_code'])
    assert.deepEqual(r.body.response_types, ['code'])
    assert.equal(r.body.token_endpoint_auth_method, 'none')
    assert.equal(r.body.application_type, 'web')
    assert.deepEqual(Object.keys(r.body), ['client_id', 'client_id_issued_at', 'redirect_uris', 'client_name', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'application_type'])
    // The admin API sees it as a dcr client with an empty ceiling.
    const read = await admin(h, 'GET', `/admin/clients/${r.body.client_id}`)
    assert.equal(read.status, 200)
    assert.equal(read.body.registration_source, 'dcr')
    assert.equal(read.body.scope, '')
    assert.equal(read.body.status, 'active')
  })

  it('a confidential client gets a 43-char secret that never expires, and it authenticates', async () => {
    const r = await register(h, {client_name: 'machine', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', application_type: 'native', agent: true, agent_description: 'a bot'})
    assert.equal(r.status, 201, r.text)
    assert.match(r.body.client_secret, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(r.body.client_secret_expires_at, 0)
    assert.equal(r.body.redirect_uris, null, 'omitted redirect_uris is echoed as null')
    assert.deepEqual(r.body.response_types, ['code'], 'response_types defaults to code even for machine clients')
    assert.equal(r.body.application_type, 'native')
    assert.equal(r.body.agent, true)
    assert.equal(r.body.agent_description, 'a bot')
    // Empty ceiling: no resource -> a token with no scope; with a resource -> invalid_scope.
    await createResource(h)
    const plain = await token(h, r.body, {})
    assert.equal(plain.status, 200, plain.text)
    assert.equal(decodeJwt(plain.body.access_token).payload.scope, undefined)
    assertOAuthError(await token(h, r.body, {resource: RESOURCE_URI}), 400, 'invalid_scope')
    assertOAuthError(await token(h, r.body, {scope: 'mcp:echo'}), 400, 'invalid_scope', 'the requested scope is invalid or not allowed: this client was created through dynamic registration, which issues user-delegated clients only; machine-to-machine clients must be pre-registered through the admin API')
  })

  it('JSON written like Go\'s encoder: <, > and & escaped, a trailing newline', async () => {
    const r = await register(h, {client_name: '<b>Tom & Jerry</b>', grant_types: ['client_credentials']})
    assert.equal(r.status, 201, r.text)
    assert.ok(r.text.includes('"client_name":"\\u003cb\\u003eTom \\u0026 Jerry\\u003c/b\\u003e"'), r.text)
    assert.ok(r.text.endsWith('}\n'))
    assert.equal(r.body.client_name, '<b>Tom & Jerry</b>')
  })

  it('echoes an empty redirect_uris array as []', async () => {
    const r = await register(h, {client_name: 'm', grant_types: ['client_credentials'], redirect_uris: []})
    assert.equal(r.status, 201, r.text)
    assert.deepEqual(r.body.redirect_uris, [])
  })

  for (const [name, body, description] of [
    ['missing client_name', {redirect_uris: ['https://app.example/cb']}, `${INVALID}client_name is required`],
    ['blank client_name', {client_name: '  ', redirect_uris: ['https://app.example/cb']}, `${INVALID}client_name is required`],
    ['client_name over 255 bytes', {client_name: 'é'.repeat(128), redirect_uris: ['https://app.example/cb']}, `${INVALID}client_name exceeds 255 characters`],
    ['no redirect_uris for the default grant', {client_name: 'a'}, `${INVALID}at least one redirect_uri is required`],
    ['http redirect off loopback', {client_name: 'a', redirect_uris: ['http://app.example/cb']}, `${INVALID}redirect_uri "http://app.example/cb" must use https (http allowed only for localhost)`],
    ['fragment', {client_name: 'a', redirect_uris: ['https://app.example/cb#x']}, `${INVALID}redirect_uri "https://app.example/cb#x" must not contain a fragment`],
    ['relative redirect', {client_name: 'a', redirect_uris: ['/cb']}, `${INVALID}redirect_uri "/cb" must have scheme and host`],
    ['custom scheme', {client_name: 'a', redirect_uris: ['myapp://cb']}, `${INVALID}redirect_uri "myapp://cb" must use https scheme`],
    ['userinfo', {client_name: 'a', redirect_uris: ['https://user:pw@app.example/cb']}, `${INVALID}redirect_uri "https://user:pw@app.example/cb" must not contain userinfo`],
    ['userinfo on loopback', {client_name: 'a', redirect_uris: ['http://trusted.example@127.0.0.1:4000/cb']}, `${INVALID}redirect_uri "http://trusted.example@127.0.0.1:4000/cb" must not contain userinfo`],
    ['too many redirect_uris', {client_name: 'a', redirect_uris: Array.from({length: 11}, (_, i) => `https://app.example/cb${i}`)}, `${INVALID}too many redirect_uris (max 10)`],
    ['unknown grant', {client_name: 'a', grant_types: ['password']}, `${INVALID}unsupported grant_type: "password"`],
    ['disabled grant', {client_name: 'a', grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange']}, `${INVALID}grant_type "urn:ietf:params:oauth:grant-type:token-exchange" is not enabled on this server — set AUTHPLANE_TOKEN_EXCHANGE_ENABLED=true to enable it`],
    ['bad response type', {client_name: 'a', grant_types: ['client_credentials'], response_types: ['token']}, `${INVALID}unsupported response_type: "token" (only "code" is supported)`],
    ['bad auth method', {client_name: 'a', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt'}, `${INVALID}unsupported token_endpoint_auth_method: "private_key_jwt"`],
    ['long agent_description', {client_name: 'a', grant_types: ['client_credentials'], agent_description: 'x'.repeat(256)}, `${INVALID}agent_description exceeds 255 characters`],
    ['bad application_type', {client_name: 'a', application_type: 'desktop'}, `${INVALID}application_type must be "web" or "native", got "desktop"`],
    ['every problem at once', {client_name: '', grant_types: ['password', 'authorization_code']}, `${INVALID}client_name is required; at least one redirect_uri is required; unsupported grant_type: "password"`],
  ] as const) {
    it(`400 invalid_client_metadata: ${name}`, async () => {
      assertRegisterError(await register(h, body), 400, 'invalid_client_metadata', description)
    })
  }

  it('loopback http redirect URIs are allowed (localhost, 127.0.0.1, [::1])', async () => {
    const r = await register(h, {client_name: 'cli', redirect_uris: ['http://localhost:8765/cb', 'http://127.0.0.1/cb', 'http://[::1]:9/cb']})
    assert.equal(r.status, 201, r.text)
  })

  it('JSON decoding like Go: wrong types and bad JSON are invalid_request, trailing bytes and unknown keys are ignored', async () => {
    for (const bad of ['', 'not json', '{"client_name":', '[1]', '{"client_name": 5}', '{"redirect_uris": "https://a.example/cb"}', '{"agent": "yes"}']) {
      assertRegisterError(await register(h, bad), 400, 'invalid_request', 'invalid JSON body')
    }
    const r = await register(h, '{"CLIENT_NAME":"upper","grant_types":["client_credentials"],"software_id":"x"} trailing')
    assert.equal(r.status, 201, r.text)
    assert.equal(r.body.client_name, 'upper', 'keys match case-insensitively, like Go struct tags')
    const nul = await register(h, 'null')
    assertRegisterError(nul, 400, 'invalid_client_metadata', `${INVALID}client_name is required; at least one redirect_uri is required`)
    // No Content-Type check: the real handler decodes whatever arrives.
    const plain = await register(h, JSON.stringify({client_name: 'p', grant_types: ['client_credentials']}), {'content-type': 'text/plain'})
    assert.equal(plain.status, 201)
  })

  it('body over 1 MiB is invalid JSON', async () => {
    assertRegisterError(await register(h, JSON.stringify({client_name: 'x'.repeat(1024 * 1024)})), 400, 'invalid_request', 'invalid JSON body')
  })

  it('only POST: other methods get Go\'s plain-text 405 with Allow: POST', async () => {
    const res = await fetch(`${h.publicUrl}/oauth/register`)
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'POST')
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    assert.equal(await res.text(), 'Method Not Allowed\n')
  })

  it('the metadata announces the registration endpoint the server serves', async () => {
    const m = await (await fetch(`${h.publicUrl}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>
    assert.equal(m.registration_endpoint, `${h.issuer}/oauth/register`)
  })
})

describe('DCR modes', () => {
  it('admin_only: 403 access_denied; the mode can be switched at runtime through /admin/settings/dcr', async () => {
    const h = await start({dcrMode: 'admin_only'})
    try {
      assertRegisterError(await register(h, {client_name: 'a', grant_types: ['client_credentials']}), 403, 'access_denied', 'registration is disabled')
      assert.deepEqual((await admin(h, 'GET', '/admin/settings/dcr')).body, {mode: 'admin_only'})
      const bad = await admin(h, 'PATCH', '/admin/settings/dcr', {mode: 'closed'})
      assert.equal(bad.status, 400)
      assert.equal(bad.body.detail, 'invalid mode: must be open, admin_only, or approved_redirects')
      assert.equal((await admin(h, 'PATCH', '/admin/settings/dcr', {})).body.detail, 'mode is required')
      const ok = await admin(h, 'PATCH', '/admin/settings/dcr', {mode: 'open'})
      assert.deepEqual(ok.body, {mode: 'open'})
      assert.equal((await register(h, {client_name: 'a', grant_types: ['client_credentials']})).status, 201)
    } finally {
      await h.stop()
    }
  })

  it('approved_redirects: exact matches only, else 400 invalid_redirect_uri', async () => {
    const h = await start({dcrMode: 'approved_redirects', dcrApprovedRedirects: ['https://app.example/cb']})
    try {
      assert.equal((await register(h, {client_name: 'a', redirect_uris: ['https://app.example/cb']})).status, 201)
      assertRegisterError(await register(h, {client_name: 'a', redirect_uris: ['https://app.example/cb/']}), 400, 'invalid_redirect_uri', 'redirect_uri not allowed')
    } finally {
      await h.stop()
    }
  })

  it('approved_redirects without a list refuses to start, like the real server\'s config check', async () => {
    await assert.rejects(start({dcrMode: 'approved_redirects'}), /dcr.approved_redirects must not be empty/)
  })
})
