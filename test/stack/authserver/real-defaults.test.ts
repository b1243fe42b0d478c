import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import Database from 'better-sqlite3'
import type {AuthServerHandle, AuthServerOptions} from '../../../src/stack/types.js'
import {Browser} from './browser.js'
import {admin, assertOAuthError, assertRefusedAtStart, basic, decodeJwt, form, post, start} from './helpers.js'

// Issue 20: the browser flow's defaults as the real server has them. G1 (scope required at
// /oauth/authorize), G3 (user-token lifetimes), G4 (a public client revokes its refresh token) and
// B4 (a non-localhost issuer needs a session secret and secure cookies).

const RESOURCE = 'http://localhost:8080/mcp'
const REDIRECT = 'http://127.0.0.1:33419/callback'
const EMAIL = 'defaults@example.test'
const PASSWORD = 'defaults password 0123'

function pkce(): {verifier: string; challenge: string} {
  const verifier = randomBytes(32).toString('base64url')
  return {verifier, challenge: createHash('sha256').update(verifier).digest('base64url')}
}

function authorizeUrl(clientId: string, challenge: string, extra: Record<string, string | undefined> = {}): string {
  const params: Record<string, string> = {response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'st', resource: RESOURCE, scope: 'mcp:echo'}
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete params[k]
    else params[k] = v
  }
  return `/oauth/authorize?${new URLSearchParams(params)}`
}

async function setUp(options: Partial<AuthServerOptions> = {}): Promise<{h: AuthServerHandle; publicClient: any; confidential: any}> {
  const h = await start(options)
  assert.equal((await admin(h, 'POST', '/admin/resources', {slug: 'demo-mcp', uri: RESOURCE, backend_kind: 'mint', scopes: [{name: 'mcp:echo'}, {name: 'mcp:admin'}]})).status, 201)
  assert.equal((await admin(h, 'POST', '/admin/users', {email: EMAIL, password: PASSWORD})).status, 201)
  const publicClient = (await admin(h, 'POST', '/admin/clients', {client_name: 'public', redirect_uris: [REDIRECT]})).body
  const confidential = (await admin(h, 'POST', '/admin/clients', {client_name: 'confidential', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'mcp:echo'})).body
  return {h, publicClient, confidential}
}

/** Signs in, consents, and exchanges the code; returns the token response. */
async function userTokens(h: AuthServerHandle, clientId: string, headers: Record<string, string> = {}): Promise<any> {
  const b = new Browser(h.publicUrl)
  const {verifier, challenge} = pkce()
  let {page, left} = await b.follow(await b.get(authorizeUrl(clientId, challenge)))
  if (!left) ({page, left} = await b.follow(await b.signIn(page, EMAIL, PASSWORD)))
  if (!left) ({left} = await b.follow(await b.decide(page, 'allow')))
  assert.ok(left, page.html)
  const t = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'authorization_code', code: left.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier, ...(headers.authorization ? {} : {client_id: clientId})}), headers)
  assert.equal(t.status, 200, t.text)
  return t.body
}

describe('G1: /oauth/authorize without scope (oauth.require_scope)', () => {
  it('is refused by default, at the client, with the real server\'s text, before any login', async () => {
    const {h, publicClient} = await setUp()
    try {
      for (const scope of [undefined, '', ' ']) {
        const res = await new Browser(h.publicUrl).get(authorizeUrl(publicClient.client_id, pkce().challenge, {scope}))
        assert.equal(res.status, 303, JSON.stringify(scope))
        const to = new URL(res.headers.get('location')!)
        assert.equal(`${to.origin}${to.pathname}`, REDIRECT)
        assert.equal(to.searchParams.get('error'), 'invalid_scope')
        assert.equal(to.searchParams.get('error_description'), 'the requested scope is invalid or not allowed: scope parameter is required (oauth.require_scope=true)')
        assert.equal(to.searchParams.get('state'), 'st')
      }
    } finally {
      await h.stop()
    }
  })

  it('with requireScope: false, the resource\'s scopes (within the client\'s ceiling) are proposed', async () => {
    const {h, publicClient, confidential} = await setUp({requireScope: false})
    try {
      const b = new Browser(h.publicUrl)
      let {page} = await b.follow(await b.get(authorizeUrl(publicClient.client_id, pkce().challenge, {scope: undefined})))
      ;({page} = await b.follow(await b.signIn(page, EMAIL, PASSWORD)))
      assert.match(page.url, /\/consent\?/)
      assert.match(page.html, /value="mcp:echo"/)
      assert.match(page.html, /value="mcp:admin"/)
      const narrowed = await b.follow(await b.get(authorizeUrl(confidential.client_id, pkce().challenge, {scope: undefined})))
      assert.match(narrowed.page.html, /value="mcp:echo"/)
      assert.doesNotMatch(narrowed.page.html, /value="mcp:admin"/)
    } finally {
      await h.stop()
    }
  })
})

