import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {AuthplaneClient, MemoryTokenCache, tokenCacheKey, type TokenCache} from '../../src/authplane/index.js'
import {FixtureServer, manualClock, tokenOk, useFixtureServer} from './fixture.js'

const TOKEN = '/oauth/token'
const RESOURCE = 'http://localhost:8080/mcp'

describe('tokenCacheKey (contract §4)', () => {
  it('includes issuer, client, scopes and resources', () => {
    const base = tokenCacheKey('http://localhost:9000', 'c1', ['mcp:echo'], [RESOURCE])
    assert.notEqual(base, tokenCacheKey('http://localhost:9000/', 'c1', ['mcp:echo'], [RESOURCE]))
    assert.notEqual(base, tokenCacheKey('http://localhost:9000', 'c2', ['mcp:echo'], [RESOURCE]))
    assert.notEqual(base, tokenCacheKey('http://localhost:9000', 'c1', ['mcp:other'], [RESOURCE]))
    assert.notEqual(base, tokenCacheKey('http://localhost:9000', 'c1', ['mcp:echo'], [`${RESOURCE}/`]))
    assert.notEqual(base, tokenCacheKey('http://localhost:9000', 'c1', ['mcp:echo'], []))
  })

  it('sorts scopes but is otherwise unambiguous', () => {
    assert.equal(tokenCacheKey('i', 'c', ['b', 'a'], ['r']), tokenCacheKey('i', 'c', ['a', 'b'], ['r']))
    assert.notEqual(tokenCacheKey('i', 'c', ['a b'], []), tokenCacheKey('i', 'c', ['a', 'b'], []))
    assert.notEqual(tokenCacheKey('i:c', 'd', [], []), tokenCacheKey('i', 'c:d', [], []))
    assert.notEqual(tokenCacheKey('i', 'c', ['r'], []), tokenCacheKey('i', 'c', [], ['r']))
    assert.notEqual(tokenCacheKey('i', 'c', [], ['r1', 'r2']), tokenCacheKey('i', 'c', [], ['r2', 'r1']))
  })
})

