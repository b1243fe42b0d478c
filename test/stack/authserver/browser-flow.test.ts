import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {after, before, describe, it} from 'node:test'
import {calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT} from 'jose'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {Browser, encodeForm, formFields, type Page} from './browser.js'
import {admin, assertOAuthError, assertProblem, basic, decodeJwt, form, post, start} from './helpers.js'

const RESOURCE = 'http://localhost:8080/mcp'
const REDIRECT = 'http://127.0.0.1:33418/callback'
const EMAIL = 'ada@example.test'
const PASSWORD = 'correct horse battery staple'

function pkce(): {verifier: string; challenge: string} {
  const verifier = randomBytes(32).toString('base64url')
  return {verifier, challenge: createHash('sha256').update(verifier).digest('base64url')}
}

function authorizeUrl(clientId: string, challenge: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-123', resource: RESOURCE, scope: 'mcp:echo', ...extra})
  return `/oauth/authorize?${q}`
}

describe('authserver browser flow: users, login, consent, authorization code + PKCE, refresh', () => {
  let h: AuthServerHandle
  let publicClient: any
  let confidential: any
  let user: any
  let resource: any

  before(async () => {
    h = await start()
    resource = (await admin(h, 'POST', '/admin/resources', {slug: 'demo-mcp', uri: RESOURCE, backend_kind: 'mint', display_name: 'Demo MCP', scopes: [{name: 'mcp:echo', description: 'echo tool'}, {name: 'mcp:admin', description: 'administer'}]})).body
    publicClient = (await admin(h, 'POST', '/admin/clients', {client_name: 'Inspector <dev>', redirect_uris: [REDIRECT], scope: 'mcp:echo'})).body
    confidential = (await admin(h, 'POST', '/admin/clients', {client_name: 'web app', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:echo mcp:admin'})).body
    const created = await admin(h, 'POST', '/admin/users', {email: EMAIL, name: 'Ada', password: PASSWORD})
    assert.equal(created.status, 201, created.text)
    user = created.body
  })
  after(async () => {
    await h.stop()
  })

  /**
   * Runs the flow up to the redirect back to the client; signs in and consents when asked. With
   * `expect.consent`, asserts that the consent page was (true) or was not (false) shown; with
   * `expect.scopes`, approves only those.
   */
  async function obtainCode(b: Browser, clientId: string, challenge: string, extra: Record<string, string> = {}, email = EMAIL, expect: {consent?: boolean; scopes?: string[]} = {}): Promise<URL> {
    let {page, left} = await b.follow(await b.get(authorizeUrl(clientId, challenge, extra)))
    if (left === undefined && page.url.includes('/login')) ({page, left} = await b.follow(await b.signIn(page, email, PASSWORD)))
    const asked = left === undefined && page.url.includes('/consent')
    if (expect.consent !== undefined) assert.equal(asked, expect.consent, expect.consent ? `expected the consent page, got ${left?.toString() ?? page.url}` : 'the consent page was shown again')
    if (asked) ({page, left} = await b.follow(await b.decide(page, 'allow', expect.scopes)))
    assert.ok(left, `expected a redirect to the client, got ${page.status} ${page.url}\n${page.html}`)
    return left
  }

  function exchange(code: string, verifier: string, clientId = publicClient.client_id, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
    return post(`${h.publicUrl}/oauth/token`, form({grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId, ...extra}), headers)
  }

  function refresh(refreshToken: string, clientId = publicClient.client_id, extra: Record<string, string> = {}) {
    return post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra}))
  }

  it('announces and serves the authorization endpoint and the user grants', async () => {
    const m = (await (await fetch(`${h.publicUrl}/.well-known/openid-configuration`)).json()) as any
    assert.deepEqual(m.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials'])
    assert.deepEqual(m.response_types_supported, ['code'])
    assert.deepEqual(m.code_challenge_methods_supported, ['S256'])
    assert.equal(m.authorization_endpoint, `${h.issuer}/oauth/authorize`)
    const res = await fetch(`${h.publicUrl}/oauth/authorize`, {redirect: 'manual'})
    assert.equal(res.status, 400)
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
  })

  it('walks every form and redirect: authorize -> login -> authorize -> consent -> client, then code and refresh grants', async () => {
    const b = new Browser(h.publicUrl)
    const {verifier, challenge} = pkce()

    const first = await b.get(authorizeUrl(publicClient.client_id, challenge))
    assert.equal(first.status, 303)
    const toLogin = new URL(first.headers.get('location')!, h.publicUrl)
    assert.equal(toLogin.pathname, '/login')
    assert.equal(toLogin.searchParams.get('redirect'), authorizeUrl(publicClient.client_id, challenge))

    const login = await b.get(toLogin.toString())
    assert.equal(login.status, 200)
    assert.equal(login.headers.get('cache-control'), 'no-store')
    assert.match(login.headers.get('content-security-policy') ?? '', /default-src 'none'/)
    assert.match(login.headers.getSetCookie().join('\n'), /^authserver_login_nonce=[0-9a-f]{32}\|[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=43200$/m)
    assert.match(login.html, /<label for="email">/)
    assert.match(login.html, /<label for="password">/)

    const afterLogin = await b.signIn(login, EMAIL, PASSWORD)
    assert.equal(afterLogin.status, 303)
    assert.equal(afterLogin.headers.get('location'), authorizeUrl(publicClient.client_id, challenge))
    assert.match(afterLogin.headers.getSetCookie().join('\n'), /^authserver_session=[\w-]+\|\d+\|[\w-]+\|[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400$/m)

    const again = await b.get(afterLogin.headers.get('location')!)
    assert.equal(again.status, 303)
    const toConsent = new URL(again.headers.get('location')!, h.publicUrl)
    assert.equal(toConsent.pathname, '/consent')

    const consent = await b.get(toConsent.toString())
    assert.equal(consent.status, 200)
    // Names the client (escaped), the resource and the scope with its description.
    assert.match(consent.html, /Inspector &#60;dev&#62;<\/span> wants permission to access Demo MCP/)
    assert.match(consent.html, /<code>demo-mcp<\/code> · <code>http:\/\/localhost:8080\/mcp<\/code>/)
    assert.match(consent.html, /echo tool \(<code>mcp:echo<\/code>\)/)
    assert.doesNotMatch(consent.html, /mcp:admin/)

    const approved = await b.decide(consent, 'allow')
    assert.equal(approved.status, 303)
    const back = new URL(approved.headers.get('location')!)
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT)
    assert.equal(back.searchParams.get('state'), 'st-123')
    const code = back.searchParams.get('code')!
    assert.match(code, /^[\w-]{43}$/)

    const t = await exchange(code, verifier)
    assert.equal(t.status, 200, t.text)
    assert.equal(t.headers.get('cache-control'), 'no-store')
    assert.deepEqual(Object.keys(t.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
    assert.equal(t.body.token_type, 'Bearer')
    assert.equal(t.body.scope, 'mcp:echo')
    const {header, payload} = decodeJwt(t.body.access_token)
    assert.equal(header.typ, 'at+jwt')
    assert.equal(payload.sub, user.id)
    assert.equal(payload.client_id, publicClient.client_id)
    assert.deepEqual(payload.aud, [RESOURCE])
    assert.equal(payload.iss, h.issuer)
    assert.equal(payload.scope, 'mcp:echo')

    // Consent is remembered for this user, client, resource and scope: straight back to the client.
    const second = pkce()
    const direct = await b.get(authorizeUrl(publicClient.client_id, second.challenge))
    assert.equal(direct.status, 303)
    assert.equal(new URL(direct.headers.get('location')!).origin, new URL(REDIRECT).origin)

    // Refresh rotates; the old refresh token then revokes the whole family.
    const r1 = await refresh(t.body.refresh_token)
    assert.equal(r1.status, 200, r1.text)
    assert.notEqual(r1.body.refresh_token, t.body.refresh_token)
    assert.equal(decodeJwt(r1.body.access_token).payload.sub, user.id)
    assertOAuthError(await refresh(t.body.refresh_token), 400, 'invalid_grant', 'token family revoked due to reuse detection')
    assertOAuthError(await refresh(r1.body.refresh_token), 400, 'invalid_grant', 'token family revoked due to reuse detection')

    // Logout ends the session: the next authorize asks to sign in again.
    const out = await b.post('/logout', '')
    assert.equal(out.status, 303)
    assert.equal(out.headers.get('location'), '/login')
    assert.equal(b.cookies.has('authserver_session'), false)
    const anon = await b.get(authorizeUrl(publicClient.client_id, pkce().challenge))
    assert.match(anon.headers.get('location')!, /^\/login\?redirect=/)
  })

  it('serves a confidential client with Basic auth, narrows refresh scope, binds DPoP and revokes on code reuse', async () => {
    const b = new Browser(h.publicUrl)
    const {verifier, challenge} = pkce()
    const back = await obtainCode(b, confidential.client_id, challenge, {scope: 'mcp:echo mcp:admin'})
    const code = back.searchParams.get('code')!
    const auth = {authorization: basic(confidential.client_id, confidential.client_secret)}
    assertOAuthError(await exchange(code, verifier, confidential.client_id, {}, {authorization: basic(confidential.client_id, 'wrong')}), 401, 'invalid_client')
    // That failed attempt spent the code (it is consumed before the client is checked).
    assertOAuthError(await exchange(code, verifier, confidential.client_id, {}, auth), 400, 'invalid_grant', 'authorization code has already been used')

    const second = pkce()
    const code2 = (await obtainCode(b, confidential.client_id, second.challenge, {scope: 'mcp:echo mcp:admin'})).searchParams.get('code')!
    const {publicKey, privateKey} = await generateKeyPair('ES256')
    const jwk = await exportJWK(publicKey)
    const proof = await new SignJWT({jti: randomBytes(8).toString('hex'), htm: 'POST', htu: `${h.issuer}/oauth/token`, iat: Math.floor(Date.now() / 1000)})
      .setProtectedHeader({alg: 'ES256', typ: 'dpop+jwt', jwk}).sign(privateKey)
    const t = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT, code_verifier: second.verifier}), {...auth, dpop: proof})
    assert.equal(t.status, 200, t.text)
    assert.equal(t.body.token_type, 'DPoP')
    assert.equal(t.body.scope, 'mcp:echo mcp:admin')
    assert.equal(decodeJwt(t.body.access_token).payload.cnf.jkt, await calculateJwkThumbprint(jwk))

    const introspect = async (token: string) => (await post(`${h.publicUrl}/oauth/introspect`, form({token}), auth)).body
    assert.equal((await introspect(t.body.access_token)).active, true)
    assert.equal((await introspect(t.body.access_token)).sub, user.id)

    const narrowed = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: t.body.refresh_token, scope: 'mcp:echo'}), auth)
    assert.equal(narrowed.status, 200, narrowed.text)
    assert.equal(narrowed.body.scope, 'mcp:echo')
    const wider = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token, scope: 'mcp:echo mcp:other'}), auth)
    assertOAuthError(wider, 400, 'invalid_scope')

    // Replaying the code with its verifier revokes everything it issued.
    assertOAuthError(await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT, code_verifier: second.verifier}), auth), 400, 'invalid_grant', 'authorization code has already been used')
    assert.deepEqual(await introspect(t.body.access_token), {active: false})
    assert.deepEqual(await introspect(narrowed.body.access_token), {active: false})
    assertOAuthError(await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token}), auth), 400, 'invalid_grant', 'token family revoked due to reuse detection')
  })

  describe('bad input', () => {
    it('refuses a wrong PKCE verifier (and the code is spent), a missing challenge and plain PKCE', async () => {
      const b = new Browser(h.publicUrl)
      const {verifier, challenge} = pkce()
      const code = (await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!
      assertOAuthError(await exchange(code, pkce().verifier), 400, 'invalid_grant', 'PKCE verification failed')
      assertOAuthError(await exchange(code, verifier), 400, 'invalid_grant', 'authorization code has already been used')

      for (const extra of [{code_challenge: ''}, {code_challenge_method: 'plain'}] as Array<Record<string, string>>) {
        const res = await b.get(authorizeUrl(publicClient.client_id, challenge, extra))
        assert.equal(res.status, 303)
        const to = new URL(res.headers.get('location')!)
        assert.equal(to.searchParams.get('error'), 'invalid_grant')
        assert.match(to.searchParams.get('error_description')!, /^PKCE verification failed: /)
        assert.equal(to.searchParams.get('state'), 'st-123')
      }
    })

    it('refuses a reused code, a code for another client, a changed redirect_uri and a foreign resource', async () => {
      const b = new Browser(h.publicUrl)
      const {verifier, challenge} = pkce()
      const code = (await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!
      const ok = await exchange(code, verifier)
      assert.equal(ok.status, 200, ok.text)
      assertOAuthError(await exchange(code, verifier), 400, 'invalid_grant', 'authorization code has already been used')
      // The replay presented the right client and verifier, so what the code issued is revoked.
      assertOAuthError(await refresh(ok.body.refresh_token), 400, 'invalid_grant', 'token family revoked due to reuse detection')

      const p2 = pkce()
      const code2 = (await obtainCode(b, publicClient.client_id, p2.challenge)).searchParams.get('code')!
      assertOAuthError(await exchange(code2, p2.verifier, confidential.client_id), 401, 'invalid_client')
      const p3 = pkce()
      const code3 = (await obtainCode(b, publicClient.client_id, p3.challenge)).searchParams.get('code')!
      assertOAuthError(await exchange(code3, p3.verifier, publicClient.client_id, {redirect_uri: 'http://127.0.0.1:33418/other'}), 400, 'invalid_grant')
      const p4 = pkce()
      const code4 = (await obtainCode(b, publicClient.client_id, p4.challenge)).searchParams.get('code')!
      assertOAuthError(await exchange(code4, p4.verifier, publicClient.client_id, {resource: 'http://localhost:9999/other'}), 400, 'invalid_target', 'resource "http://localhost:9999/other" is not a registered resource')
      assertOAuthError(await exchange('no-such-code', p4.verifier), 400, 'invalid_grant')
    })

    it('never redirects to a foreign redirect_uri; accepts another port on a registered loopback one', async () => {
      const b = new Browser(h.publicUrl)
      for (const uri of ['https://evil.example/callback', 'http://127.0.0.1:33418/callback/../x', 'http://localhost:33418/callback']) {
        const res = await b.get(authorizeUrl(publicClient.client_id, pkce().challenge, {redirect_uri: uri}))
        assert.equal(res.status, 400, uri)
        assert.equal(res.headers.get('location'), null)
        assert.match(res.html, /Invalid Redirect URI/)
      }
      const unknownClient = await b.get(authorizeUrl('nope', pkce().challenge))
      assert.equal(unknownClient.status, 400)
      assert.match(unknownClient.html, /Invalid Client/)
      const badType = await b.get(authorizeUrl(publicClient.client_id, pkce().challenge, {response_type: 'token'}))
      assert.equal(badType.status, 400)
      assert.match(badType.html, /Authorization Error/)
      const unknownResource = await b.get(authorizeUrl(publicClient.client_id, pkce().challenge, {resource: 'http://localhost:1/nothing'}))
      assert.equal(unknownResource.status, 400)
      assert.match(unknownResource.html, /Unknown Resource/)
      // RFC 8252 §7.3: a native client's loopback listener picks its port at run time.
      const loopback = await b.get(authorizeUrl(publicClient.client_id, pkce().challenge, {redirect_uri: 'http://127.0.0.1:50123/callback'}))
      assert.equal(loopback.status, 303)
      assert.match(loopback.headers.get('location')!, /^\/login\?/)
      // The client's ceiling bounds the scope: that error goes to the (now trusted) redirect.
      const wide = await b.get(authorizeUrl(publicClient.client_id, pkce().challenge, {scope: 'mcp:echo mcp:admin'}))
      const to = new URL(wide.headers.get('location')!)
      assert.equal(to.searchParams.get('error'), 'invalid_scope')
      assert.match(to.searchParams.get('error_description')!, /exceeds the client's registered scopes/)
    })

    it('refuses a login without the nonce cookie, without a CSRF token, or with one from another browser', async () => {
      const a = new Browser(h.publicUrl)
      const other = new Browser(h.publicUrl)
      const pageA = await a.get('/login?redirect=/')
      const pageOther = await other.get('/login?redirect=/')
      const fieldsA = formFields(pageA.html, '/login')
      const creds = {email: EMAIL, password: PASSWORD, redirect: '/'}

      const noCookie = await new Browser(h.publicUrl).post('/login', encodeForm({...creds, csrf_token: fieldsA.get('csrf_token')![0]!}))
      assert.equal(noCookie.status, 422)
      assert.match(noCookie.html, /Invalid request\. Please try again\./)
      const noToken = await a.post('/login', encodeForm(creds))
      assert.equal(noToken.status, 422)
      const foreign = await a.post('/login', encodeForm({...creds, csrf_token: formFields(pageOther.html, '/login').get('csrf_token')![0]!}))
      assert.equal(foreign.status, 422)
      assert.match(foreign.html, /Invalid request/)
      // A forged nonce cookie is not this server's: refused, and a fresh one is minted.
      const forged = new Browser(h.publicUrl)
      forged.cookies.set('authserver_login_nonce', `${'a'.repeat(32)}|forged`)
      const forgedPage = await forged.get('/login')
      assert.notEqual(forged.cookies.get('authserver_login_nonce'), `${'a'.repeat(32)}|forged`)
      assert.equal((await forged.signIn(forgedPage, EMAIL, PASSWORD)).status, 303)

      const ok = await a.signIn(pageA, EMAIL, PASSWORD)
      assert.equal(ok.status, 303)
      assert.equal(ok.headers.get('location'), '/')
      // An open redirect is closed: only a same-origin path is followed.
      const evil = await a.post('/login', encodeForm({...creds, csrf_token: fieldsA.get('csrf_token')![0]!, redirect: '//evil.example/x'}))
      assert.equal(evil.headers.get('location'), '/')
      const home = await a.get('/')
      assert.match(home.html, /signed in as <strong>ada@example\.test<\/strong>/)
    })

    it('asks for consent again when the scope grows; not when it repeats or shrinks', async () => {
      const client = (await admin(h, 'POST', '/admin/clients', {client_name: 'growing', redirect_uris: [REDIRECT], scope: 'mcp:echo mcp:admin'})).body
      const b = new Browser(h.publicUrl)
      const scopeOf = async (back: URL, verifier: string) => {
        const t = await exchange(back.searchParams.get('code')!, verifier, client.client_id)
        assert.equal(t.status, 200, t.text)
        return t.body.scope
      }
      let p = pkce()
      assert.equal(await scopeOf(await obtainCode(b, client.client_id, p.challenge, {scope: 'mcp:echo'}, EMAIL, {consent: true}), p.verifier), 'mcp:echo')
      p = pkce()
      assert.equal(await scopeOf(await obtainCode(b, client.client_id, p.challenge, {scope: 'mcp:echo'}, EMAIL, {consent: false}), p.verifier), 'mcp:echo')
      // A wider scope is a new question, and the page asks it for every scope requested.
      p = pkce()
      const wider = await b.follow(await b.get(authorizeUrl(client.client_id, p.challenge, {scope: 'mcp:echo mcp:admin'})))
      assert.equal(wider.left, undefined, 'consent was skipped for a wider scope')
      assert.match(wider.page.url, /\/consent\?session_id=/)
      assert.match(wider.page.html, /administer \(<code>mcp:admin<\/code>\)/)
      assert.match(wider.page.html, /echo tool \(<code>mcp:echo<\/code>\)/)
      // Approving only part of it remembers only that part: the wider request is asked again.
      const partial = await b.follow(await b.decide(wider.page, 'allow', ['mcp:echo']))
      assert.ok(partial.left)
      assert.equal(await scopeOf(partial.left, p.verifier), 'mcp:echo')
      p = pkce()
      assert.equal(await scopeOf(await obtainCode(b, client.client_id, p.challenge, {scope: 'mcp:echo mcp:admin'}, EMAIL, {consent: true}), p.verifier), 'mcp:echo mcp:admin')
      for (const scope of ['mcp:admin', 'mcp:echo', 'mcp:admin mcp:echo']) {
        p = pkce()
        assert.equal(await scopeOf(await obtainCode(b, client.client_id, p.challenge, {scope}, EMAIL, {consent: false}), p.verifier), scope)
      }
      // Another user of the same browser client has consented to nothing.
      const otherUser = await admin(h, 'POST', '/admin/users', {email: 'hopper@example.test', password: PASSWORD})
      assert.equal(otherUser.status, 201, otherUser.text)
      p = pkce()
      await obtainCode(new Browser(h.publicUrl), client.client_id, p.challenge, {scope: 'mcp:echo'}, 'hopper@example.test', {consent: true})
    })

    it('binds a refresh token to its client: another public or confidential client cannot rotate it, nor revoke it', async () => {
      const other = (await admin(h, 'POST', '/admin/clients', {client_name: 'other public', redirect_uris: [REDIRECT], scope: 'mcp:echo'})).body
      const b = new Browser(h.publicUrl)
      const {verifier, challenge} = pkce()
      const t = await exchange((await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!, verifier)
      assert.equal(t.status, 200, t.text)
      const stolen = t.body.refresh_token
      const confidentialAuth = {authorization: basic(confidential.client_id, confidential.client_secret)}
      assertOAuthError(await refresh(stolen, other.client_id), 401, 'invalid_client')
      assertOAuthError(await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: stolen}), confidentialAuth), 401, 'invalid_client')
      assertOAuthError(await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: stolen})), 401, 'invalid_client')
      // RFC 7009 §2.1: a foreign client's revocation is answered 200 and changes nothing.
      const foreignRevoke = await post(`${h.publicUrl}/oauth/revoke`, form({token: stolen}), confidentialAuth)
      assert.equal(foreignRevoke.status, 200, foreignRevoke.text)
      const foreignPublicRevoke = await post(`${h.publicUrl}/oauth/revoke`, form({token: stolen, client_id: other.client_id}))
      assert.ok(foreignPublicRevoke.status === 200 || foreignPublicRevoke.status === 401, foreignPublicRevoke.text)
      // None of that spent, rotated or revoked it: the owner still refreshes.
      const owner = await refresh(stolen)
      assert.equal(owner.status, 200, owner.text)
      assert.equal(decodeJwt(owner.body.access_token).payload.client_id, publicClient.client_id)
    })

    it('matches redirect_uri at the token endpoint exactly: no longer path, no prefix, no query, no trailing slash', async () => {
      const b = new Browser(h.publicUrl)
      for (const uri of [`${REDIRECT}/extra`, `${REDIRECT}x`, REDIRECT.slice(0, -1), `${REDIRECT}?x=1`, `${REDIRECT}/`, 'http://127.0.0.1:33418/', '']) {
        const {verifier, challenge} = pkce()
        const code = (await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!
        assertOAuthError(await exchange(code, verifier, publicClient.client_id, {redirect_uri: uri}), 400, 'invalid_grant')
      }
      const {verifier, challenge} = pkce()
      const code = (await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!
      assert.equal((await exchange(code, verifier)).status, 200)
    })

    it('binds an authorization session to the user who started it: another user\'s consent cannot complete it', async () => {
      const mallory = await admin(h, 'POST', '/admin/users', {email: 'mallory@example.test', password: PASSWORD})
      assert.equal(mallory.status, 201, mallory.text)
      const client = (await admin(h, 'POST', '/admin/clients', {client_name: 'victim app', redirect_uris: [REDIRECT], scope: 'mcp:echo'})).body
      const victim = new Browser(h.publicUrl)
      assert.equal((await victim.signIn(await victim.get('/login'), EMAIL, PASSWORD)).status, 303)
      const {verifier, challenge} = pkce()
      const toConsent = await victim.follow(await victim.get(authorizeUrl(client.client_id, challenge)))
      const sessionId = new URL(toConsent.page.url).searchParams.get('session_id')!
      assert.ok(sessionId)

      // The session id leaks to Mallory, signed in as herself.
      const attacker = new Browser(h.publicUrl)
      assert.equal((await attacker.signIn(await attacker.get('/login'), 'mallory@example.test', PASSWORD)).status, 303)
      const shown = await attacker.get(`/consent?session_id=${encodeURIComponent(sessionId)}`)
      assert.equal(shown.status, 400)
      assert.match(shown.html, /Invalid Session/)
      // Her CSRF token is valid for her session; the authorization session is still not hers.
      const ownSession = await attacker.follow(await attacker.get(authorizeUrl(client.client_id, pkce().challenge)))
      const fields = formFields(ownSession.page.html, '/consent')
      fields.set('session_id', [sessionId])
      fields.set('action', ['allow'])
      const forged = await attacker.post('/consent', encodeForm(fields))
      assert.equal(forged.status, 400)
      assert.equal(forged.headers.get('location'), null)
      assert.match(forged.html, /Consent Error/)
      // Denying it does not delete it either.
      fields.set('action', ['deny'])
      await attacker.post('/consent', encodeForm(fields))

      // The victim completes her own session: the code is hers.
      const done = await victim.follow(await victim.decide(toConsent.page, 'allow'))
      assert.ok(done.left)
      const t = await exchange(done.left.searchParams.get('code')!, verifier, client.client_id)
      assert.equal(t.status, 200, t.text)
      assert.equal(decodeJwt(t.body.access_token).payload.sub, user.id)
    })

    it('validates the PKCE challenge (RFC 7636 §4.2) and names the method with the real server\'s text', async () => {
      const b = new Browser(h.publicUrl)
      const cases: Array<[Record<string, string>, string]> = [
        [{code_challenge_method: 'plain'}, 'PKCE verification failed: unsupported code_challenge_method "plain": only S256 is allowed'],
        [{code_challenge_method: ''}, 'PKCE verification failed: unsupported code_challenge_method "": only S256 is allowed'],
        [{code_challenge: 'abc'}, 'PKCE verification failed: code_challenge length must be between 43 and 128'],
        [{code_challenge: 'a'.repeat(129)}, 'PKCE verification failed: code_challenge length must be between 43 and 128'],
        [{code_challenge: `${'a'.repeat(42)}+`}, 'PKCE verification failed: code_challenge contains invalid characters'],
        [{code_challenge: `${'a'.repeat(42)}=`}, 'PKCE verification failed: code_challenge contains invalid characters'],
      ]
      for (const [extra, text] of cases) {
        const res = await b.get(authorizeUrl(publicClient.client_id, pkce().challenge, extra))
        assert.equal(res.status, 303, JSON.stringify(extra))
        const to = new URL(res.headers.get('location')!)
        assert.equal(`${to.origin}${to.pathname}`, REDIRECT)
        assert.equal(to.searchParams.get('error'), 'invalid_grant')
        assert.equal(to.searchParams.get('error_description'), text)
      }
      // The grammar's extremes pass: 43 and 128 unreserved characters.
      for (const challenge of ['A-._~'.repeat(8) + 'abc', 'z'.repeat(128)]) {
        const res = await b.get(authorizeUrl(publicClient.client_id, challenge))
        assert.equal(res.status, 303)
        assert.match(res.headers.get('location')!, /^\/login\?/)
      }
    })

    it('refuses a parameter sent twice (RFC 6749 §3.1) at the authorization and token endpoints', async () => {
      const b = new Browser(h.publicUrl)
      const {verifier, challenge} = pkce()
      for (const name of ['redirect_uri', 'client_id', 'response_type']) {
        const url = `${authorizeUrl(publicClient.client_id, challenge)}&${name}=${encodeURIComponent(name === 'redirect_uri' ? 'https://evil.example/cb' : name === 'client_id' ? publicClient.client_id : 'code')}`
        const res = await b.get(url)
        assert.equal(res.status, 400, name)
        assert.equal(res.headers.get('location'), null)
        assert.match(res.html, new RegExp(`The ${name} parameter is included more than once\\.`))
      }
      for (const name of ['state', 'scope', 'code_challenge', 'code_challenge_method']) {
        const res = await b.get(`${authorizeUrl(publicClient.client_id, challenge)}&${name}=x`)
        assert.equal(res.status, 303, name)
        const to = new URL(res.headers.get('location')!)
        assert.equal(`${to.origin}${to.pathname}`, REDIRECT)
        assert.equal(to.searchParams.get('error'), 'invalid_request')
        assert.equal(to.searchParams.get('error_description'), `the ${name} parameter is included more than once (RFC 6749 section 3.1)`)
      }
      const code = (await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!
      const twice = `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT)}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&code_verifier=${verifier}&client_id=${publicClient.client_id}`
      assertOAuthError(await post(`${h.publicUrl}/oauth/token`, twice), 400, 'invalid_request', 'the redirect_uri parameter is included more than once (RFC 6749 section 3.1)')
      // Refused before the code is looked at: it is still good.
      const t = await exchange(code, verifier)
      assert.equal(t.status, 200, t.text)
      assertOAuthError(await post(`${h.publicUrl}/oauth/token?refresh_token=x`, form({grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: publicClient.client_id})), 400, 'invalid_request', 'the refresh_token parameter is included more than once (RFC 6749 section 3.1)')
      assert.equal((await refresh(t.body.refresh_token)).status, 200)
    })

    // The tests below were added for mutants of the mutation run (scripts/mutants.mjs) that the
    // suite let through; each names the mutant it kills.

    it('refuses a code_verifier outside RFC 7636 §4.1 (43-128 unreserved characters), even one that hashes to the challenge', async () => {
      // Mutant as-pkce-verifier-length: without the length bound a short, guessable verifier passed.
      const b = new Browser(h.publicUrl)
      const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url')
      for (const verifier of ['short-verifier', 'v'.repeat(42), 'v'.repeat(129), `${'v'.repeat(42)}+`]) {
        const code = (await obtainCode(b, publicClient.client_id, s256(verifier))).searchParams.get('code')!
        assertOAuthError(await exchange(code, verifier), 400, 'invalid_grant', 'PKCE verification failed')
      }
      // The extremes of the grammar pass.
      for (const verifier of ['v'.repeat(43), `${'A-._~'.repeat(25)}abc`]) {
        const code = (await obtainCode(b, publicClient.client_id, s256(verifier))).searchParams.get('code')!
        const t = await exchange(code, verifier)
        assert.equal(t.status, 200, `${verifier.length}: ${t.text}`)
      }
    })

    it('never widens a refresh beyond the consented scope, even within the client\'s ceiling; a refused refresh does not spend the token', async () => {
      // Mutant as-refresh-scope-widen: the grant's scope was not checked, only the client's ceiling
      // (mcp:echo mcp:admin), so a user who consented to mcp:echo handed out mcp:admin on refresh.
      const b = new Browser(h.publicUrl)
      const auth = {authorization: basic(confidential.client_id, confidential.client_secret)}
      const {verifier, challenge} = pkce()
      const code = (await obtainCode(b, confidential.client_id, challenge, {scope: 'mcp:echo'})).searchParams.get('code')!
      const t = await exchange(code, verifier, confidential.client_id, {}, auth)
      assert.equal(t.status, 200, t.text)
      assert.equal(t.body.scope, 'mcp:echo')
      for (const scope of ['mcp:echo mcp:admin', 'mcp:admin']) {
        assertOAuthError(await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: t.body.refresh_token, scope}), auth), 400, 'invalid_scope')
      }
      const same = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: t.body.refresh_token, scope: 'mcp:echo'}), auth)
      assert.equal(same.status, 200, same.text)
      assert.equal(same.body.scope, 'mcp:echo')
      assert.equal(decodeJwt(same.body.access_token).payload.scope, 'mcp:echo')
    })

    it('refuses a token request that names another registered resource than the one authorized (RFC 8707 §2.2)', async () => {
      // Mutant as-grant-resource-switch: a second registered resource was let through (the earlier
      // test names only an unregistered one), and the client got a token it did not ask for.
      const other = await admin(h, 'POST', '/admin/resources', {slug: 'other-mcp', uri: 'http://localhost:8081/files', backend_kind: 'mint', scopes: [{name: 'files:read', description: 'read files'}]})
      assert.equal(other.status, 201, other.text)
      const b = new Browser(h.publicUrl)
      for (const named of ['http://localhost:8081/files', 'other-mcp']) {
        const {verifier, challenge} = pkce()
        const code = (await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!
        assertOAuthError(await exchange(code, verifier, publicClient.client_id, {resource: named}), 400, 'invalid_target', `resource "${named}" was not authorized by this grant`)
      }
      const {verifier, challenge} = pkce()
      const code = (await obtainCode(b, publicClient.client_id, challenge)).searchParams.get('code')!
      // The authorized resource, scheme and host in another case, is the same one.
      const t = await exchange(code, verifier, publicClient.client_id, {resource: 'HTTP://LOCALHOST:8080/mcp'})
      assert.equal(t.status, 200, t.text)
      assertOAuthError(await refresh(t.body.refresh_token, publicClient.client_id, {resource: 'http://localhost:8081/files'}), 400, 'invalid_target', 'resource "http://localhost:8081/files" was not authorized by this grant')
      const again = await refresh(t.body.refresh_token, publicClient.client_id, {resource: RESOURCE})
      assert.equal(again.status, 200, again.text)
      assert.deepEqual(decodeJwt(again.body.access_token).payload.aud, [RESOURCE])
    })

    it('refuses a scope the requested resource does not declare, even one within the client\'s ceiling', async () => {
      // Mutant as-authorize-resource-scope: the resource's catalog was not checked at authorize,
      // so a scope of another resource (files:read) was granted for this one.
      const files = await admin(h, 'POST', '/admin/resources', {slug: 'files-mcp', uri: 'http://localhost:8082/files', backend_kind: 'mint', scopes: [{name: 'files:read', description: 'read files'}]})
      assert.equal(files.status, 201, files.text)
      const client = (await admin(h, 'POST', '/admin/clients', {client_name: 'two resources', redirect_uris: [REDIRECT], scope: 'mcp:echo files:read'})).body
      const b = new Browser(h.publicUrl)
      for (const scope of ['files:read', 'mcp:echo files:read']) {
        const res = await b.get(authorizeUrl(client.client_id, pkce().challenge, {scope}))
        assert.equal(res.status, 303, scope)
        const to = new URL(res.headers.get('location')!)
        assert.equal(`${to.origin}${to.pathname}`, REDIRECT)
        assert.equal(to.searchParams.get('error'), 'invalid_scope')
        assert.equal(to.searchParams.get('error_description'), `the requested scope is invalid or not allowed: scope "files:read" not allowed for resource "${RESOURCE}"`)
      }
      // Each scope with its own resource is fine.
      const {verifier, challenge} = pkce()
      const back = await obtainCode(b, client.client_id, challenge, {scope: 'files:read', resource: 'http://localhost:8082/files'})
      const t = await exchange(back.searchParams.get('code')!, verifier, client.client_id)
      assert.equal(t.status, 200, t.text)
      assert.equal(t.body.scope, 'files:read')
    })

    it('signs in only with a session cookie this server signed: a forged, altered or re-signed one is ignored', async () => {
      // Mutant as-session-cookie-signature: without the HMAC check any `<user id>|<expiry>|<id>|x`
      // cookie signed in as that user.
      const b = new Browser(h.publicUrl)
      assert.equal((await b.signIn(await b.get('/login'), EMAIL, PASSWORD)).status, 303)
      const real = b.cookies.get('authserver_session')!
      const [userId, expiry, sid, sig] = real.split('|') as [string, string, string, string]
      assert.equal(userId, user.id)
      const home = (cookie: string) => fetch(`${h.publicUrl}/`, {headers: {cookie: `authserver_session=${cookie}`}, redirect: 'manual'})
      const signedIn = await home(real)
      assert.equal(signedIn.status, 200)
      assert.match(await signedIn.text(), /signed in as <strong>ada@example\.test<\/strong>/)
      const other = (await admin(h, 'POST', '/admin/users', {email: 'turing@example.test', password: PASSWORD})).body
      const later = String(Number(expiry) + 86400)
      for (const forged of [`${other.id}|${expiry}|${sid}|${sig}`, `${userId}|${later}|${sid}|${sig}`, `${userId}|${expiry}|other|${sig}`, `${other.id}|${expiry}|${sid}|${'A'.repeat(sig.length)}`, `${other.id}|${expiry}|${sid}|`]) {
        const res = await home(forged)
        assert.equal(res.status, 303, forged)
        assert.equal(res.headers.get('location'), '/login')
        await res.text()
      }
      // Nor does a forged cookie reach the consent page as that user.
      const consent = await fetch(`${h.publicUrl}/consent?session_id=x`, {headers: {cookie: `authserver_session=${other.id}|${expiry}|${sid}|${sig}`}, redirect: 'manual'})
      assert.equal(consent.status, 303)
      assert.match(consent.headers.get('location')!, /^\/login\?redirect=/)
    })

    it('refuses a consent without a CSRF token or with one from another session', async () => {
      const client = (await admin(h, 'POST', '/admin/clients', {client_name: 'fresh', redirect_uris: [REDIRECT], scope: 'mcp:echo'})).body
      const a = new Browser(h.publicUrl)
      const other = new Browser(h.publicUrl)
      assert.equal((await a.signIn(await a.get('/login'), EMAIL, PASSWORD)).status, 303)
      assert.equal((await other.signIn(await other.get('/login'), EMAIL, PASSWORD)).status, 303)
      const toConsent = await a.follow(await a.get(authorizeUrl(client.client_id, pkce().challenge)))
      const fields = formFields(toConsent.page.html, '/consent')
      const otherPage = await other.follow(await other.get(authorizeUrl(client.client_id, pkce().challenge)))
      const otherToken = formFields(otherPage.page.html, '/consent').get('csrf_token')![0]!

      const without = new Map(fields)
      without.delete('csrf_token')
      without.set('action', ['allow'])
      const r1 = await a.post('/consent', encodeForm(without))
      assert.equal(r1.status, 403)
      assert.match(r1.html, /CSRF validation failed/)
      const foreign = new Map(fields)
      foreign.set('csrf_token', [otherToken])
      foreign.set('action', ['allow'])
      assert.equal((await a.post('/consent', encodeForm(foreign))).status, 403)
      const anonymous = await new Browser(h.publicUrl).post('/consent', encodeForm({...Object.fromEntries(fields), action: 'allow'}))
      assert.equal(anonymous.status, 401)
      const none = await a.decide(toConsent.page, 'allow', [])
      assert.equal(none.status, 400)
      assert.match(none.html, /No Permissions Selected/)
      const more = await a.decide(toConsent.page, 'allow', ['mcp:echo', 'mcp:admin'])
      assert.equal(more.status, 400)
      assert.match(more.html, /Consent Error/)
      const denied = await a.decide(toConsent.page, 'deny')
      assert.equal(denied.status, 200)
      assert.match(denied.html, /Access Denied/)
      // A denied session cannot be approved afterwards.
      assert.equal((await a.decide(toConsent.page, 'allow')).status, 400)
      const missing = await a.get('/consent')
      assert.equal(missing.status, 400)
      assert.match(missing.html, /Missing Session/)
    })

    it('locks an identity out after 10 failed logins (429 with Retry-After), even for the right password', async () => {
      const email = 'lockme@example.test'
      assert.equal((await admin(h, 'POST', '/admin/users', {email, password: 'right-password'})).status, 201)
      const b = new Browser(h.publicUrl)
      const page = await b.get('/login')
      const attempt = (password: string): Promise<Page> => {
        const fields = formFields(page.html, '/login')
        fields.set('email', [email])
        fields.set('password', [password])
        return b.post('/login', encodeForm(fields))
      }
      for (let i = 0; i < 10; i++) {
        const r = await attempt(`wrong-${i}`)
        assert.equal(r.status, 422)
        assert.match(r.html, /Invalid email or password/)
      }
      const locked = await attempt('right-password')
      assert.equal(locked.status, 429)
      assert.match(locked.html, /Too many failed attempts/)
      assert.ok(Number(locked.headers.get('retry-after')) > 0)
      // Another identity is not affected.
      assert.equal((await b.signIn(await b.get('/login'), EMAIL, PASSWORD)).status, 303)
    })

    it('counts failed logins by the socket address: X-Forwarded-For neither spreads them out nor unlocks', async () => {
      // Mutant as-lockout-forwarded-for: with the address read from X-Forwarded-For, each guess
      // named a new address and the lockout never engaged.
      const email = 'spoofer@example.test'
      assert.equal((await admin(h, 'POST', '/admin/users', {email, password: 'right-password'})).status, 201)
      const b = new Browser(h.publicUrl)
      const page = await b.get('/login')
      const attempt = (password: string, forwardedFor: string): Promise<Page> => {
        const fields = formFields(page.html, '/login')
        fields.set('email', [email])
        fields.set('password', [password])
        return b.request('/login', {form: encodeForm(fields), headers: {'x-forwarded-for': forwardedFor}})
      }
      for (let i = 0; i < 10; i++) assert.equal((await attempt(`wrong-${i}`, `203.0.113.${i + 1}`)).status, 422)
      for (const forwardedFor of ['198.51.100.7', '127.0.0.1', '203.0.113.1, 10.0.0.1']) {
        const locked = await attempt('right-password', forwardedFor)
        assert.equal(locked.status, 429, forwardedFor)
        assert.match(locked.html, /Too many failed attempts/)
      }
    })

    it('refuses a disabled user at login and at the token endpoint', async () => {
      const email = 'grace@example.test'
      const u = (await admin(h, 'POST', '/admin/users', {email, password: PASSWORD})).body
      const b = new Browser(h.publicUrl)
      const {verifier, challenge} = pkce()
      const code = (await obtainCode(b, publicClient.client_id, challenge, {}, email)).searchParams.get('code')!

      assert.deepEqual((await admin(h, 'PATCH', `/admin/users/${u.id}/disable`)).body, {status: 'disabled'})
      assertProblem(await admin(h, 'PATCH', `/admin/users/${u.id}/disable`), 409, 'disable: invalid user state transition from disabled to disabled')
      assertOAuthError(await exchange(code, verifier), 400, 'invalid_grant')
      const c = new Browser(h.publicUrl)
      const refused = await c.signIn(await c.get('/login'), email, PASSWORD)
      assert.equal(refused.status, 422)
      assert.match(refused.html, /Invalid email or password/)

      assert.deepEqual((await admin(h, 'PATCH', `/admin/users/${u.id}/enable`)).body, {status: 'active'})
      assert.equal((await c.signIn(await c.get('/login'), email, PASSWORD)).status, 303)
    })

    it('refuses a disabled (suspended) client at authorize and at the token endpoint', async () => {
      const client = (await admin(h, 'POST', '/admin/clients', {client_name: 'soon suspended', redirect_uris: [REDIRECT]})).body
      const b = new Browser(h.publicUrl)
      const {verifier, challenge} = pkce()
      const code = (await obtainCode(b, client.client_id, challenge, {scope: 'mcp:echo'})).searchParams.get('code')!
      assert.equal((await admin(h, 'PATCH', `/admin/clients/${client.client_id}/suspend`)).status, 200)
      const page = await b.get(authorizeUrl(client.client_id, pkce().challenge))
      assert.equal(page.status, 403)
      assert.match(page.html, /Client Suspended/)
      assertOAuthError(await exchange(code, verifier, client.client_id), 401, 'invalid_client', 'client is suspended or revoked')
    })
  })

  describe('admin users and grants', () => {
    it('creates, lists, reads, patches users; never shows the password hash', async () => {
      const r = await admin(h, 'POST', '/admin/users', {email: 'Lin@Example.test', name: 'Lin', password: 'pw-lin-123', role: 'admin', extra: 1})
      assert.equal(r.status, 201, r.text)
      assert.deepEqual(Object.keys(r.body).sort(), ['created_at', 'email', 'id', 'name', 'provider', 'role', 'status'])
      assert.equal(r.body.role, 'admin')
      assert.equal(r.body.status, 'active')
      assert.equal(r.body.provider, 'local')
      assert.match(r.body.id, /^[\w-]{22}$/)
      assertProblem(await admin(h, 'POST', '/admin/users', {email: 'lin@example.test', password: 'x'}), 409, 'create user: user with this email already exists')
      assertProblem(await admin(h, 'POST', '/admin/users', {email: 'x@example.test'}), 400, 'email and password are required')
      assertProblem(await admin(h, 'POST', '/admin/users', {email: 'x@example.test', password: 'p'.repeat(73)}), 400, 'password must be at most 72 bytes')
      assertProblem(await admin(h, 'POST', '/admin/users', '{'), 400, 'invalid JSON body')
      const list = await admin(h, 'GET', '/admin/users')
      assert.ok(Array.isArray(list.body))
      assert.ok(list.body.some((u: any) => u.id === r.body.id))
      assert.ok(list.body.every((u: any) => !('password_hash' in u)))
      assert.equal((await admin(h, 'GET', `/admin/users/${r.body.id}`)).body.email, 'Lin@Example.test')
      assertProblem(await admin(h, 'GET', '/admin/users/nope'), 404, 'user not found')
      const patched = await admin(h, 'PATCH', `/admin/users/${r.body.id}`, {name: 'Lin B.'})
      assert.equal(patched.body.name, 'Lin B.')
      assertProblem(await admin(h, 'PATCH', `/admin/users/${r.body.id}`, {email: EMAIL}), 409, 'update user: user with this email already exists')
      assertProblem(await admin(h, 'PATCH', '/admin/users/nope/enable'), 404, 'get user: user not found')
      assertProblem(await admin(h, 'PATCH', `/admin/users/${r.body.id}/enable`), 409, 'enable: invalid user state transition from active to active')
      assert.equal((await admin(h, 'DELETE', `/admin/users/${r.body.id}`)).status, 204)
      assertProblem(await admin(h, 'GET', `/admin/users/${r.body.id}`), 404, 'user not found')
      const unauth = await fetch(`${h.adminUrl}/admin/users`)
      assert.equal(unauth.status, 401)
    })

    it('lists a user\'s tokens and consent grants; revoking consent or forcing logout ends the session\'s tokens', async () => {
      const email = 'kim@example.test'
      const u = (await admin(h, 'POST', '/admin/users', {email, password: PASSWORD})).body
      const b = new Browser(h.publicUrl)
      const {verifier, challenge} = pkce()
      const t = await exchange((await obtainCode(b, publicClient.client_id, challenge, {}, email)).searchParams.get('code')!, verifier)
      assert.equal(t.status, 200, t.text)

      const grants = (await admin(h, 'GET', `/admin/users/${u.id}/grants`)).body
      assert.deepEqual(Object.keys(grants).sort(), ['broker_grants', 'consent_grants'])
      assert.equal(grants.consent_grants.length, 1)
      const g = grants.consent_grants[0]
      assert.deepEqual({user_id: g.user_id, client_id: g.client_id, resource_id: g.resource_id, scopes: g.scopes}, {user_id: u.id, client_id: publicClient.client_id, resource_id: resource.id, scopes: ['mcp:echo']})
      const tokens = (await admin(h, 'GET', `/admin/users/${u.id}/tokens`)).body
      assert.equal(tokens.total, 1)
      assert.equal(tokens.tokens[0].status, 'active')
      assert.equal(tokens.tokens[0].type, 'authorization_code')
      assertProblem(await admin(h, 'DELETE', `/admin/users/${u.id}`), 409, 'user has active tokens — use force=true to revoke and delete')

      assert.equal((await admin(h, 'DELETE', `/admin/grants/consent/${g.id}`)).status, 204)
      assertOAuthError(await refresh(t.body.refresh_token), 400, 'invalid_grant', 'token family revoked due to reuse detection')
      assert.ok((await admin(h, 'GET', `/admin/users/${u.id}/grants`)).body.consent_grants[0].revoked_at)
      assertProblem(await admin(h, 'DELETE', '/admin/grants/consent/nope'), 404, 'consent grant not found')
      // Consent revoked: the next authorization asks again.
      const again = await b.follow(await b.get(authorizeUrl(publicClient.client_id, pkce().challenge)))
      assert.match(again.page.url, /\/consent\?session_id=/)
      const p2 = pkce()
      const code2 = (await b.follow(await b.decide((await b.follow(await b.get(authorizeUrl(publicClient.client_id, p2.challenge)))).page, 'allow'))).left!.searchParams.get('code')!
      const t2 = await exchange(code2, p2.verifier)
      assert.deepEqual((await admin(h, 'DELETE', `/admin/users/${u.id}/tokens`)).body, {user_id: u.id, tokens_revoked: 1})
      assertOAuthError(await refresh(t2.body.refresh_token), 400, 'invalid_grant')
      assert.equal((await admin(h, 'DELETE', `/admin/users/${u.id}`)).status, 204)
    })
  })
})

