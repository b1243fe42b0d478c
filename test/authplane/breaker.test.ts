import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  AuthplaneCircuitOpenError,
  AuthplaneClient,
  AuthplaneOAuthError,
  AuthplaneProtocolError,
  AuthplaneServerError,
  CircuitBreaker,
} from '../../src/authplane/index.js'
import {FixtureServer, manualClock, problem, type Reply, tokenOk, useFixtureServer} from './fixture.js'

const TOKEN = '/oauth/token'
const RESOURCE = 'http://localhost:8080/mcp'

describe('circuit breaker unit (contract §4)', () => {
  it('opens after 5 consecutive failures; after 30 s it is closed again, fully (no half-open trial)', () => {
    const clock = manualClock()
    const b = new CircuitBreaker({now: clock.now})
    for (let i = 0; i < 4; i++) {
      b.acquire()
      b.recordFailure()
    }
    assert.equal(b.status, 'closed')
    b.acquire()
    b.recordFailure()
    assert.equal(b.status, 'open')
    assert.throws(() => b.acquire(), (err: unknown) => {
      assert.ok(err instanceof AuthplaneCircuitOpenError)
      assert.equal(err.code, 'circuit_open')
      assert.equal(err.reopensAt, clock.now() + 30_000)
      return true
    })
    clock.advance(29_999)
    assert.throws(() => b.acquire(), AuthplaneCircuitOpenError)
    clock.advance(1)
    assert.equal(b.status, 'closed')
    b.acquire()
    b.acquire() // any number of requests, not a single trial
    assert.deepEqual(b.getState(), {consecutiveFailures: 0, openUntil: null}, 'the cooldown resets the count')
    // It takes 5 more counted failures to open it again.
    for (let i = 0; i < 4; i++) b.recordFailure()
    assert.equal(b.status, 'closed')
    b.recordFailure()
    assert.equal(b.status, 'open')
  })

  it('keeps time in whole seconds like the SDK: open until floor(now) + 30 s', () => {
    const clock = manualClock(1_700_000_000_700)
    const b = new CircuitBreaker({now: clock.now})
    for (let i = 0; i < 5; i++) b.recordFailure()
    assert.equal(b.getState().openUntil, 1_700_000_030_000)
    clock.set(1_700_000_029_999)
    assert.equal(b.status, 'open')
    clock.set(1_700_000_030_000)
    assert.equal(b.status, 'closed')
  })

  it('persists as plain JSON and restores (malformed state gives a closed breaker)', () => {
    const clock = manualClock()
    const b = new CircuitBreaker({now: clock.now})
    for (let i = 0; i < 5; i++) b.recordFailure()
    const saved = JSON.parse(JSON.stringify(b.getState())) as unknown
    const restored = CircuitBreaker.fromState(saved, {now: clock.now})
    assert.equal(restored.status, 'open')
    assert.deepEqual(restored.getState(), b.getState())
    assert.equal(CircuitBreaker.fromState({nonsense: true}, {now: clock.now}).status, 'closed')
    assert.equal(CircuitBreaker.fromState(undefined).status, 'closed')
  })
})

