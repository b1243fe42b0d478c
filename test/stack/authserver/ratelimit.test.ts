import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {adminKeyProblem, AuthServerConfigError, isLocalhostIssuer, sessionProblems} from '../../../src/stack/authserver/domain/config.js'
import {AuthLockout, DEFAULT_RATE_LIMIT, RateLimiter, rateLimitSettings, retryAfterSeconds} from '../../../src/stack/authserver/services/ratelimit.js'
import {MAX_AUTH_FAIL_WINDOW_SECONDS, MAX_AUTH_LOCKOUT_SECONDS, startStack} from '../../../src/stack/index.js'
import {Browser, encodeForm, formFields} from './browser.js'
import {ADMIN_KEY, admin, assertOAuthError, assertRefusedAtStart, start} from './helpers.js'

describe('rate limiting', () => {
  it('defaults are the real server\'s: on, 100 requests/s, burst 200; lockout 10 failures / 600 s -> 900 s', () => {
    assert.deepEqual(DEFAULT_RATE_LIMIT, {enabled: true, requestsPerSecond: 100, burst: 200, authFailMax: 10, authFailWindowSeconds: 600, authLockoutSeconds: 900})
    assert.deepEqual(rateLimitSettings(undefined), DEFAULT_RATE_LIMIT)
  })

  it('token bucket: burst first, then refills at the rate (per address)', () => {
    const rl = new RateLimiter(100, 200)
    const t0 = 1_000_000
    for (let i = 0; i < 200; i++) assert.ok(rl.allow('a', t0), `request ${i}`)
    assert.equal(rl.allow('a', t0), false)
    assert.ok(rl.allow('b', t0), 'another address has its own bucket')
    assert.ok(rl.allow('a', t0 + 10), 'one token back after 10 ms at 100/s')
    assert.equal(rl.allow('a', t0 + 10), false)
    for (let i = 0; i < 200; i++) assert.ok(rl.allow('a', t0 + 60_000))
    assert.equal(rl.allow('a', t0 + 60_000), false, 'never more than the burst')
  })

  it('refuses what the real server refuses at boot', () => {
    assert.throws(() => rateLimitSettings({requestsPerSecond: 0}), /requests_per_second must be greater than zero/)
    assert.throws(() => rateLimitSettings({burst: 0}), /burst must be greater than zero/)
    assert.doesNotThrow(() => rateLimitSettings({enabled: false, requestsPerSecond: 0, burst: 0}))
    assert.throws(() => rateLimitSettings({authLockoutSeconds: 0}), /auth_lockout must be greater than zero/)
    assert.doesNotThrow(() => rateLimitSettings({authFailMax: 0, authLockoutSeconds: 0, authFailWindowSeconds: 0}))
  })

  it('bounds the lockout and the failure window (7 days): a huge value refuses to start instead of failing a login later', async () => {
    assert.doesNotThrow(() => rateLimitSettings({authLockoutSeconds: MAX_AUTH_LOCKOUT_SECONDS, authFailWindowSeconds: MAX_AUTH_FAIL_WINDOW_SECONDS}))
    assert.throws(() => rateLimitSettings({authLockoutSeconds: MAX_AUTH_LOCKOUT_SECONDS + 1}), /rate_limit\.auth_lockout must be at most 604800 seconds \(7 days\), got 604801$/)
    assert.throws(() => rateLimitSettings({authFailWindowSeconds: 99_999_999_999_999}), /rate_limit\.auth_fail_window must be at most 604800 seconds \(7 days\), got 99999999999999/)
    await assertRefusedAtStart(startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {authLockoutSeconds: 99_999_999_999_999}}), (err: Error) => err instanceof AuthServerConfigError && /auth_lockout must be at most/.test(err.message))
    // At the bound, a lockout engages with a plausible Retry-After, and the login answers 429, not 500.
    const h = await start({rateLimit: {authFailMax: 1, authLockoutSeconds: MAX_AUTH_LOCKOUT_SECONDS}})
    try {
      const b = new Browser(h.publicUrl)
      const page = await b.get('/login')
      const fields = formFields(page.html, '/login')
      fields.set('email', ['nobody@example.test'])
      fields.set('password', ['wrong'])
      assert.equal((await b.post('/login', encodeForm(fields))).status, 422)
      const locked = await b.post('/login', encodeForm(fields))
      assert.equal(locked.status, 429)
      const retry = Number(locked.headers.get('retry-after'))
      assert.ok(retry > MAX_AUTH_LOCKOUT_SECONDS - 60 && retry <= MAX_AUTH_LOCKOUT_SECONDS, `Retry-After ${retry}`)
    } finally {
      await h.stop()
    }
  })

  it('the public port answers 429 slow_down with Retry-After: 1 on every route once the bucket is empty', async () => {
    const h = await start({rateLimit: {requestsPerSecond: 0.001, burst: 3}})
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${h.publicUrl}/livez`)).status, 200)
      for (const path of ['/.well-known/jwks.json', '/oauth/token']) {
        const res = await fetch(h.publicUrl + path, {method: path === '/oauth/token' ? 'POST' : 'GET'})
        const text = await res.text()
        assertOAuthError({status: res.status, headers: res.headers, body: JSON.parse(text), text}, 429, 'slow_down', 'rate limit exceeded')
        assert.equal(res.headers.get('retry-after'), '1')
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      }
      // The admin port is not limited unless configured.
      for (let i = 0; i < 5; i++) assert.equal((await admin(h, 'GET', '/admin/clients')).status, 200)
    } finally {
      await h.stop()
    }
  })

  it('{enabled: false} turns it off (what a load test wants)', async () => {
    const h = await start({rateLimit: {enabled: false}})
    try {
      const statuses = await Promise.all(Array.from({length: 250}, async () => (await fetch(`${h.publicUrl}/livez`)).status))
      assert.ok(statuses.every((s) => s === 200))
    } finally {
      await h.stop()
    }
  })

  it('adminRateLimit limits the admin port with the real admin limiter\'s plain JSON body', async () => {
    const h = await start({adminRateLimit: {requestsPerSecond: 0.001, burst: 2}})
    try {
      for (let i = 0; i < 2; i++) assert.equal((await admin(h, 'GET', '/admin/clients')).status, 200)
      const r = await admin(h, 'GET', '/admin/clients')
      assert.equal(r.status, 429)
      assert.equal(r.headers.get('content-type'), 'application/json')
      assert.equal(r.headers.get('retry-after'), '1')
      assert.deepEqual(r.body, {error: 'slow_down', error_description: 'rate limit exceeded'})
    } finally {
      await h.stop()
    }
  })

  it('public responses carry the real server\'s security headers', async () => {
    const h = await start()
    try {
      const res = await fetch(`${h.publicUrl}/.well-known/oauth-authorization-server`)
      assert.equal(res.headers.get('x-frame-options'), 'DENY')
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer')
      assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    } finally {
      await h.stop()
    }
  })
})

describe('login lockout (for POST /login)', () => {
  it('10 failures within the window lock (identity, address) for the lockout; not extended; reset on success', () => {
    const l = new AuthLockout(DEFAULT_RATE_LIMIT)
    const t0 = 5_000_000
    for (let i = 0; i < 9; i++) assert.equal(l.recordFailure('User@Example.com ', '10.0.0.1', t0 + i), undefined)
    const until = l.recordFailure('user@example.com', '10.0.0.1', t0 + 9)
    assert.equal(until, t0 + 9 + 900_000, 'identities are trimmed and lower-cased')
    assert.equal(l.lockedUntil('USER@example.com', '10.0.0.1', t0 + 10), until)
    assert.equal(l.lockedUntil('user@example.com', '10.0.0.2', t0 + 10), undefined, 'another address is not locked')
    assert.equal(l.recordFailure('user@example.com', '10.0.0.1', t0 + 20), undefined, 'failures during a lockout do not extend it')
    assert.equal(l.lockedUntil('user@example.com', '10.0.0.1', until! + 1), undefined)
    assert.equal(retryAfterSeconds(until!, t0 + 10), '900')
    assert.equal(retryAfterSeconds(t0 + 100, t0 + 99.5), '1')
  })

  it('failures outside the window do not add up; authFailMax 0 turns it off', () => {
    const l = new AuthLockout(DEFAULT_RATE_LIMIT)
    for (let i = 0; i < 9; i++) l.recordFailure('a', 'ip', i)
    assert.equal(l.recordFailure('a', 'ip', 600_001 + 9), undefined, 'the count restarted')
    const off = new AuthLockout({...DEFAULT_RATE_LIMIT, authFailMax: 0})
    for (let i = 0; i < 50; i++) assert.equal(off.recordFailure('a', 'ip', i), undefined)
    assert.equal(off.lockedUntil('a', 'ip', 51), undefined)
    const reset = new AuthLockout(DEFAULT_RATE_LIMIT)
    for (let i = 0; i < 9; i++) reset.recordFailure('a', 'ip', i)
    reset.reset('a', 'ip')
    assert.equal(reset.recordFailure('a', 'ip', 10), undefined)
  })
})

describe('boot-time rules', () => {
  it('weak admin keys are refused at any issuer; the examples\' key passes', async () => {
    for (const weak of ['changeme', ' Secret ', 'PASSWORD', 'admin', 'test', 'dev-admin-key', 'dev-secret-change-me']) {
      await assert.rejects(start({adminKey: weak}), /admin.api_key is a known weak\/default value/)
    }
    const h = await start({adminKey: 'dev-admin-key-change-me'})
    await h.stop()
  })

  it('an admin key that an Authorization header cannot carry (line break, space, non-ASCII) refuses to start', async () => {
    for (const key of ['good-key-0123456789\nsecond', 'good-key-0123456789\r', 'two words 0123456789', 'caf\u00e9-key-0123456789']) {
      await assertRefusedAtStart(start({adminKey: key}), /admin\.api_key must be one line of visible ASCII characters/)
      await assertRefusedAtStart(startStack({port: 0, adminPort: 0, mcpPort: 0, adminKey: key}), (err: Error) => err instanceof AuthServerConfigError)
    }
  })

  it('a non-localhost issuer needs a key of 16+ characters', async () => {
    await assert.rejects(start({adminKey: 'short-key', issuer: 'http://authserver:9000'}), /at least 16 characters in production/)
    await assert.rejects(start({adminKey: '', issuer: 'https://auth.example.com'}), /admin.api_key is required/)
    const h = await start({adminKey: ADMIN_KEY, issuer: 'http://authserver:9000', session: {secret: 'a-session-secret-0123456789', secure: true}})
    await h.stop()
    assert.equal(adminKeyProblem('short', 'http://localhost:9000'), undefined)
  })

  it('localhost issuers, exactly as the real server recognises them', () => {
    for (const ok of ['http://localhost', 'http://localhost:9000', 'https://127.0.0.1/x', 'http://[::1]:9000']) assert.ok(isLocalhostIssuer(ok), ok)
    for (const no of ['http://localhost.evil.com', 'http://authserver:9000', 'http://0.0.0.0:9000', 'http://LOCALHOST:9000']) assert.equal(isLocalhostIssuer(no), false, no)
  })

  it('session rules for a non-localhost issuer (browser flow, Docker)', () => {
    assert.deepEqual(sessionProblems('http://localhost:9000', '', false), [])
    assert.deepEqual(sessionProblems('http://authserver:9000', '', false), ['session.secret is required when server.issuer is not localhost', 'session.secure must be true when server.issuer is not localhost'])
    assert.deepEqual(sessionProblems('https://auth.example.com', 'changeme', true), ['session.secret is a known weak/default value — generate a strong random secret (e.g. openssl rand -hex 32)'])
    assert.deepEqual(sessionProblems('https://auth.example.com', 'short', true), ['session.secret must be at least 16 characters in production'])
    assert.deepEqual(sessionProblems('https://auth.example.com', '0123456789abcdef0123', true), [])
  })
})