describe('authserver CORS for browser-based MCP clients', () => {
  it('is off by default and, when configured, covers discovery, token and registration but not the pages', async () => {
    const plain = await start()
    const h = await start({corsOrigins: ['http://localhost:6274']})
    try {
      const origin = {origin: 'http://localhost:6274'}
      const none = await fetch(`${plain.publicUrl}/.well-known/oauth-authorization-server`, {headers: origin})
      assert.equal(none.headers.get('access-control-allow-origin'), null)
      const md = await fetch(`${h.publicUrl}/.well-known/oauth-authorization-server`, {headers: origin})
      assert.equal(md.headers.get('access-control-allow-origin'), 'http://localhost:6274')
      assert.equal(md.headers.get('vary'), 'Origin')
      const pre = await fetch(`${h.publicUrl}/oauth/token`, {method: 'OPTIONS', headers: {...origin, 'access-control-request-method': 'POST'}})
      assert.equal(pre.status, 204)
      assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS')
      assert.match(pre.headers.get('access-control-allow-headers')!, /DPoP/)
      const other = await fetch(`${h.publicUrl}/oauth/register`, {method: 'OPTIONS', headers: {origin: 'https://evil.example'}})
      assert.equal(other.headers.get('access-control-allow-origin'), null)
      const login = await fetch(`${h.publicUrl}/login`, {headers: origin})
      assert.equal(login.headers.get('access-control-allow-origin'), null)
    } finally {
      await plain.stop()
      await h.stop()
    }
  })
})