describe('G3: token lifetimes', () => {
  let dataDir: string
  let h: AuthServerHandle
  let publicClient: any
  let confidential: any
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ap-demo-lifetimes-'))
    ;({h, publicClient, confidential} = await setUp({dataDir, tokenTtlSeconds: 1200}))
  })
  after(async () => {
    await h.stop()
    rmSync(dataDir, {recursive: true, force: true})
  })

  it('user tokens live 900 s and refresh tokens 7 days by default; tokenTtlSeconds governs client_credentials only', async () => {
    const t = await userTokens(h, publicClient.client_id)
    assert.equal(t.expires_in, 900)
    const claims = decodeJwt(t.access_token).payload
    assert.equal(claims.exp - claims.iat, 900)
    const r = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: publicClient.client_id}))
    assert.equal(r.body.expires_in, 900)
    const db = new Database(join(dataDir, 'authserver.db'), {readonly: true})
    try {
      const lifetimes = db.prepare('SELECT expires_at - created_at AS life FROM refresh_tokens').pluck().all() as number[]
      assert.ok(lifetimes.length >= 2)
      for (const life of lifetimes) assert.equal(life, 7 * 86_400)
    } finally {
      db.close()
    }
    const cc = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'client_credentials', resource: RESOURCE}), {authorization: basic(confidential.client_id, confidential.client_secret)})
    assert.equal(cc.status, 200, cc.text)
    assert.equal(cc.body.expires_in, 1200)
  })

  it('userTokenTtlSeconds and refreshTokenTtlSeconds change them, and an expired refresh token is invalid_grant', async () => {
    const short = await setUp({userTokenTtlSeconds: 120, refreshTokenTtlSeconds: 1})
    try {
      const t = await userTokens(short.h, short.publicClient.client_id)
      assert.equal(t.expires_in, 120)
      await new Promise((resolve) => setTimeout(resolve, 2100))
      assertOAuthError(await post(`${short.h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: short.publicClient.client_id})), 400, 'invalid_grant')
    } finally {
      await short.h.stop()
    }
    for (const bad of [{userTokenTtlSeconds: 0}, {userTokenTtlSeconds: 86_401}, {refreshTokenTtlSeconds: 90 * 86_400 + 1}, {refreshTokenTtlSeconds: 1.5}]) {
      await assertRefusedAtStart(start(bad), /must be an integer from 1 to \d+ seconds/)
    }
  })
})

describe('G4: revocation by a public client (RFC 7009)', () => {
  let h: AuthServerHandle
  let publicClient: any
  let confidential: any
  let other: any
  before(async () => {
    ;({h, publicClient, confidential} = await setUp())
    other = (await admin(h, 'POST', '/admin/clients', {client_name: 'other public', redirect_uris: [REDIRECT]})).body
  })
  after(() => h.stop())

  const introspect = (token: string) => post(`${h.publicUrl}/oauth/introspect`, form({token}), {authorization: basic(confidential.client_id, confidential.client_secret)})
  const refresh = (token: string, clientId: string) => post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: token, client_id: clientId}))

  it('a public client revokes its refresh token with client_id alone; the whole family goes', async () => {
    const t = await userTokens(h, publicClient.client_id)
    const rotated = await refresh(t.refresh_token, publicClient.client_id)
    assert.equal(rotated.status, 200, rotated.text)
    const res = await post(`${h.publicUrl}/oauth/revoke`, form({token: rotated.body.refresh_token, token_type_hint: 'refresh_token', client_id: publicClient.client_id}))
    assert.equal(res.status, 200, res.text)
    assert.equal(res.text, '')
    assertOAuthError(await refresh(rotated.body.refresh_token, publicClient.client_id), 400, 'invalid_grant', 'token family revoked due to reuse detection')
    // The family's access tokens are revoked with it: the admin API lists the family as revoked.
    const userId = decodeJwt(t.access_token).payload.sub
    const families = (await admin(h, 'GET', `/admin/users/${userId}/tokens`)).body.tokens
    assert.ok(families.length > 0 && families.every((f: {client_id: string; status: string}) => f.client_id !== publicClient.client_id || f.status === 'revoked'), JSON.stringify(families))
  })

  it('another client cannot revoke it (200, nothing happens); a confidential client needs its secret; unknown or suspended clients are refused', async () => {
    const t = await userTokens(h, publicClient.client_id)
    assert.equal((await post(`${h.publicUrl}/oauth/revoke`, form({token: t.refresh_token, client_id: other.client_id}))).status, 200)
    assert.equal((await post(`${h.publicUrl}/oauth/revoke`, form({token: t.refresh_token}), {authorization: basic(confidential.client_id, confidential.client_secret)})).status, 200)
    const still = await refresh(t.refresh_token, publicClient.client_id)
    assert.equal(still.status, 200, still.text)

    assertOAuthError(await post(`${h.publicUrl}/oauth/revoke`, form({token: still.body.refresh_token})), 401, 'invalid_client')
    assertOAuthError(await post(`${h.publicUrl}/oauth/revoke`, form({token: still.body.refresh_token, client_id: 'no-such-client'})), 401, 'invalid_client')
    assertOAuthError(await post(`${h.publicUrl}/oauth/revoke`, form({token: 'x', client_id: confidential.client_id})), 401, 'invalid_client')
    assertOAuthError(await post(`${h.publicUrl}/oauth/revoke`, form({token: 'x'}), {authorization: basic(confidential.client_id, 'wrong')}), 401, 'invalid_client')

    // A confidential client revokes its own refresh token with its secret.
    const c = await userTokens(h, confidential.client_id, {authorization: basic(confidential.client_id, confidential.client_secret)})
    assert.equal((await post(`${h.publicUrl}/oauth/revoke`, form({token: c.refresh_token}), {authorization: basic(confidential.client_id, confidential.client_secret)})).status, 200)
    assert.deepEqual((await introspect(c.access_token)).body, {active: false})

    const suspended = (await admin(h, 'POST', '/admin/clients', {client_name: 'to suspend', redirect_uris: [REDIRECT]})).body
    const s = await userTokens(h, suspended.client_id)
    assert.equal((await admin(h, 'PATCH', `/admin/clients/${suspended.client_id}/suspend`)).status, 200)
    assertOAuthError(await post(`${h.publicUrl}/oauth/revoke`, form({token: s.refresh_token, client_id: suspended.client_id})), 401, 'invalid_client', 'client is suspended or revoked')
  })

  it('the metadata offers none for revocation, and still not for introspection', async () => {
    const m = (await (await fetch(`${h.publicUrl}/.well-known/oauth-authorization-server`)).json()) as any
    assert.deepEqual(m.revocation_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post'])
    assert.deepEqual(m.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post'])
    assertOAuthError(await post(`${h.publicUrl}/oauth/introspect`, form({token: 'x', client_id: publicClient.client_id})), 401, 'invalid_client')
  })
})

describe('B4: an issuer that is not localhost needs a session secret and secure cookies', () => {
  const SECRET = 'a-session-secret-0123456789abcdef'

  it('refuses to start without them, with every one of the real server\'s reasons', async () => {
    for (const issuer of ['https://auth.example.com', 'http://authserver:9000', 'http://localhost.example.com']) {
      await assertRefusedAtStart(start({issuer}), /^session\.secret is required when server\.issuer is not localhost; session\.secure must be true when server\.issuer is not localhost$/)
      await assertRefusedAtStart(start({issuer, session: {secret: SECRET}}), /^session\.secure must be true when server\.issuer is not localhost$/)
      await assertRefusedAtStart(start({issuer, session: {secure: true}}), /^session\.secret is required when server\.issuer is not localhost$/)
      await assertRefusedAtStart(start({issuer, session: {secret: 'short-secret', secure: true}}), /^session\.secret must be at least 16 characters in production$/)
    }
    // A weak secret is refused at any issuer; localhost needs neither.
    await assertRefusedAtStart(start({session: {secret: 'changeme'}}), /^session\.secret is a known weak\/default value/)
    const local = await start()
    await local.stop()
  })

  it('with both, it starts, and its cookies are Secure', async () => {
    const opts = {issuer: 'https://auth.example.com', session: {secret: SECRET, secure: true}}
    const {h} = await setUp(opts)
    try {
      const b = new Browser(h.publicUrl)
      const login = await b.get('/login')
      assert.match(login.headers.getSetCookie().join('\n'), /^authserver_login_nonce=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=43200$/m)
      const signedIn = await b.signIn(login, EMAIL, PASSWORD)
      assert.equal(signedIn.status, 303)
      assert.match(signedIn.headers.getSetCookie().join('\n'), /^authserver_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=86400$/m)
      const logout = await b.post('/logout', '')
      assert.match(logout.headers.getSetCookie().join('\n'), /authserver_session=; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=0/)
    } finally {
      await h.stop()
    }
    // Without a secret the cookies are signed by a per-data-directory key, and are not Secure.
    const {h: plain} = await setUp()
    try {
      const login = await new Browser(plain.publicUrl).get('/login')
      assert.doesNotMatch(login.headers.getSetCookie().join('\n'), /Secure/)
    } finally {
      await plain.stop()
    }
  })
})
