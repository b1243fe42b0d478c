// `ap-demo login`'s steps in-process against a stand-in authorization server of our own
// (test/login/stand-in-as.ts), for what the embedded stack does not do: the metadata fallbacks,
// RFC 9207 iss, a denial sent back, exact redirect matching, CIMD, pre-registered clients, and
// the bad input a sign-in must refuse.
import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {after, describe, it} from 'node:test'

import {toCliError} from '../../src/cli/error-map.js'
import {Environment} from '../../src/config/settings.js'
import {ConfigStore} from '../../src/config/store.js'
import {ApDemoError} from '../../src/errors.js'
import {createContext, type WalkthroughContext} from '../../src/walkthrough/context.js'
import {signIn, type SignInRequest} from '../../src/walkthrough/login.js'
import {freshLogin, signOut} from '../../src/walkthrough/user-session.js'
import {approveInBrowser, StandInAs, type StandInOptions} from './stand-in-as.js'

const noEnv = new Environment({}, '/nonexistent')
const disposers: Array<() => unknown> = []
after(async () => {
  for (const d of disposers.reverse()) await d()
})

async function standIn(options: StandInOptions = {}): Promise<StandInAs> {
  const as = await new StandInAs(options).start()
  disposers.push(() => as.stop())
  return as
}

function contextFor(as: StandInAs, store?: ConfigStore): WalkthroughContext {
  let s = store
  if (!s) {
    const temporary = ConfigStore.temporary()
    disposers.push(temporary.dispose)
    s = temporary.store
  }
  return createContext({issuer: 'http://127.0.0.1:9', adminUrl: 'http://127.0.0.1:9', mcpUrl: as.mcpUrl, resource: as.mcpUrl}, {store: s, profile: 'test', requestTimeoutMs: 5000})
}

/** A sign-in whose "browser" approves at the stand-in (or does `drive` instead). */
function request(overrides: Partial<SignInRequest> = {}, drive: (url: string) => Promise<unknown> = approveInBrowser, timeoutMs = 10_000): SignInRequest {
  return {
    env: noEnv,
    browser: {
      noBrowser: true,
      timeoutMs,
      onAuthorizationUrl: (url) => {
        void drive(url).catch(() => {})
      },
    },
    ...overrides,
  }
}

async function refusal(promise: Promise<unknown>): Promise<ApDemoError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof ApDemoError, `expected an ApDemoError, got ${(error as Error)?.stack ?? String(error)}`)
    return error
  }
  assert.fail('expected the sign-in to be refused')
}

async function holdPort(): Promise<{port: number; release: () => Promise<void>}> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  return {port, release: () => new Promise((resolve) => server.close(() => resolve()))}
}

