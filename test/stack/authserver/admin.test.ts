import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {ADMIN_KEY, admin, assertOAuthError, assertProblem, createClient, createResource, RESOURCE_URI, start, token} from './helpers.js'

describe('authserver admin API', () => {
  let h: AuthServerHandle
  before(async () => {
    h = await start()
  })
  after(async () => {
    await h.stop()
  })

  describe('admin key', () => {
    for (const [name, headers, description] of [
      ['missing header', {}, 'missing API key'],
      ['wrong scheme', {authorization: `Basic ${ADMIN_KEY}`}, 'missing API key'],
      ['wrong key', {authorization: 'Bearer nope'}, 'invalid API key'],
      ['key prefix', {authorization: `Bearer ${ADMIN_KEY.slice(0, -1)}`}, 'invalid API key'],
    ] as const) {
      it(`401 for ${name}`, async () => {
        const res = await fetch(`${h.adminUrl}/admin/resources`, {headers})
        assert.equal(res.status, 401)
        assert.equal(res.headers.get('content-type'), 'application/json')
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="admin"')
        assert.deepEqual(await res.json(), {error: 'unauthorized', error_description: description})
      })
    }

    it('401 "admin API key not configured" when the server has an empty key', async () => {
      const h2 = await start({adminKey: ''})
      try {
        const res = await fetch(`${h2.adminUrl}/admin/clients`, {headers: {authorization: 'Bearer x'}})
        assert.equal(res.status, 401)
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="admin"')
        assert.deepEqual(await res.json(), {error: 'unauthorized', error_description: 'admin API key not configured'})
      } finally {
        await h2.stop()
      }
    })
  })

  describe('generic errors', () => {
    it('malformed JSON -> 400 invalid JSON body', async () => {
      assertProblem(await admin(h, 'POST', '/admin/resources', '{"slug":'), 400, 'invalid JSON body')
      assertProblem(await admin(h, 'POST', '/admin/clients', 'not json'), 400, 'invalid JSON body')
    })

    it('body over 1 MiB -> 400 invalid JSON body (Go\'s MaxBytesReader fails the decode)', async () => {
      const big = JSON.stringify({slug: 'big', uri: RESOURCE_URI, backend_kind: 'mint', display_name: 'x'.repeat(1024 * 1024)})
      assertProblem(await admin(h, 'POST', '/admin/resources', big), 400, 'invalid JSON body')
      // The connection stays usable afterwards.
      assert.equal((await admin(h, 'GET', '/admin/resources')).status, 200)
    })

    it('JSON like Go\'s decoder: first value only, null is an empty object, non-objects are invalid', async () => {
      const r = await admin(h, 'POST', '/admin/clients', '{"client_name":"t","grant_types":["client_credentials"]} trailing junk')
      assert.equal(r.status, 201, r.text)
      assertProblem(await admin(h, 'POST', '/admin/clients', '[]'), 400, 'invalid JSON body')
      assertProblem(await admin(h, 'POST', '/admin/clients', '{"client_name": 7}'), 400, 'invalid JSON body')
      assertProblem(await admin(h, 'POST', '/admin/clients', 'null'), 400, /client_name is required/)
      assertProblem(await admin(h, 'POST', '/admin/clients', ''), 400, 'invalid JSON body')
    })

    it('unknown route -> Go mux 404, wrong method -> Go mux 405, both before the key check', async () => {
      for (const [path, headers] of [['/admin/nothing', {}], ['/admin/clients/x/y/z', {authorization: 'Bearer wrong'}], ['/nope', {}]] as const) {
        const res = await fetch(h.adminUrl + path, {headers})
        assert.equal(res.status, 404)
        assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
        assert.equal(await res.text(), '404 page not found\n')
      }
      for (const [method, path, allow] of [['PUT', '/admin/resources', 'GET, HEAD, POST'], ['POST', '/admin/clients/abc', 'DELETE, GET, HEAD, PATCH'], ['POST', '/admin/clients/abc/suspend', 'PATCH'], ['GET', '/admin/clients/abc/rotate-secret', 'POST']] as const) {
        const res = await fetch(h.adminUrl + path, {method})
        assert.equal(res.status, 405, `${method} ${path}`)
        assert.equal(res.headers.get('allow'), allow)
        assert.equal(await res.text(), 'Method Not Allowed\n')
      }
    })
  })

  describe('resources', () => {
    it('creates a mint resource with the full ResourceView', async () => {
      const r = await admin(h, 'POST', '/admin/resources', {slug: 'Demo-MCP', uri: RESOURCE_URI, backend_kind: 'mint', display_name: 'Demo MCP', scopes: [{name: 'mcp:echo', description: 'echo tool'}]})
      assert.equal(r.status, 201, r.text)
      assert.equal(r.headers.get('content-type'), 'application/json')
      const v = r.body
      assert.match(v.id, /^[A-Za-z0-9_-]{22}$/)
      assert.equal(v.slug, 'demo-mcp')
      assert.equal(v.uri, RESOURCE_URI)
      assert.equal(v.backend_kind, 'mint')
      assert.equal(v.broker_provider_id, '')
      assert.equal(v.display_name, 'Demo MCP')
      assert.deepEqual(v.scopes, [{name: 'mcp:echo', description: 'echo tool', upstream: ''}])
      assert.deepEqual(v.policy, {exchange: {allowed_client_ids: []}, runtime: {client_ids: []}})
      assert.ok(!Number.isNaN(Date.parse(v.created_at)) && !Number.isNaN(Date.parse(v.updated_at)))

      const bySlug = await admin(h, 'GET', '/admin/resources?slug=demo-mcp')
      assert.equal(bySlug.status, 200)
      assert.deepEqual(bySlug.body, v)
      const byId = await admin(h, 'GET', `/admin/resources/${v.id}`)
      assert.deepEqual(byId.body, v)
    })

    it('duplicate slug -> 409 (case-insensitive)', async () => {
      await createResource(h, {slug: 'dup-slug'})
      assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'DUP-slug', uri: RESOURCE_URI, backend_kind: 'mint'}), 409, 'slug "dup-slug" is already in use')
    })

    for (const slug of ['-leading-dash', 'has space', 'a'.repeat(65), '', 'ünï']) {
      it(`invalid slug ${JSON.stringify(slug.slice(0, 12))} -> 400`, async () => {
        assertProblem(await admin(h, 'POST', '/admin/resources', {slug, uri: RESOURCE_URI, backend_kind: 'mint'}), 400, 'invalid slug')
      })
    }

    it('missing slug -> 400 invalid slug', async () => {
      assertProblem(await admin(h, 'POST', '/admin/resources', {uri: RESOURCE_URI, backend_kind: 'mint'}), 400, 'invalid slug')
    })

    it('unknown key -> 400', async () => {
      assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'unk', uri: RESOURCE_URI, backend_kind: 'mint', audience: 'x'}), 400, 'invalid JSON body: json: unknown field "audience"')
    })

    for (const [uri, detail] of [
      ['/mcp', 'uri must be absolute (include scheme + host)'],
      ['ftp://example.com/x', 'uri scheme must be http or https, got "ftp"'],
      ['localhost:8080/mcp', 'uri scheme must be http or https, got "localhost"'],
      ['http://', 'uri must include a host'],
      [`${RESOURCE_URI}#frag`, 'uri must not contain a fragment (RFC 8707 section 2)'],
      ['http://user:pw@localhost:8080/mcp', 'uri must not contain userinfo (RFC 8707 section 2)'],
      [42, 'invalid JSON body: json: cannot unmarshal number into Go struct field createResourceRequest.uri of type string'],
    ] as const) {
      it(`bad uri ${JSON.stringify(uri)} -> 400`, async () => {
        assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'bad-uri', uri, backend_kind: 'mint'}), 400, detail)
      })
    }

    it('an empty uri is allowed, as in the real server (the slug identifies the resource)', async () => {
      const r = await admin(h, 'POST', '/admin/resources', {slug: 'no-uri', backend_kind: 'mint'})
      assert.equal(r.status, 201, r.text)
      assert.equal(r.body.uri, '')
    })

    it('bad backend kind -> 400 (the real server answers 500 here: a plain error, see docs/fidelity.md); broker needs an existing provider -> 400', async () => {
      assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'bk', uri: RESOURCE_URI, backend_kind: 'proxy'}), 400, 'backend_kind must be mint or broker, got "proxy"')
      assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'bk', uri: RESOURCE_URI}), 400, 'backend_kind must be mint or broker, got ""')
      assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'bk', uri: RESOURCE_URI, backend_kind: 'broker'}), 400, 'broker resource must reference a broker provider')
      assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'bk', uri: RESOURCE_URI, backend_kind: 'mint', broker_provider_id: 'x'}), 400, 'mint resource must not reference a broker provider')
      assertProblem(await admin(h, 'POST', '/admin/resources', {slug: 'bk', uri: RESOURCE_URI, backend_kind: 'broker', broker_provider_id: 'github'}), 400, 'broker_provider_id "github" does not exist')
    })

    it('scope validation: duplicate names, empty names, scope tokens, upstream on mint', async () => {
      const base = {slug: 'scopes', uri: RESOURCE_URI, backend_kind: 'mint'}
      assertProblem(await admin(h, 'POST', '/admin/resources', {...base, scopes: [{name: 'a'}, {name: 'a', description: 'again'}]}), 400, 'scopes[1].name "a" duplicates an earlier entry')
      assertProblem(await admin(h, 'POST', '/admin/resources', {...base, scopes: [{name: ''}]}), 400, 'scopes[0].name must not be empty')
      assertProblem(await admin(h, 'POST', '/admin/resources', {...base, scopes: [{name: 'a b'}]}), 400, 'scopes[0].name "a b" is not a valid scope token (RFC 6749 section 3.3)')
      assertProblem(await admin(h, 'POST', '/admin/resources', {...base, scopes: [{name: 'a', upstream: 'repo'}]}), 400, 'scope "a": upstream must be empty for a mint resource')
      assertProblem(await admin(h, 'POST', '/admin/resources', {...base, scopes: 'a b'}), 400, /^invalid JSON body: json: cannot unmarshal string/)
    })

    it('policy with an unknown client id -> 400; known ids are kept', async () => {
      const base = {slug: 'pol', uri: RESOURCE_URI, backend_kind: 'mint'}
      assertProblem(await admin(h, 'POST', '/admin/resources', {...base, policy: {runtime: {client_ids: ['nope']}}}), 400, 'client_id "nope" in policy.runtime.client_ids does not exist')
      assertProblem(await admin(h, 'POST', '/admin/resources', {...base, policy: {exchange: {allowed_client_ids: ['nope']}}}), 400, 'client_id "nope" in policy.exchange.allowed_client_ids does not exist')
      const c = await createClient(h)
      const r = await createResource(h, {policy: {runtime: {client_ids: [c.client_id]}}})
      assert.deepEqual(r.policy, {exchange: {allowed_client_ids: []}, runtime: {client_ids: [c.client_id]}})
    })

    it('lists as a bare array with backend_kind/limit/offset; bad limit -> 400', async () => {
      const all = await admin(h, 'GET', '/admin/resources')
      assert.equal(all.status, 200)
      assert.ok(Array.isArray(all.body))
      assert.ok(all.body.length >= 2)
      const page = await admin(h, 'GET', '/admin/resources?limit=1&offset=1')
      assert.equal(page.body.length, 1)
      assert.deepEqual(page.body[0], all.body[1])
      assert.equal((await admin(h, 'GET', '/admin/resources?backend_kind=mint')).body.length, all.body.length)
      assert.deepEqual((await admin(h, 'GET', '/admin/resources?backend_kind=broker')).body, [])
      assertProblem(await admin(h, 'GET', '/admin/resources?limit=0'), 400, 'limit must be 1..500')
      assertProblem(await admin(h, 'GET', '/admin/resources?limit=501'), 400, 'limit must be 1..500')
      assertProblem(await admin(h, 'GET', '/admin/resources?offset=-1'), 400, 'offset must be a non-negative integer')
      assertProblem(await admin(h, 'GET', '/admin/resources?backend_kind=proxy'), 400, 'backend_kind must be mint or broker')
      assertProblem(await admin(h, 'GET', '/admin/resources?slug=x&limit=1'), 400, 'slug lookup is mutually exclusive with limit')
      assert.deepEqual((await admin(h, 'GET', '/admin/resources?broker_provider_id=p1')).body, [])
    })

    it('unknown slug or id -> 404 resource not found', async () => {
      assertProblem(await admin(h, 'GET', '/admin/resources?slug=no-such-thing'), 404, 'resource not found')
      assertProblem(await admin(h, 'GET', '/admin/resources/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'resource not found')
      assertProblem(await admin(h, 'PATCH', '/admin/resources/AAAAAAAAAAAAAAAAAAAAAA', {display_name: 'x'}), 404, 'resource not found')
      assertProblem(await admin(h, 'DELETE', '/admin/resources/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'resource not found')
    })

    it('PATCH replaces present fields (policy wholesale), DELETE -> 204', async () => {
      const c = await createClient(h)
      const r = await createResource(h, {display_name: 'before', policy: {exchange: {allowed_client_ids: [c.client_id]}}})
      const p = await admin(h, 'PATCH', `/admin/resources/${r.id}`, {display_name: 'after', scopes: [{name: 'a'}, {name: 'b', description: 'B'}], policy: {runtime: {client_ids: [c.client_id]}}})
      assert.equal(p.status, 200, p.text)
      assert.equal(p.body.display_name, 'after')
      assert.equal(p.body.slug, r.slug)
      assert.equal(p.body.uri, r.uri)
      assert.deepEqual(p.body.scopes.map((s: {name: string}) => s.name), ['a', 'b'])
      assert.deepEqual(p.body.policy, {exchange: {allowed_client_ids: []}, runtime: {client_ids: [c.client_id]}})
      assertProblem(await admin(h, 'PATCH', `/admin/resources/${r.id}`, {slug: 'demo-mcp'}), 409, 'slug "demo-mcp" is already in use')
      assertProblem(await admin(h, 'PATCH', `/admin/resources/${r.id}`, {bogus: 1}), 400, 'invalid JSON body: json: unknown field "bogus"')
      // An empty patch is a read: same resource, updated_at not bumped.
      const empty = await admin(h, 'PATCH', `/admin/resources/${r.id}`, {})
      assert.equal(empty.status, 200)
      assert.deepEqual(empty.body, p.body)
      const d = await admin(h, 'DELETE', `/admin/resources/${r.id}`)
      assert.equal(d.status, 204)
      assert.equal(d.text, '')
      assertProblem(await admin(h, 'GET', `/admin/resources/${r.id}`), 404, 'resource not found')
    })
  })

  describe('clients', () => {
    it('create returns the once-shown secret and the create field names', async () => {
      const r = await admin(h, 'POST', '/admin/clients', {client_name: 'demo-agent-ts', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:echo', unknown_key: true})
      assert.equal(r.status, 201, r.text)
      const c = r.body
      assert.match(c.client_id, /^[A-Za-z0-9_-]{22}$/)
      assert.match(c.client_secret, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(c.client_name, 'demo-agent-ts')
      assert.deepEqual(c.redirect_uris, [])
      assert.deepEqual(c.grant_types, ['client_credentials'])
      assert.deepEqual(c.response_types, ['code'], 'the real server defaults response_types to code for every client')
      assert.equal(c.token_endpoint_auth_method, 'client_secret_basic')
      assert.equal(c.scope, 'mcp:echo')
      assert.equal(c.status, 'active')
      assert.equal(c.registration_source, 'admin')
      assert.equal(c.agent, false)
      assert.equal(c.agent_description, '')
      assert.match(c.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339 without fractional seconds')
      assert.equal('unknown_key' in c, false)

      const read = await admin(h, 'GET', `/admin/clients/${c.client_id}`)
      assert.equal(read.status, 200)
      assert.deepEqual(Object.keys(read.body).sort(), ['agent', 'agent_description', 'cimd_url', 'grant_types', 'id', 'issued_at', 'name', 'redirect_uris', 'registration_source', 'response_types', 'scope', 'status', 'token_endpoint_auth_method', 'updated_at'])
      assert.equal(read.body.id, c.client_id)
      assert.equal(read.body.name, 'demo-agent-ts')
      assert.equal(read.body.cimd_url, '')

      const again = await createClient(h)
      assert.notEqual(again.client_id, c.client_id)
    })

    it('defaults: auth method none (no secret), grants authorization_code + refresh_token (contract)', async () => {
      const r = await admin(h, 'POST', '/admin/clients', {client_name: 'web', redirect_uris: ['http://localhost:3000/cb']})
      assert.equal(r.status, 201, r.text)
      assert.equal(r.body.token_endpoint_auth_method, 'none')
      assert.equal('client_secret' in r.body, false)
      assert.deepEqual(r.body.grant_types, ['authorization_code', 'refresh_token'])
      assert.deepEqual(r.body.response_types, ['code'])
    })

    const prefix = 'client authentication failed: client validation failed: '
    for (const [name, body, detail] of [
      ['missing name', {grant_types: ['client_credentials']}, 'client_name is required'],
      ['blank name', {client_name: '   ', grant_types: ['client_credentials']}, 'client_name is required'],
      ['long name', {client_name: 'x'.repeat(256), grant_types: ['client_credentials']}, 'client_name exceeds 255 characters'],
      ['bad grant', {client_name: 'a', grant_types: ['password']}, 'unsupported grant_type: "password"'],
      ['disabled grant', {client_name: 'a', grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer']}, 'grant_type "urn:ietf:params:oauth:grant-type:jwt-bearer" is not enabled on this server — set AUTHPLANE_XAA_ENABLED=true to enable it'],
      ['missing redirect_uris', {client_name: 'a', grant_types: ['authorization_code']}, 'at least one redirect_uri is required'],
      ['missing redirect_uris (default grants)', {client_name: 'a'}, 'at least one redirect_uri is required'],
      ['http redirect off loopback', {client_name: 'a', redirect_uris: ['http://app.example/cb']}, 'redirect_uri "http://app.example/cb" must use https (http allowed only for localhost)'],
      ['redirect with userinfo', {client_name: 'a', redirect_uris: ['https://user@app.example/cb']}, 'redirect_uri "https://user@app.example/cb" must not contain userinfo'],
      ['bad auth method', {client_name: 'a', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt'}, 'unsupported token_endpoint_auth_method: "private_key_jwt"'],
      ['bad response type', {client_name: 'a', grant_types: ['client_credentials'], response_types: ['token']}, 'unsupported response_type: "token" (only "code" is supported)'],
      ['all problems at once', {client_name: '', grant_types: ['password'], token_endpoint_auth_method: 'x'}, 'client_name is required; unsupported grant_type: "password"; unsupported token_endpoint_auth_method: "x"'],
      ['scope token with a quote (RFC 6749 §3.3)', {client_name: 'a', grant_types: ['client_credentials'], scope: 'ok "bad"'}, 'invalid scope token "\\"bad\\"" (RFC 6749 section 3.3)'],
    ] as const) {
      it(`validation: ${name} -> 400`, async () => {
        assertProblem(await admin(h, 'POST', '/admin/clients', body), 400, prefix + detail)
      })
    }

    it('lists as a bare array; limit/offset/status/source parsed leniently like the real handler', async () => {
      const all = await admin(h, 'GET', '/admin/clients?limit=500')
      assert.equal(all.status, 200)
      assert.ok(Array.isArray(all.body) && all.body.length >= 2)
      assert.ok('id' in all.body[0] && 'name' in all.body[0] && !('secret_hash' in all.body[0]))
      assert.equal((await admin(h, 'GET', '/admin/clients?limit=1&offset=1')).body[0].id, all.body[1].id)
      assert.deepEqual((await admin(h, 'GET', '/admin/clients?status=bogus')).body, [])
      assert.deepEqual((await admin(h, 'GET', '/admin/clients?source=dcr')).body, [])
      assert.equal((await admin(h, 'GET', '/admin/clients?source=admin&limit=abc')).body.length, Math.min(50, all.body.length))
      assert.equal((await admin(h, 'GET', '/admin/clients?limit=-3&offset=x')).status, 200)
    })

    it('unknown client: 404 on GET, the invalid_client sentinel (400) everywhere else', async () => {
      const id = 'AAAAAAAAAAAAAAAAAAAAAA'
      assertProblem(await admin(h, 'GET', `/admin/clients/${id}`), 404, 'client not found')
      assertProblem(await admin(h, 'DELETE', `/admin/clients/${id}`), 400, 'client authentication failed')
      assertProblem(await admin(h, 'POST', `/admin/clients/${id}/rotate-secret`), 400, 'client authentication failed')
      assertProblem(await admin(h, 'PATCH', `/admin/clients/${id}/suspend`), 400, 'get client: client authentication failed')
      assertProblem(await admin(h, 'PATCH', `/admin/clients/${id}`, {client_name: 'x'}), 400, 'client authentication failed')
      assertProblem(await admin(h, 'GET', `/admin/clients/${'x'.repeat(257)}`), 400, 'id too long')
    })

    it('PATCH updates the named fields and re-validates', async () => {
      const c = await createClient(h)
      const r = await admin(h, 'PATCH', `/admin/clients/${c.client_id}`, {client_name: 'renamed', scope: 'a b'})
      assert.equal(r.status, 200, r.text)
      assert.equal(r.body.name, 'renamed')
      assert.equal(r.body.scope, 'a b')
      assert.deepEqual(r.body.grant_types, ['client_credentials'])
      assertProblem(await admin(h, 'PATCH', `/admin/clients/${c.client_id}`, {client_name: ''}), 400, prefix + 'client_name is required')
    })

    it('rotate-secret: old secret -> invalid_client, new secret works; a public client has nothing to rotate', async () => {
      await createResource(h)
      const c = await createClient(h)
      assert.equal((await token(h, c, {resource: RESOURCE_URI})).status, 200)
      const r = await admin(h, 'POST', `/admin/clients/${c.client_id}/rotate-secret`)
      assert.equal(r.status, 200)
      assert.deepEqual(Object.keys(r.body).sort(), ['client_id', 'client_secret'])
      assert.equal(r.body.client_id, c.client_id)
      assert.match(r.body.client_secret, /^[A-Za-z0-9_-]{43}$/)
      assertOAuthError(await token(h, c, {resource: RESOURCE_URI}), 401, 'invalid_client')
      assert.equal((await token(h, r.body, {resource: RESOURCE_URI})).status, 200)
      const pub = await createClient(h, {token_endpoint_auth_method: 'none'})
      assertProblem(await admin(h, 'POST', `/admin/clients/${pub.client_id}/rotate-secret`), 400, 'client authentication failed: cannot rotate secret for public client')
    })

    it('lifecycle state machine: suspend only from active, reactivate only from suspended, revoke from anywhere', async () => {
      const c = await createClient(h)
      const step = async (action: string, status: number, body: unknown): Promise<void> => {
        const r = await admin(h, 'PATCH', `/admin/clients/${c.client_id}/${action}`)
        if (status === 200) {
          assert.equal(r.status, 200, r.text)
          assert.deepEqual(r.body, body)
        } else assertProblem(r, status, body as string)
      }
      await step('reactivate', 409, 'reactivate: invalid client state transition from active to active')
      await step('suspend', 200, {status: 'suspended'})
      assertOAuthError(await token(h, c, {}), 401, 'invalid_client', 'client is suspended or revoked')
      await step('suspend', 409, 'suspend: invalid client state transition from suspended to suspended')
      await step('reactivate', 200, {status: 'active'})
      assert.equal((await token(h, c, {})).status, 200)
      await step('revoke', 200, {status: 'revoked'})
      await step('revoke', 200, {status: 'revoked'})
      await step('suspend', 409, 'suspend: invalid client state transition from revoked to suspended')
      await step('reactivate', 409, 'reactivate: invalid client state transition from revoked to active')
      assert.equal((await admin(h, 'GET', `/admin/clients/${c.client_id}`)).body.status, 'revoked')
      assertOAuthError(await token(h, c, {}), 401, 'invalid_client', 'client is suspended or revoked')
    })

    it('DELETE with live tokens -> 409, with ?force=true -> 204', async () => {
      const c = await createClient(h)
      const idle = await createClient(h)
      assert.equal((await admin(h, 'DELETE', `/admin/clients/${idle.client_id}`)).status, 204)
      assert.equal((await token(h, c, {})).status, 200)
      assertProblem(await admin(h, 'DELETE', `/admin/clients/${c.client_id}`), 409, 'client has active tokens — use force=true to revoke and delete')
      const d = await admin(h, 'DELETE', `/admin/clients/${c.client_id}?force=true`)
      assert.equal(d.status, 204)
      assertProblem(await admin(h, 'GET', `/admin/clients/${c.client_id}`), 404, 'client not found')
      assertOAuthError(await token(h, c, {}), 401, 'invalid_client')
    })
  })
})

describe('admin API: per-field resource policy endpoints', () => {
  let h: AuthServerHandle
  before(async () => {
    h = await start()
  })
  after(async () => {
    await h.stop()
  })

  it('runtime client-ids and exchange allowed-clients: list, idempotent add, remove; the full policy follows', async () => {
    const r = await createResource(h, {slug: 'pol-ep'})
    const c = await createClient(h)
    for (const [path, member, field] of [['runtime/client-ids', 'client_ids', 'runtime'], ['exchange/allowed-clients', 'allowed_client_ids', 'exchange']] as const) {
      const base = `/admin/resources/pol-ep/policy/${path}`
      assert.deepEqual((await admin(h, 'GET', base)).body, {[member]: []})
      assert.deepEqual((await admin(h, 'POST', base, {client_id: c.client_id})).body, {[member]: [c.client_id]})
      assert.deepEqual((await admin(h, 'POST', base, {client_id: c.client_id})).body, {[member]: [c.client_id]}, 'idempotent')
      const full = (await admin(h, 'GET', `/admin/resources/${r.id}`)).body
      assert.deepEqual(field === 'runtime' ? full.policy.runtime.client_ids : full.policy.exchange.allowed_client_ids, [c.client_id])
      assertProblem(await admin(h, 'POST', base, {client_id: 'nope'}), 400, 'client_id "nope" does not exist')
      assertProblem(await admin(h, 'POST', base, {}), 400, 'client_id is required')
      assertProblem(await admin(h, 'POST', base, {client_id: c.client_id, extra: 1}), 400, 'invalid JSON body: json: unknown field "extra"')
      assert.deepEqual((await admin(h, 'DELETE', `${base}/${c.client_id}`)).body, {[member]: []})
      assert.deepEqual((await admin(h, 'DELETE', `${base}/${c.client_id}`)).body, {[member]: []}, 'idempotent')
      assertProblem(await admin(h, 'GET', `/admin/resources/no-such/policy/${path}`), 404, 'resource not found')
    }
  })

  it('runtime client-ids added here govern introspection like the resource policy', async () => {
    await createResource(h, {slug: 'pol-intro', uri: 'http://localhost:8080/pol-intro'})
    const owner = await createClient(h)
    const rs = await createClient(h)
    const t = await token(h, owner, {resource: 'http://localhost:8080/pol-intro'})
    assert.equal(t.status, 200, t.text)
    const introspect = async () => (await fetch(`${h.publicUrl}/oauth/introspect`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}, body: `token=${t.body.access_token}`}).then((x) => x.json())) as {active: boolean}
    assert.equal((await introspect()).active, false)
    await admin(h, 'POST', '/admin/resources/pol-intro/policy/runtime/client-ids', {client_id: rs.client_id})
    assert.equal((await introspect()).active, true)
  })

  it('connect allowed-return-urls: every resource here is Mint, so the real server\'s 400', async () => {
    await createResource(h, {slug: 'pol-connect'})
    const base = '/admin/resources/pol-connect/policy/connect/allowed-return-urls'
    assertProblem(await admin(h, 'GET', base), 400, 'connect policy is not applicable to mint resources')
    assertProblem(await admin(h, 'POST', base, {url: 'ftp://x'}), 400, 'url scheme must be http or https, got "ftp"')
    assertProblem(await admin(h, 'POST', base, {url: 'https://app.example/done'}), 400, 'connect policy is not applicable to mint resources')
    assertProblem(await admin(h, 'DELETE', base), 400, 'url query parameter is required')
    assertProblem(await admin(h, 'GET', '/admin/resources/none/policy/connect/allowed-return-urls'), 404, 'resource not found')
  })
})