describe('circuit breaker through the client (contract §4)', () => {
  let server!: FixtureServer
  useFixtureServer((s) => (server = s), {withMetadata: true})

  async function setup(replies: Reply[] | ((i: number) => Reply)) {
    const clock = manualClock()
    server.on('POST', TOKEN, (_req, i) => (typeof replies === 'function' ? replies(i) : replies[i] ?? tokenOk()))
    const client = await AuthplaneClient.create({
      issuer: server.origin,
      auth: {clientId: 'client-1', clientSecret: 'secret-1'},
      now: clock.now,
    })
    const call = () => client.clientCredentials(['mcp:echo'], [RESOURCE], {noCache: true})
    const tokenRequests = () => server.requestsTo(TOKEN).length
    return {clock, client, call, tokenRequests}
  }

  it('opens after 5 counted failures (5xx) and then rejects without a request', async () => {
    const {call, tokenRequests, client, clock} = await setup(() => problem(500, 'server_error', 'boom'))
    for (let i = 0; i < 5; i++) await assert.rejects(call(), AuthplaneServerError)
    assert.equal(tokenRequests(), 5)
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof AuthplaneCircuitOpenError)
      assert.equal(err.reopensAt, clock.now() + 30_000)
      return true
    })
    assert.equal(tokenRequests(), 5)
    assert.equal(client.breaker.status, 'open')
  })

  it('counts invalid_client, unauthorized_client and protocol errors', async () => {
    const {call, tokenRequests} = await setup([
      problem(401, 'invalid_client', 'client authentication failed'),
      problem(400, 'unauthorized_client', 'grant not allowed'),
      tokenOk({token_type: 'bearer'}),
      problem(401, 'invalid_client', 'client authentication failed'),
      {status: 200, headers: {'content-type': 'text/html'}, body: '<html>'},
    ])
    for (let i = 0; i < 5; i++) await assert.rejects(call(), (e: unknown) => e instanceof AuthplaneOAuthError || e instanceof AuthplaneProtocolError)
    await assert.rejects(call(), AuthplaneCircuitOpenError)
    assert.equal(tokenRequests(), 5)
  })

  it('does not open after 5 (or more) invalid_scope errors', async () => {
    const {call, tokenRequests, client} = await setup(() => problem(400, 'invalid_scope', "exceeds the client's registered scopes"))
    for (let i = 0; i < 7; i++) {
      await assert.rejects(call(), (err: unknown) => err instanceof AuthplaneOAuthError && err.code === 'invalid_scope')
    }
    assert.equal(tokenRequests(), 7)
    assert.equal(client.breaker.status, 'closed')
  })

  it('other OAuth 4xx neither count nor reset the consecutive count', async () => {
    const fail = problem(503, 'temporarily_unavailable', 'down')
    const scope = problem(400, 'invalid_scope', 'no')
    const target = problem(400, 'invalid_target', 'no')
    const {call, tokenRequests} = await setup([fail, fail, fail, scope, target, fail, fail])
    for (let i = 0; i < 7; i++) await assert.rejects(call())
    await assert.rejects(call(), AuthplaneCircuitOpenError)
    assert.equal(tokenRequests(), 7)
  })

  it('a success resets the count', async () => {
    const fail = problem(500, 'server_error', 'boom')
    const {call, tokenRequests, client} = await setup([fail, fail, fail, fail, tokenOk(), fail, fail, fail, fail])
    for (let i = 0; i < 4; i++) await assert.rejects(call())
    await call()
    for (let i = 0; i < 4; i++) await assert.rejects(call())
    assert.equal(client.breaker.status, 'closed')
    assert.equal(client.breaker.getState().consecutiveFailures, 4)
    assert.equal(tokenRequests(), 9)
  })

  it('after the 30 s cooldown requests flow again and it takes 5 new failures to re-open', async () => {
    const fail = problem(500, 'server_error', 'boom')
    const {call, tokenRequests, clock, client} = await setup([fail, fail, fail, fail, fail, fail, tokenOk(), fail, fail, fail, fail, fail])
    for (let i = 0; i < 5; i++) await assert.rejects(call(), AuthplaneServerError)
    clock.advance(29_000)
    await assert.rejects(call(), AuthplaneCircuitOpenError)
    assert.equal(tokenRequests(), 5)

    clock.advance(1_000) // 30 s after opening: closed; a failure now is the first of a new count
    await assert.rejects(call(), AuthplaneServerError)
    assert.equal(tokenRequests(), 6)
    assert.equal(client.breaker.status, 'closed')
    assert.equal(client.breaker.getState().consecutiveFailures, 1)
    assert.equal((await call()).accessToken.length > 0, true)
    for (let i = 0; i < 4; i++) await assert.rejects(call(), AuthplaneServerError)
    assert.equal(client.breaker.status, 'closed')
    await assert.rejects(call(), AuthplaneServerError)
    assert.equal(client.breaker.status, 'open')
    assert.equal(tokenRequests(), 12)
  })

  it('the breaker is checked before the cache: an open breaker blocks a cached token too', async () => {
    const fail = problem(500, 'server_error', 'boom')
    const {client, tokenRequests} = await setup([tokenOk({expires_in: 3600}), fail, fail, fail, fail, fail])
    const cached = () => client.clientCredentials(['mcp:echo'], [RESOURCE])
    await cached()
    assert.equal((await cached()).fromCache, true)
    for (let i = 0; i < 5; i++) await assert.rejects(client.clientCredentials(['mcp:echo'], [RESOURCE], {noCache: true}), AuthplaneServerError)
    await assert.rejects(cached(), AuthplaneCircuitOpenError)
    assert.equal(tokenRequests(), 6)
  })

  it('an open breaker restored from persisted state blocks token requests, not discovery (SDK: discovery is not guarded)', async () => {
    const clock = manualClock()
    const source = new CircuitBreaker({now: clock.now})
    for (let i = 0; i < 5; i++) source.recordFailure()
    const breaker = CircuitBreaker.fromState(source.getState(), {now: clock.now})
    const client = await AuthplaneClient.create({issuer: server.origin, auth: {clientId: 'c', clientSecret: 's'}, breaker, now: clock.now})
    const discovery = server.requests.length
    assert.ok(discovery >= 1)
    await assert.rejects(client.clientCredentials(['mcp:echo'], [RESOURCE]), AuthplaneCircuitOpenError)
    assert.equal(server.requests.length, discovery)
  })

  it('discovery failures do not count toward the breaker', async () => {
    const clock = manualClock()
    const breaker = new CircuitBreaker({now: clock.now})
    for (let i = 0; i < 6; i++) {
      await assert.rejects(AuthplaneClient.create({issuer: `${server.origin}/missing`, auth: {clientId: 'c', clientSecret: 's'}, breaker, now: clock.now}))
    }
    assert.equal(breaker.status, 'closed')
    assert.equal(breaker.getState().consecutiveFailures, 0)
  })
})