describe('login against a stand-in authorization server', () => {
  it('finds the metadata where the spec says, in its order: RFC 8414, OpenID path insertion, OpenID path appending', async () => {
    for (const [metadataAt, issuerPath, source] of [
      ['oauth', '', 'oauth-authorization-server'],
      ['oidc', '', 'openid-configuration'],
      ['oauth', '/tenant1', 'oauth-authorization-server'],
      ['oidc', '/tenant1', 'openid-configuration'],
      ['oidc-append', '/tenant1', 'openid-configuration (appended)'],
    ] as const) {
      const as = await standIn({metadataAt, issuerPath})
      const result = await signIn(contextFor(as), request())
      assert.equal(result.target.server.source, source, `${metadataAt} ${issuerPath}`)
      assert.equal(result.login.issuer, as.issuer)
      const asked = as.requests.filter((r) => r.path.includes('.well-known/o')).map((r) => r.path)
      // Nothing is asked at the root when the issuer has a path (the suite's metadata-var2 trap).
      if (issuerPath) assert.ok(!asked.includes('/.well-known/oauth-authorization-server'), JSON.stringify(asked))
    }
  })

  it('reads the resource metadata at the root well-known URL when the challenge names none and the path-based one is missing', async () => {
    const as = await standIn({prm: 'root'})
    const result = await signIn(contextFor(as), request())
    assert.deepEqual(result.target.resourceMetadata, {url: `${as.base}/.well-known/oauth-protected-resource`, via: 'well-known'})
    const prmPaths = as.requests.filter((r) => r.path.startsWith('/.well-known/oauth-protected-resource')).map((r) => r.path)
    assert.deepEqual(prmPaths, ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'])
  })

  it('falls back as MCP 2025-03-26 did for a server with no resource metadata: metadata at its origin, else its default endpoints', async () => {
    const withMetadata = await standIn({prm: 'none'})
    const a = await signIn(contextFor(withMetadata), request())
    assert.equal(a.target.server.source, '2025-03-26 metadata at the origin')
    assert.equal(a.login.resource, withMetadata.mcpUrl, 'the resource is the MCP URL itself')
    assert.equal(withMetadata.recorded('/authorize')[0]!.query.resource, withMetadata.mcpUrl)

    const bare = await standIn({prm: 'none', metadataAt: 'none'})
    const b = await signIn(contextFor(bare), request())
    assert.equal(b.target.server.source, '2025-03-26 default endpoints')
    assert.equal(bare.recorded('/register').length, 1)
    assert.equal(bare.recorded('/token').length, 1)
  })

  it('sends PKCE S256, a random state and the resource, the scope of the challenge; the resource again with the code', async () => {
    const as = await standIn({mcpScope: 'files:read files:write'})
    const result = await signIn(contextFor(as), request())
    const [auth] = as.recorded('/authorize')
    assert.equal(auth!.query.code_challenge_method, 'S256')
    assert.match(auth!.query.code_challenge!, /^[\w-]{43}$/)
    assert.match(auth!.query.state!, /^[\w-]{43}$/)
    assert.equal(auth!.query.resource, as.resource)
    assert.equal(auth!.query.scope, 'files:read files:write')
    assert.match(auth!.query.redirect_uri!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    const [token] = as.recorded('/token')
    assert.equal(token!.form.resource, as.resource)
    assert.equal(token!.form.redirect_uri, auth!.query.redirect_uri)
    assert.match(token!.form.code_verifier!, /^[\w-]{43,128}$/)
    assert.equal(result.login.sub, 'user-ada')
    assert.equal(result.target.scopeSource, 'challenge')

    const none = await standIn()
    await signIn(contextFor(none), request())
    assert.ok(!('scope' in none.recorded('/authorize')[0]!.query), 'no scope parameter when none is named')
  })

  it('refuses malformed metadata before anything is sent to it: a non-URI authorization server, an endpoint that is no URL, an issuer with control characters', async () => {
    const odd = await standIn({prmOverrides: {authorization_servers: ['http://127.0.0.1:9/\u001b[31mred']}})
    const a = await refusal(signIn(contextFor(odd), request()))
    assert.equal(a.code, 'resource_metadata_invalid')
    assert.doesNotMatch(a.message, /\u001b/)
    const badEndpoint = await standIn({metadataOverrides: {authorization_endpoint: 'not a url'}})
    const b = await refusal(signIn(contextFor(badEndpoint), request()))
    assert.equal(b.code, 'as_metadata_invalid')
    assert.equal(toCliError(b).exitCode, 1)
    assert.equal(badEndpoint.recorded('/register').length, 0)
    const legacy = await standIn({prm: 'none', metadataOverrides: {issuer: 'http://x/\u0007'}})
    const c = await refusal(signIn(contextFor(legacy), request()))
    assert.equal(c.code, 'as_metadata_invalid')
    assert.doesNotMatch(c.message, /\u0007/)
  })

  it('refuses a server that does not announce S256 PKCE, before any authorization request', async () => {
    const as = await standIn({pkceMethods: null})
    const error = await refusal(signIn(contextFor(as), request()))
    assert.equal(error.code, 'no_pkce')
    assert.equal(as.recorded('/authorize').length, 0)
    assert.equal(as.recorded('/register').length, 0)
  })

  it('checks the RFC 9207 iss: the issuer passes; another one, or none when announced, is refused and nothing is exchanged', async () => {
    const ok = await standIn({iss: 'correct'})
    await signIn(contextFor(ok), request())
    for (const [iss, code] of [
      ['wrong', 'iss_mismatch'],
      ['announced-missing', 'iss_missing'],
    ] as const) {
      const as = await standIn({iss})
      const error = await refusal(signIn(contextFor(as), request()))
      assert.equal(error.code, code)
      assert.equal(toCliError(error).exitCode, 1)
      assert.equal(as.recorded('/token').length, 0, 'no code exchange after a refused response')
    }
  })

  it('refuses a response whose state is not the request\'s (RFC 6749 §10.12), and exchanges nothing', async () => {
    const as = await standIn({stateOverride: 'forged-state'})
    const error = await refusal(signIn(contextFor(as), request()))
    assert.equal(error.code, 'state_mismatch')
    assert.match(error.hint!, /forged/)
    assert.equal(as.recorded('/token').length, 0)
  })

  it('says so clearly when the user denies: access_denied, exit 3', async () => {
    const as = await standIn({deny: true})
    const error = await refusal(signIn(contextFor(as), request()))
    assert.equal(error.code, 'access_denied')
    assert.match(error.message, /denied at http:\/\/127\.0\.0\.1:\d+ \(the user said no\)/)
    assert.equal(toCliError(error).exitCode, 3)
  })

  it('gives up when the browser never comes back (timeout), naming --login-timeout', async () => {
    const as = await standIn()
    const started = Date.now()
    const error = await refusal(signIn(contextFor(as), request({}, async () => {}, 1500)))
    assert.equal(error.code, 'sign_in_timeout')
    assert.match(error.hint!, /--login-timeout/)
    assert.equal(toCliError(error).exitCode, 4)
    assert.ok(Date.now() - started < 8000)
  })

  it('a --callback-port already in use is a conflict (exit 6) naming the flag; nothing is registered', async () => {
    const as = await standIn()
    const held = await holdPort()
    try {
      const r = request()
      r.browser.callbackPort = held.port
      const error = await refusal(signIn(contextFor(as), r))
      assert.equal(error.code, 'callback_port_in_use')
      assert.match(error.hint!, /--callback-port/)
      assert.equal(toCliError(error).exitCode, 6)
      assert.equal(as.recorded('/register').length, 0)
    } finally {
      await held.release()
    }
  })

  it('uses the registered client again on the same port; a stale one whose port changed is registered anew, once', async () => {
    const as = await standIn({exactRedirect: true})
    const ctx = contextFor(as)
    const first = await signIn(ctx, request())
    assert.equal(first.registration, 'registered')
    const port = Number(new URL(first.client.redirectUris[0]!).port)

    const again = await signIn(ctx, request())
    assert.equal(again.registration, 'reused')
    assert.equal(again.client.clientId, first.client.clientId, 'the registered port was free: same client, same redirect URI')
    assert.equal(as.recorded('/register').length, 1)

    const held = await holdPort()
    const blocker = port === held.port ? undefined : await new Promise<{close: () => void}>((resolve) => {
      const s = createServer()
      s.listen(port, '127.0.0.1', () => resolve({close: () => s.close()}))
    })
    try {
      const stale = await signIn(ctx, request())
      assert.equal(stale.reregistered, true)
      assert.notEqual(stale.client.clientId, first.client.clientId)
      assert.equal(as.recorded('/register').length, 2)
      assert.equal(ctx.store.getProfile('test').loginClients?.[as.issuer]?.clientId, stale.client.clientId, 'the new client is kept')
    } finally {
      blocker?.close()
      await held.release()
    }
  })

  it('a server that refuses the new client too ends the sign-in at once: one re-registration, never a loop', async () => {
    const as = await standIn({exactRedirect: true})
    const ctx = contextFor(as)
    const first = await signIn(ctx, request())
    const port = Number(new URL(first.client.redirectUris[0]!).port)
    as.options.refuseAuthorization = true
    const blocker = await new Promise<{close: () => void}>((resolve) => {
      const s = createServer()
      s.listen(port, '127.0.0.1', () => resolve({close: () => s.close()}))
    })
    try {
      const error = await refusal(signIn(ctx, request()))
      assert.equal(error.code, 'authorization_refused_page')
      assert.match(error.hint!, /registered just now/)
      assert.equal(as.recorded('/register').length, 2, 'exactly one new registration')
    } finally {
      blocker.close()
    }
  })

  it('uses a Client ID Metadata Document when the server supports them and one is set; else registers', async () => {
    const cimd = await standIn({cimd: true})
    const url = 'https://client.example/ap-demo/client.json'
    const result = await signIn(contextFor(cimd), request({clientMetadataUrl: url}))
    assert.equal(result.registration, 'cimd')
    assert.equal(cimd.recorded('/authorize')[0]!.query.client_id, url)
    assert.equal(cimd.recorded('/register').length, 0)
    assert.equal(cimd.recorded('/token')[0]!.form.client_id, url)

    const plain = await standIn()
    const registered = await signIn(contextFor(plain), request({clientMetadataUrl: url}))
    assert.equal(registered.registration, 'registered', 'a server without CIMD support gets a registration')

    const bad = await refusal(signIn(contextFor(cimd), request({clientMetadataUrl: 'http://client.example/x.json'})))
    assert.equal(bad.code, 'usage')
    assert.match(bad.message, /https URL with a path/)
  })

  it('signs in as a pre-registered client, authenticating as the server announces (client_secret_post, client_secret_basic, none)', async () => {
    for (const method of ['client_secret_post', 'client_secret_basic', 'none'] as const) {
      const as = await standIn({tokenEndpointAuthMethods: [method]})
      as.addClient({id: 'pre-registered', ...(method === 'none' ? {} : {secret: 'pre-secret'}), method, redirectUris: ['http://127.0.0.1/callback']})
      const r = request({clientId: 'pre-registered', ...(method === 'none' ? {} : {clientSecret: 'pre-secret'})})
      const result = await signIn(contextFor(as), r)
      assert.equal(result.registration, 'given')
      assert.equal(result.client.authMethod, method)
      const [token] = as.recorded('/token')
      assert.equal(token!.form.client_secret, method === 'client_secret_post' ? 'pre-secret' : undefined, method)
      assert.equal(Boolean(token!.headers.authorization), method === 'client_secret_basic', method)
      assert.equal(as.recorded('/register').length, 0)
    }
  })

  it('refreshes a token that expires within a minute, keeping the rotated refresh token', async () => {
    const as = await standIn({tokenTtlSeconds: 30})
    const ctx = contextFor(as)
    const {login} = await signIn(ctx, request())
    const fresh = await freshLogin(ctx, login)
    assert.equal(fresh.refreshed, true)
    assert.notEqual(fresh.login.accessToken, login.accessToken)
    assert.notEqual(fresh.login.refreshToken, login.refreshToken)
    assert.equal(as.recorded('/token').at(-1)!.form.grant_type, 'refresh_token')
    assert.equal(as.recorded('/token').at(-1)!.form.resource, as.resource)
    const kept = Object.values(ctx.store.getProfile('test').logins ?? {})
    assert.equal(kept.length, 1)
    assert.equal(kept[0]!.refreshToken, fresh.login.refreshToken)
  })

  it('logout revokes the refresh token and forgets the sign-in; a server that refuses or cannot revoke is reported, and it is forgotten anyway', async () => {
    for (const revocation of ['ok', 'refuse', 'absent'] as const) {
      const as = await standIn({revocation})
      const ctx = contextFor(as)
      const {login} = await signIn(ctx, request())
      const [outcome] = await signOut(ctx, {})
      assert.equal(outcome!.revocation.revoked, revocation === 'ok', revocation)
      if (revocation === 'ok') assert.equal(as.recorded('/revoke')[0]!.form.token, login.refreshToken)
      if (revocation === 'refuse') assert.match((outcome!.revocation as {summary: string}).summary, /401 invalid_client/)
      if (revocation === 'absent') assert.equal((outcome!.revocation as {reason: string}).reason, 'no_endpoint')
      assert.equal(ctx.store.getProfile('test').logins, undefined, `${revocation}: forgotten`)
      assert.deepEqual(await signOut(ctx, {}), [], 'a second logout has nothing to do')
    }
  })
})