describe('token cache through the client (contract §4)', () => {
  let server!: FixtureServer
  useFixtureServer((s) => (server = s), {withMetadata: true})

  async function setup(expiresIn: number | undefined, extra: {cache?: TokenCache; clientId?: string} = {}) {
    const clock = manualClock()
    let n = 0
    const baseline = server.requestsTo(TOKEN).length
    server.on('POST', TOKEN, () => tokenOk({access_token: `token-${++n}`, expires_in: expiresIn}))
    const client = await AuthplaneClient.create({
      issuer: server.origin,
      auth: {clientId: extra.clientId ?? 'client-1', clientSecret: 'secret-1'},
      now: clock.now,
      ...(extra.cache ? {cache: extra.cache} : {}),
    })
    return {clock, client, tokenRequests: () => server.requestsTo(TOKEN).length - baseline}
  }

  it('serves the second identical call from the cache without an HTTP request', async () => {
    const {client, tokenRequests} = await setup(3600)
    const first = await client.clientCredentials(['mcp:echo'], [RESOURCE])
    const second = await client.clientCredentials(['mcp:echo'], [RESOURCE])
    assert.equal(tokenRequests(), 1)
    assert.equal(first.fromCache, false)
    assert.equal(second.fromCache, true)
    assert.equal(second.accessToken, first.accessToken)
    assert.deepEqual(second.raw, first.raw)
    assert.equal(server.requests.length, 2) // discovery + one token request
  })

  it('keys on scopes and resources (scope order does not matter)', async () => {
    const {client, tokenRequests} = await setup(3600)
    await client.clientCredentials(['a', 'b'], [RESOURCE])
    await client.clientCredentials(['b', 'a'], [RESOURCE])
    assert.equal(tokenRequests(), 1)
    await client.clientCredentials(['a'], [RESOURCE])
    assert.equal(tokenRequests(), 2)
    await client.clientCredentials(['a', 'b'], ['https://other.example/mcp'])
    assert.equal(tokenRequests(), 3)
    await client.clientCredentials(['a', 'b'], [])
    assert.equal(tokenRequests(), 4)
  })

  it('keys on the client: a shared cache does not hand one client another client\'s token', async () => {
    const cache = new MemoryTokenCache()
    const a = await setup(3600, {cache, clientId: 'client-a'})
    await a.client.clientCredentials(['mcp:echo'], [RESOURCE])
    assert.equal(cache.size, 1)
    const b = await setup(3600, {cache, clientId: 'client-b'})
    const r = await b.client.clientCredentials(['mcp:echo'], [RESOURCE])
    assert.equal(r.fromCache, false)
    assert.equal(b.tokenRequests(), 1)
    assert.equal(cache.size, 2)
  })

  it('keeps an entry for expires_in - 30 s', async () => {
    const {client, clock, tokenRequests} = await setup(3600)
    await client.clientCredentials(['mcp:echo'], [RESOURCE])
    clock.advance(3570_000 - 1)
    assert.equal((await client.clientCredentials(['mcp:echo'], [RESOURCE])).fromCache, true)
    assert.equal(tokenRequests(), 1)
    clock.advance(1)
    const again = await client.clientCredentials(['mcp:echo'], [RESOURCE])
    assert.equal(again.fromCache, false)
    assert.equal(again.accessToken, 'token-2')
    assert.equal(tokenRequests(), 2)
  })

  for (const expiresIn of [30, 10, 0, undefined]) {
    it(`does not cache when expires_in is ${String(expiresIn)}`, async () => {
      const {client, tokenRequests} = await setup(expiresIn)
      await client.clientCredentials(['mcp:echo'], [RESOURCE])
      const second = await client.clientCredentials(['mcp:echo'], [RESOURCE])
      assert.equal(second.fromCache, false)
      assert.equal(tokenRequests(), 2)
    })
  }

  it('caches for 1 s when expires_in is 31', async () => {
    const {client, clock, tokenRequests} = await setup(31)
    await client.clientCredentials(['mcp:echo'], [RESOURCE])
    clock.advance(999)
    assert.equal((await client.clientCredentials(['mcp:echo'], [RESOURCE])).fromCache, true)
    clock.advance(1)
    assert.equal((await client.clientCredentials(['mcp:echo'], [RESOURCE])).fromCache, false)
    assert.equal(tokenRequests(), 2)
  })

  it('noCache skips reading and writing the cache', async () => {
    const {client, tokenRequests} = await setup(3600)
    await client.clientCredentials(['mcp:echo'], [RESOURCE]) // cached: token-1
    const fresh = await client.clientCredentials(['mcp:echo'], [RESOURCE], {noCache: true})
    assert.equal(fresh.fromCache, false)
    assert.equal(fresh.accessToken, 'token-2')
    const cached = await client.clientCredentials(['mcp:echo'], [RESOURCE])
    assert.equal(cached.accessToken, 'token-1') // token-2 was not written
    assert.equal(cached.fromCache, true)
    assert.equal(tokenRequests(), 2)

    const other = await setup(3600)
    await other.client.clientCredentials(['x'], [RESOURCE], {noCache: true})
    const afterNoCache = await other.client.clientCredentials(['x'], [RESOURCE])
    assert.equal(afterNoCache.fromCache, false)
    assert.equal(other.tokenRequests(), 2)
  })

  it('works with an asynchronous TokenCache and stores expiresAt in epoch ms', async () => {
    const store = new Map<string, unknown>()
    const cache: TokenCache = {
      get: async (k) => store.get(k) as never,
      set: async (k, v) => {
        store.set(k, JSON.parse(JSON.stringify(v)))
      },
      delete: async (k) => {
        store.delete(k)
      },
    }
    const {client, clock, tokenRequests} = await setup(3600, {cache})
    const t0 = clock.now()
    await client.clientCredentials(['mcp:echo'], [RESOURCE])
    const key = tokenCacheKey(server.origin, 'client-1', ['mcp:echo'], [RESOURCE])
    const entry = store.get(key) as {expiresAt: number; result: {accessToken: string}}
    assert.equal(entry.expiresAt, t0 + 3570_000)
    assert.equal(entry.result.accessToken, 'token-1')
    assert.equal((await client.clientCredentials(['mcp:echo'], [RESOURCE])).fromCache, true)
    assert.equal(tokenRequests(), 1)
  })
})
