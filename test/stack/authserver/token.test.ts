import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {calculateJwkThumbprint, createRemoteJWKSet, exportJWK, generateKeyPair, SignJWT, jwtVerify} from 'jose'
import * as oauth from 'oauth4webapi'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {signBenchmarkToken} from '../../../src/stack/authserver/index.js'
import {admin, assertOAuthError, basic, createClient, createResource, decodeJwt, form, post, RESOURCE_URI, start, token} from './helpers.js'

const TTL = 900
const insecure = {[oauth.allowInsecureRequests]: true} as const

describe('authserver OAuth endpoints', () => {
  let h: AuthServerHandle
  let resource: any
  let client: any

  before(async () => {
    h = await start({tokenTtlSeconds: TTL})
    resource = await createResource(h, {slug: 'demo-mcp', scopes: [{name: 'mcp:echo', description: 'echo tool'}, {name: 'mcp:admin'}]})
    client = await createClient(h)
  })
  after(async () => {
    await h.stop()
  })

  describe('metadata, JWKS, health', () => {
    it('serves RFC 8414 metadata at both well-known paths', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        const res = await fetch(h.publicUrl + path)
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('cache-control'), 'public, max-age=3600')
        assert.equal(res.headers.get('content-type'), 'application/json')
        const m = (await res.json()) as any
        assert.equal(m.issuer, h.issuer)
        assert.equal(m.token_endpoint, `${h.issuer}/oauth/token`)
        assert.equal(m.jwks_uri, `${h.issuer}/.well-known/jwks.json`)
        assert.equal(m.revocation_endpoint, `${h.issuer}/oauth/revoke`)
        assert.equal(m.introspection_endpoint, `${h.issuer}/oauth/introspect`)
        assert.equal(m.registration_endpoint, `${h.issuer}/oauth/register`)
        assert.equal(m.authorization_endpoint, `${h.issuer}/oauth/authorize`)
        assert.ok(m.grant_types_supported.includes('client_credentials'))
        assert.deepEqual(m.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post'])
        assert.deepEqual(m.scopes_supported, ['mcp:echo', 'mcp:admin'], 'registration order, like the real collectScopes')
        assert.equal(m.resource_indicators_supported, true)
        assert.deepEqual(m.dpop_signing_alg_values_supported, ['ES256', 'RS256', 'PS256'])
        assert.deepEqual(m.response_types_supported, ['code'])
        assert.deepEqual(m.code_challenge_methods_supported, ['S256'])
        assert.deepEqual(m.revocation_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post'])
        assert.deepEqual(m.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'])
        assert.equal(m.client_id_metadata_document_supported, true, 'CIMD is on by default, as on the real server')
        // The real server's asMetadata member order.
        assert.deepEqual(Object.keys(m), ['issuer', 'authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint', 'introspection_endpoint',
          'jwks_uri', 'response_types_supported', 'grant_types_supported', 'token_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported',
          'revocation_endpoint_auth_methods_supported', 'code_challenge_methods_supported', 'scopes_supported', 'resource_indicators_supported', 'client_id_metadata_document_supported',
          'dpop_signing_alg_values_supported'])
      }
    })

    it('omits scopes_supported when no resource declares scopes; default issuer uses the bound port', async () => {
      const h2 = await start()
      try {
        const m = (await (await fetch(`${h2.publicUrl}/.well-known/oauth-authorization-server`)).json()) as any
        assert.equal('scopes_supported' in m, false)
        assert.equal(h2.issuer, h2.publicUrl)
        assert.match(h2.issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
      } finally {
        await h2.stop()
      }
    })

    it('announces localhost for a wildcard bind and keeps an explicit issuer byte for byte', async () => {
      const h2 = await start({host: '0.0.0.0'})
      const h3 = await start({issuer: 'http://authserver:9000', session: {secret: 'a-session-secret-0123456789', secure: true}})
      try {
        assert.match(h2.issuer, /^http:\/\/localhost:\d+$/)
        assert.match(h2.publicUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.equal(h3.issuer, 'http://authserver:9000')
        const m = (await (await fetch(`${h3.publicUrl}/.well-known/oauth-authorization-server`)).json()) as any
        assert.equal(m.issuer, 'http://authserver:9000')
        assert.equal(m.token_endpoint, 'http://authserver:9000/oauth/token')
      } finally {
        await h2.stop()
        await h3.stop()
      }
    })

    it('brackets IPv6 hosts in URLs', async (t) => {
      let h6: AuthServerHandle
      try {
        h6 = await start({host: '::1'})
      } catch (err) {
        t.skip(`no IPv6 loopback here (${(err as NodeJS.ErrnoException).code})`)
        return
      }
      try {
        assert.match(h6.issuer, /^http:\/\/\[::1\]:\d+$/)
        assert.equal((await fetch(`${h6.publicUrl}/livez`)).status, 200)
      } finally {
        await h6.stop()
      }
    })

    it('rejects with the original listen error when a port is taken, and stop() is idempotent', async () => {
      const blocker = createServer()
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
      const port = (blocker.address() as {port: number}).port
      try {
        await assert.rejects(start({port}), (err: NodeJS.ErrnoException & {port?: number}) => err.code === 'EADDRINUSE' && err.port === port)
        await assert.rejects(start({adminPort: port}), (err: NodeJS.ErrnoException & {port?: number}) => err.code === 'EADDRINUSE' && err.port === port)
      } finally {
        blocker.close()
      }
      const h2 = await start()
      await h2.stop()
      await h2.stop()
    })

    it('publishes the signing key as a JWKS', async () => {
      const res = await fetch(`${h.publicUrl}/.well-known/jwks.json`)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('cache-control'), 'public, max-age=3600', 'the real handler\'s value (its generated docs say 300)')
      const {keys} = (await res.json()) as any
      assert.equal(keys.length, 1)
      const k = keys[0]
      assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
      assert.equal(k.kty, 'EC')
      assert.equal(k.crv, 'P-256')
      assert.equal(k.alg, 'ES256')
      assert.equal(k.use, 'sig')
      assert.equal(k.kid, await calculateJwkThumbprint({kty: k.kty, crv: k.crv, x: k.x, y: k.y}))
    })

    it('answers /livez, /health and /ready', async () => {
      for (const [path, status, extra] of [['/livez', 'alive', false], ['/health', 'ok', true], ['/ready', 'ready', true]] as const) {
        const res = await fetch(h.publicUrl + path)
        assert.equal(res.status, 200)
        const body = (await res.json()) as any
        assert.equal(body.status, status)
        assert.match(body.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'Go time.RFC3339: whole seconds')
        assert.equal(res.headers.get('cache-control'), null)
        if (extra) assert.equal(body.db, 'ok')
        else assert.deepEqual(Object.keys(body), ['status', 'time'])
      }
    })

    it('answers unknown paths and wrong methods like Go\'s ServeMux (plain text 404/405)', async () => {
      const res = await fetch(`${h.publicUrl}/nope`)
      assert.equal(res.status, 404)
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal(await res.text(), '404 page not found\n')
      for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke', '/oauth/register']) {
        const r = await fetch(h.publicUrl + path)
        assert.equal(r.status, 405, path)
        assert.equal(r.headers.get('allow'), 'POST')
        assert.equal(await r.text(), 'Method Not Allowed\n')
      }
      const m = await fetch(`${h.publicUrl}/.well-known/jwks.json`, {method: 'POST'})
      assert.equal(m.status, 405)
      assert.equal(m.headers.get('allow'), 'GET, HEAD')
    })
  })

  describe('an independent oauth4webapi client', () => {
    let as: oauth.AuthorizationServer

    before(async () => {
      const issuer = new URL(h.issuer)
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, {algorithm: 'oauth2', ...insecure}))
    })

    async function grant(params: Record<string, string>, clientAuth = oauth.ClientSecretBasic(client.client_secret)): Promise<oauth.TokenEndpointResponse> {
      const res = await oauth.clientCredentialsGrantRequest(as, {client_id: client.client_id}, clientAuth, new URLSearchParams(params), insecure)
      return oauth.processClientCredentialsResponse(as, {client_id: client.client_id}, res)
    }

    it('gets a token that validates as an RFC 9068 access token for the resource', async () => {
      const t = await grant({resource: RESOURCE_URI, scope: 'mcp:echo'})
      assert.equal(t.token_type, 'bearer')
      assert.equal(t.expires_in, TTL)
      assert.equal(t.scope, 'mcp:echo')
      const req = new Request(RESOURCE_URI, {headers: {authorization: `Bearer ${t.access_token}`}})
      const claims = await oauth.validateJwtAccessToken(as, req, RESOURCE_URI, insecure)
      assert.equal(claims.client_id, client.client_id)
      assert.equal(claims.sub, client.client_id)
      assert.deepEqual(claims.aud, [RESOURCE_URI])
    })

    it('rejects the token for a different expected audience', async () => {
      const t = await grant({resource: RESOURCE_URI}, oauth.ClientSecretPost(client.client_secret))
      const req = new Request(RESOURCE_URI, {headers: {authorization: `Bearer ${t.access_token}`}})
      await assert.rejects(oauth.validateJwtAccessToken(as, req, 'http://localhost:8080/other', insecure), (err: oauth.OperationProcessingError) => {
        assert.equal(err.code, oauth.JWT_CLAIM_COMPARISON)
        assert.match(err.message, /aud/)
        return true
      })
    })

    it('sees invalid_target for an unknown resource (as a non-JSON content type: the body is problem+json)', async () => {
      // oauth4webapi only parses error bodies labelled application/json; the real server's
      // problem+json errors therefore surface as RESPONSE_IS_NOT_JSON with the response attached.
      const err = await grant({resource: 'http://localhost:8080/unknown'}).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e as oauth.OperationProcessingError,
      )
      assert.ok(err instanceof oauth.OperationProcessingError)
      assert.equal(err.code, oauth.RESPONSE_IS_NOT_JSON)
      const res = err.cause as Response
      assert.equal(res.status, 400)
      assert.equal(res.headers.get('content-type'), 'application/problem+json')
      const body = (await res.json()) as any
      assert.equal(body.error, 'invalid_target')
      assert.equal(body.error_description, 'resource "http://localhost:8080/unknown" is not a registered resource')
    })

    it('sees a WWW-Authenticate challenge for a wrong secret', async () => {
      await assert.rejects(grant({resource: RESOURCE_URI}, oauth.ClientSecretBasic('wrong')), (err: oauth.WWWAuthenticateChallengeError) => {
        assert.equal(err.code, oauth.WWW_AUTHENTICATE_CHALLENGE)
        assert.equal(err.status, 401)
        assert.equal(err.cause[0]?.scheme, 'basic')
        assert.equal(err.cause[0]?.parameters.realm, 'authserver')
        return true
      })
    })

    it('gets a DPoP-bound token with cnf.jkt of its proof key', async () => {
      const keyPair = await oauth.generateKeyPair('ES256')
      const res = await oauth.clientCredentialsGrantRequest(as, {client_id: client.client_id}, oauth.ClientSecretBasic(client.client_secret),
        new URLSearchParams({resource: RESOURCE_URI}), {...insecure, DPoP: oauth.DPoP({}, keyPair)})
      const t = await oauth.processClientCredentialsResponse(as, {client_id: client.client_id}, res)
      assert.equal(t.token_type, 'dpop')
      const {payload} = decodeJwt(t.access_token)
      assert.deepEqual(payload.cnf, {jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey))})
    })
  })

  describe('token endpoint', () => {
    it('issues an RFC 9068 token with exactly the contract claims', async () => {
      const r = await token(h, client, {resource: RESOURCE_URI, scope: 'mcp:echo'})
      assert.equal(r.status, 200, r.text)
      assert.equal(r.headers.get('content-type'), 'application/json')
      assert.equal(r.headers.get('cache-control'), 'no-store')
      assert.equal(r.headers.get('pragma'), 'no-cache')
      assert.deepEqual(Object.keys(r.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
      assert.equal(r.body.token_type, 'Bearer')
      assert.equal(r.body.expires_in, TTL)
      assert.equal(r.body.scope, 'mcp:echo')
      const {header, payload} = decodeJwt(r.body.access_token)
      const jwks = (await (await fetch(`${h.publicUrl}/.well-known/jwks.json`)).json()) as any
      assert.deepEqual(header, {alg: 'ES256', kid: jwks.keys[0].kid, typ: 'at+jwt'})
      assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub'])
      assert.equal(payload.iss, h.issuer)
      assert.equal(payload.sub, client.client_id)
      assert.equal(payload.client_id, client.client_id)
      assert.deepEqual(payload.aud, [RESOURCE_URI])
      assert.equal(payload.scope, 'mcp:echo')
      assert.match(payload.jti, /^[A-Za-z0-9_-]{22}$/)
      assert.equal(payload.exp - payload.iat, TTL)
      assert.equal(payload.nbf, payload.iat)
      assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 5)

      const keySet = createRemoteJWKSet(new URL(`${h.publicUrl}/.well-known/jwks.json`))
      const verified = await jwtVerify(r.body.access_token, keySet, {issuer: h.issuer, audience: RESOURCE_URI, typ: 'at+jwt', algorithms: ['ES256']})
      assert.equal(verified.payload.sub, client.client_id)
      const other = await token(h, client, {resource: RESOURCE_URI})
      assert.notEqual(decodeJwt(other.body.access_token).payload.jti, payload.jti)
    })

    it('client authentication failures -> 401 invalid_client with a Basic challenge', async () => {
      const body = form({grant_type: 'client_credentials', resource: RESOURCE_URI})
      const url = `${h.publicUrl}/oauth/token`
      assertOAuthError(await post(url, body), 401, 'invalid_client')
      assertOAuthError(await post(url, body, {authorization: basic(client.client_id, 'wrong-secret')}), 401, 'invalid_client', 'client authentication failed')
      assertOAuthError(await post(url, body, {authorization: basic('AAAAAAAAAAAAAAAAAAAAAA', client.client_secret)}), 401, 'invalid_client')
      assertOAuthError(await post(url, body, {authorization: 'Basic !!!'}), 401, 'invalid_client')
      assertOAuthError(await post(url, `${body}&client_id=${client.client_id}`), 401, 'invalid_client')
    })

    it('public client (auth method none) -> 401 invalid_client', async () => {
      const pub = await createClient(h, {token_endpoint_auth_method: 'none'})
      assert.equal(pub.client_secret, undefined)
      const r = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'client_credentials', client_id: pub.client_id}))
      assertOAuthError(r, 401, 'invalid_client', 'client authentication failed')
      assertOAuthError(await token(h, {client_id: pub.client_id, client_secret: 'x'}, {}), 401, 'invalid_client', 'client authentication failed')
    })

    it('client without the client_credentials grant -> 400 unauthorized_client', async () => {
      const web = await createClient(h, {grant_types: ['authorization_code'], redirect_uris: ['http://localhost:3000/cb']})
      assertOAuthError(await token(h, web, {resource: RESOURCE_URI}), 400, 'unauthorized_client')
    })

    it('unknown or missing grant_type -> unsupported_grant_type with the real server\'s texts', async () => {
      assertOAuthError(await token(h, client, {grant_type: 'password'}), 400, 'unsupported_grant_type', 'grant_type "password" is not supported')
      // Served since the browser flow: without a code it is the grant that is wrong.
      assertOAuthError(await token(h, client, {grant_type: 'authorization_code'}), 400, 'invalid_grant')
      const r = await post(`${h.publicUrl}/oauth/token`, form({resource: RESOURCE_URI}), {authorization: basic(client.client_id, client.client_secret)})
      assertOAuthError(r, 400, 'unsupported_grant_type', 'grant_type "" is not supported')
    })

    it('disabled grants (token exchange, jwt-bearer) name the switch, as the real server does', async () => {
      assertOAuthError(await token(h, client, {grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange'}), 400, 'unsupported_grant_type', 'feature token_exchange is disabled (set token_exchange.enabled=true to enable)')
      assertOAuthError(await token(h, client, {grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer'}), 400, 'unsupported_grant_type', 'feature jwt_bearer is disabled (set xaa.enabled=true to enable)')
    })

    it('parses parameters like Go\'s ParseForm: form body only, query merged after it, bad or oversized body -> invalid form body', async () => {
      const auth = {authorization: basic(client.client_id, client.client_secret)}
      const url = `${h.publicUrl}/oauth/token`
      assertOAuthError(await post(url, 'grant_type=client_credentials&scope=%zz', auth), 400, 'invalid_request', 'invalid form body')
      assertOAuthError(await post(url, `grant_type=client_credentials&pad=${'a'.repeat(64 * 1024)}`, auth), 400, 'invalid_request', 'invalid form body')
      // A JSON body is not read at all: there is no grant_type.
      assertOAuthError(await post(url, JSON.stringify({grant_type: 'client_credentials'}), {...auth, 'content-type': 'application/json'}), 400, 'unsupported_grant_type', 'grant_type "" is not supported')
      // Parameters in the query string count; a body value wins over the query.
      const q = await post(`${url}?grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE_URI)}`, '', {...auth, 'content-type': 'text/plain'})
      assert.equal(q.status, 200, q.text)
      assert.deepEqual(decodeJwt(q.body.access_token).payload.aud, [RESOURCE_URI])
      const both = await post(`${url}?grant_type=password`, 'grant_type=client_credentials', auth)
      assert.equal(both.status, 200, both.text)
      // The charset parameter is fine.
      assert.equal((await post(url, 'grant_type=client_credentials', {...auth, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8'})).status, 200)
    })

    it('resource must match a registered uri exactly -> otherwise invalid_target', async () => {
      for (const bad of ['demo-mcp', `${RESOURCE_URI}/`, 'HTTP://localhost:8080/mcp', 'http://localhost:8080/unknown']) {
        assertOAuthError(await token(h, client, {resource: bad}), 400, 'invalid_target', `resource "${bad}" is not a registered resource`)
      }
    })

    it('only the first resource parameter is used', async () => {
      const ok = await token(h, client, {resource: [RESOURCE_URI, 'http://localhost:8080/unknown']})
      assert.equal(ok.status, 200, ok.text)
      assert.deepEqual(decodeJwt(ok.body.access_token).payload.aud, [RESOURCE_URI])
      assertOAuthError(await token(h, client, {resource: ['http://localhost:8080/unknown', RESOURCE_URI]}), 400, 'invalid_target')
    })

    it('resource omitted -> aud is [issuer]', async () => {
      const r = await token(h, client, {})
      assert.equal(r.status, 200, r.text)
      assert.deepEqual(decodeJwt(r.body.access_token).payload.aud, [h.issuer])
    })

    it('scope rules: ceiling, resource catalog, omitted scope', async () => {
      const wide = await createClient(h, {scope: 'mcp:echo mcp:admin other'})
      assertOAuthError(await token(h, client, {resource: RESOURCE_URI, scope: 'mcp:admin'}), 400, 'invalid_scope', "the requested scope is invalid or not allowed: the requested scope exceeds the client's registered scopes")
      const bare = await createClient(h, {scope: ''})
      assertOAuthError(await token(h, bare, {scope: 'mcp:echo'}), 400, 'invalid_scope', 'the requested scope is invalid or not allowed: the client has no registered scopes; grant them with PATCH /admin/clients/{id}')
      assertOAuthError(await token(h, wide, {resource: RESOURCE_URI, scope: 'mcp:echo other'}), 400, 'invalid_scope', 'scope "other" is not declared by the target resource')
      // Omitted with a resource: the ceiling intersected with the resource's catalog, sorted.
      const both = await token(h, wide, {resource: RESOURCE_URI})
      assert.equal(both.body.scope, 'mcp:admin mcp:echo')
      assert.equal(decodeJwt(both.body.access_token).payload.scope, 'mcp:admin mcp:echo')
      const sorted = await token(h, wide, {resource: RESOURCE_URI, scope: 'mcp:echo mcp:admin mcp:echo'})
      assert.equal(sorted.body.scope, 'mcp:admin mcp:echo')
      const none = await createClient(h, {scope: 'other'})
      assertOAuthError(await token(h, none, {resource: RESOURCE_URI}), 400, 'invalid_scope', /none of the client's registered scopes/)
      // Without a resource nothing is checked against a catalog.
      assert.equal((await token(h, wide, {scope: 'other'})).body.scope, 'other')
      // An empty grant omits the claim.
      const empty = await createClient(h, {scope: ''})
      const e = await token(h, empty, {})
      assert.equal(e.status, 200)
      assert.equal('scope' in decodeJwt(e.body.access_token).payload, false)
    })

    it('Basic credentials are form-urlencoded before base64; form auth works too', async () => {
      const enc = (s: string): string => [...s].map((ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')).join('')
      const allEncoded = 'Basic ' + Buffer.from(`${enc(client.client_id)}:${enc(client.client_secret)}`).toString('base64')
      const url = `${h.publicUrl}/oauth/token`
      const body = form({grant_type: 'client_credentials', resource: RESOURCE_URI})
      assert.equal((await post(url, body, {authorization: allEncoded})).status, 200)
      // A space in the secret (encoded as "+") is not the secret.
      assertOAuthError(await post(url, body, {authorization: 'Basic ' + Buffer.from(`${client.client_id}:${client.client_secret}+`).toString('base64')}), 401, 'invalid_client')
      const post1 = await createClient(h, {token_endpoint_auth_method: 'client_secret_post'})
      const r = await post(url, form({grant_type: 'client_credentials', resource: RESOURCE_URI, client_id: post1.client_id, client_secret: post1.client_secret}))
      assert.equal(r.status, 200, r.text)
      assert.equal(decodeJwt(r.body.access_token).payload.client_id, post1.client_id)
    })

    it('rejects an invalid DPoP proof with invalid_dpop_proof', async () => {
      const {publicKey, privateKey} = await generateKeyPair('ES256')
      const jwk = await exportJWK(publicKey)
      const proof = (claims: Record<string, unknown>, typ = 'dpop+jwt'): Promise<string> =>
        new SignJWT({jti: crypto.randomUUID(), htm: 'POST', htu: `${h.issuer}/oauth/token`, iat: Math.floor(Date.now() / 1000), ...claims})
          .setProtectedHeader({alg: 'ES256', typ, jwk})
          .sign(privateKey)
      const good = await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof({})})
      assert.equal(good.status, 200, good.text)
      assert.equal(good.body.token_type, 'DPoP')
      assert.equal(decodeJwt(good.body.access_token).payload.cnf.jkt, await calculateJwkThumbprint(jwk))
      for (const bad of [await proof({htm: 'GET'}), await proof({htu: 'http://elsewhere/oauth/token'}), await proof({iat: Math.floor(Date.now() / 1000) - 600}), await proof({}, 'JWT'), 'not-a-jwt']) {
        assertOAuthError(await token(h, client, {resource: RESOURCE_URI}, {dpop: bad}), 400, 'invalid_dpop_proof')
      }
    })

    it('counts token requests and issued tokens', async () => {
      const before = h.stats()
      await token(h, client, {})
      await token(h, client, {grant_type: 'password'})
      const s = h.stats()
      assert.equal(s.tokenRequests - before.tokenRequests, 2)
      assert.equal(s.tokensIssued - before.tokensIssued, 1)
    })
  })

  describe('introspection and revocation', () => {
    it('active for the issuing client and runtime-policy clients, inactive for others; revoke -> inactive', async () => {
      const other = await createClient(h)
      const runtime = await createClient(h)
      const guarded = await createResource(h, {uri: 'http://localhost:8080/guarded', policy: {runtime: {client_ids: [runtime.client_id]}}})
      const t = await token(h, client, {resource: guarded.uri, scope: 'mcp:echo'})
      assert.equal(t.status, 200, t.text)
      const jwt = t.body.access_token
      const introspect = (who: {client_id: string; client_secret: string}, value = jwt) =>
        post(`${h.publicUrl}/oauth/introspect`, form({token: value, token_type_hint: 'access_token'}), {authorization: basic(who.client_id, who.client_secret)})

      const mine = await introspect(client)
      assert.equal(mine.status, 200)
      assert.equal(mine.headers.get('content-type'), 'application/json')
      assert.equal(mine.headers.get('cache-control'), null, 'the real introspection handler sets no Cache-Control')
      const {payload} = decodeJwt(jwt)
      assert.equal(mine.body.active, true)
      assert.equal(mine.body.scope, 'mcp:echo')
      assert.equal(mine.body.client_id, client.client_id)
      assert.equal(mine.body.sub, client.client_id)
      assert.equal(mine.body.aud, guarded.uri, 'IntrospectResponse.aud is a string')
      assert.equal('nbf' in mine.body, false)
      assert.deepEqual(Object.keys(mine.body), ['active', 'scope', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat', 'jti', 'token_type'])
      assert.equal(mine.body.iss, h.issuer)
      assert.equal(mine.body.exp, payload.exp)
      assert.equal(mine.body.iat, payload.iat)
      assert.equal(mine.body.jti, payload.jti)
      assert.equal(mine.body.token_type, 'Bearer')

      assert.deepEqual((await introspect(other)).body, {active: false})
      assert.equal((await introspect(runtime)).body.active, true)
      assert.deepEqual((await introspect(client, 'garbage')).body, {active: false})
      assertOAuthError(await introspect({client_id: client.client_id, client_secret: 'nope'}), 401, 'invalid_client')

      // Another client cannot revoke it (200, nothing happens); the owner can.
      const revoke = (who: {client_id: string; client_secret: string}) => post(`${h.publicUrl}/oauth/revoke`, form({token: jwt}), {authorization: basic(who.client_id, who.client_secret)})
      const r0 = await revoke(other)
      assert.equal(r0.status, 200)
      assert.equal((await introspect(client)).body.active, true)
      const r1 = await revoke(client)
      assert.equal(r1.status, 200)
      assert.equal(r1.text, '')
      assert.equal(r1.headers.get('cache-control'), null)
      assert.deepEqual((await introspect(client)).body, {active: false})
      assert.deepEqual((await introspect(runtime)).body, {active: false})
      assertOAuthError(await revoke({client_id: client.client_id, client_secret: 'nope'}), 401, 'invalid_client')
      assert.equal((await post(`${h.publicUrl}/oauth/revoke`, form({token: 'unknown'}), {authorization: basic(client.client_id, client.client_secret)})).status, 200)

      // A revoked token no longer counts as live, so the client can be deleted without force.
      const lone = await createClient(h)
      const lt = await token(h, lone, {})
      await post(`${h.publicUrl}/oauth/revoke`, form({token: lt.body.access_token}), {authorization: basic(lone.client_id, lone.client_secret)})
      assert.equal((await admin(h, 'DELETE', `/admin/clients/${lone.client_id}`)).status, 204)
    })

    it('introspection and revocation parameters: token first (before client authentication), then the client', async () => {
      for (const path of ['/oauth/introspect', '/oauth/revoke']) {
        assertOAuthError(await post(h.publicUrl + path, form({}), {authorization: basic(client.client_id, 'wrong')}), 400, 'invalid_request', 'token parameter is required')
        assertOAuthError(await post(h.publicUrl + path, form({token: 'x'}), {authorization: basic(client.client_id, 'wrong')}), 401, 'invalid_client', 'client authentication failed')
      }
    })

    it('a suspended owner makes its tokens inactive', async () => {
      const c = await createClient(h)
      const t = await token(h, c, {resource: RESOURCE_URI})
      const runtime = await createClient(h)
      await admin(h, 'PATCH', `/admin/resources/${resource.id}`, {policy: {runtime: {client_ids: [runtime.client_id]}}})
      const introspect = () => post(`${h.publicUrl}/oauth/introspect`, form({token: t.body.access_token}), {authorization: basic(runtime.client_id, runtime.client_secret)})
      assert.equal((await introspect()).body.active, true)
      await admin(h, 'PATCH', `/admin/clients/${c.client_id}/suspend`)
      assert.deepEqual((await introspect()).body, {active: false})
    })
  })

  it('exports a benchmark signer on the same code path', () => {
    const sign = signBenchmarkToken()
    const {header, payload} = decodeJwt(sign())
    assert.equal(header.typ, 'at+jwt')
    assert.deepEqual(payload.aud, ['http://localhost:8080/mcp'])
    assert.notEqual(sign(), sign())
  })
})
