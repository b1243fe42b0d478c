import assert from 'node:assert/strict'
import {createHash, generateKeyPairSync} from 'node:crypto'
import {describe, it} from 'node:test'

import {calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, EmbeddedJWK, jwtVerify} from 'jose'

import {AuthplaneClient, AuthplaneOAuthError, tokenCacheKey} from '../../src/authplane/index.js'
import {dpopFetch, dpopHandle, generateDpopKey, parseDpopKey, type DpopKey} from '../../src/authplane/dpop.js'
import {DpopKeyError, DpopNonceError, DpopTokenTypeError} from '../../src/authplane/dpop-errors.js'
import {FixtureServer, problem, type RecordedRequest, type Reply, tokenOk, useFixtureServer} from './fixture.js'

const TOKEN = '/oauth/token'
const RESOURCE_PATH = '/mcp'

function pkcs8(type: 'ec' | 'rsa' | 'ed25519', options: Record<string, unknown> = {}): string {
  const {privateKey} = generateKeyPairSync(type as 'ec', options as {namedCurve: string})
  return privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
}

/** The proof a request carried, verified with its own embedded key (as any server would). */
async function proofOf(req: RecordedRequest): Promise<{header: Record<string, unknown>; claims: Record<string, unknown>}> {
  const proof = req.headers['dpop']
  assert.equal(typeof proof, 'string', `${req.method} ${req.path} carried no DPoP header`)
  const {payload, protectedHeader} = await jwtVerify(proof as string, EmbeddedJWK, {typ: 'dpop+jwt'})
  return {header: protectedHeader as Record<string, unknown>, claims: payload as Record<string, unknown>}
}

describe('DPoP keys', () => {
  it('generates an ES256 key whose PEM reads back to the same thumbprint', async () => {
    const key = await generateDpopKey()
    assert.equal(key.alg, 'ES256')
    assert.match(key.pem, /^-----BEGIN PRIVATE KEY-----/)
    assert.deepEqual(Object.keys(key.publicJwk).sort(), ['crv', 'kty', 'x', 'y'])
    assert.equal(key.thumbprint, await calculateJwkThumbprint(key.publicJwk, 'sha256'))
    const again = await parseDpopKey(key.pem, '/tmp/k.pem')
    assert.equal(again.thumbprint, key.thumbprint)
    assert.equal(again.file, '/tmp/k.pem')
  })

  it('reads a PKCS#8 RSA key as RS256', async () => {
    const key = await parseDpopKey(pkcs8('rsa', {modulusLength: 2048}), 'rsa.pem')
    assert.equal(key.alg, 'RS256')
    assert.deepEqual(Object.keys(key.publicJwk).sort(), ['e', 'kty', 'n'])
  })

  const refusals: Array<[string, () => string, DpopKeyError['problem'], RegExp]> = [
    ['an encrypted PKCS#8 key', () => generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw'}).toString(), 'encrypted', /encrypted/],
    ['a legacy encrypted SEC1 key', () => generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw'}).toString(), 'encrypted', /encrypted/],
    ['text that is not PEM', () => 'hello\n', 'malformed', /not a PEM private key/],
    ['a truncated PEM', () => '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n', 'malformed', /cannot be parsed/],
    ['a public key', () => generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey.export({type: 'spki', format: 'pem'}).toString(), 'malformed', /public key/],
    ['an Ed25519 key', () => pkcs8('ed25519'), 'unsupported_algorithm', /ed25519 key; DPoP proofs are signed with ES256 or RS256/],
    ['a P-384 key', () => pkcs8('ec', {namedCurve: 'P-384'}), 'unsupported_algorithm', /curve secp384r1/],
    ['a 1024-bit RSA key', () => pkcs8('rsa', {modulusLength: 1024}), 'unsupported_algorithm', /1024-bit RSA key/],
  ]
  for (const [what, pem, problemName, message] of refusals) {
    it(`refuses ${what}, naming the file`, async () => {
      await assert.rejects(parseDpopKey(pem(), '/keys/agent.pem'), (err: unknown) => {
        assert.ok(err instanceof DpopKeyError)
        assert.equal(err.problem, problemName)
        assert.equal(err.file, '/keys/agent.pem')
        assert.match(err.message, /^\/keys\/agent\.pem /)
        assert.match(err.message, message)
        return true
      })
    })
  }
})

describe('DPoP at the token endpoint', () => {
  let server!: FixtureServer
  useFixtureServer((s) => (server = s), {withMetadata: true})

  async function client(key: DpopKey) {
    const c = await AuthplaneClient.create({
      issuer: server.origin,
      auth: {clientId: 'client-1', clientSecret: 'secret-1'},
      dpop: {key, handle: dpopHandle(key)},
    })
    server.requests.length = 0
    return c
  }
  const dpopToken = () => tokenOk({token_type: 'DPoP'})

  it('sends one proof (htm, htu, iat, jti; no ath, no nonce) to a server that never sends a nonce', async () => {
    server.on('POST', TOKEN, dpopToken())
    const key = await generateDpopKey()
    const result = await (await client(key)).clientCredentials(['mcp:echo'], ['http://localhost:8080/mcp'])
    assert.equal(result.tokenType, 'DPoP')
    const requests = server.requestsTo(TOKEN)
    assert.equal(requests.length, 1)
    const {header, claims} = await proofOf(requests[0]!)
    assert.equal(header.typ, 'dpop+jwt')
    assert.equal(header.alg, 'ES256')
    assert.equal(await calculateJwkThumbprint(header.jwk as never, 'sha256'), key.thumbprint)
    assert.equal(claims.htm, 'POST')
    assert.equal(claims.htu, `${server.origin}${TOKEN}`)
    assert.equal(typeof claims.jti, 'string')
    assert.ok(Math.abs((claims.iat as number) - Date.now() / 1000) < 5)
    assert.equal(claims.ath, undefined)
    assert.equal(claims.nonce, undefined)
  })

  it('retries once with the nonce of a use_dpop_nonce answer, and uses it from then on', async () => {
    server.on('POST', TOKEN, (req): Reply => {
      const nonce = (decodeJwt(req.headers['dpop'] as string) as {nonce?: string}).nonce
      if (nonce !== 'n-1') return {...problem(400, 'use_dpop_nonce', 'nonce required'), headers: {'content-type': 'application/problem+json', 'dpop-nonce': 'n-1'}}
      return {...dpopToken(), headers: {'dpop-nonce': 'n-1'}}
    })
    const c = await client(await generateDpopKey())
    await c.clientCredentials(['mcp:echo'], ['r1'])
    assert.equal(server.requestsTo(TOKEN).length, 2)
    const [first, second] = await Promise.all(server.requestsTo(TOKEN).map(proofOf))
    assert.equal(first!.claims.nonce, undefined)
    assert.equal(second!.claims.nonce, 'n-1')
    assert.notEqual(first!.claims.jti, second!.claims.jti, 'a proof is never sent twice')
    // The next request starts with the nonce it already has: no second challenge.
    await c.clientCredentials(['mcp:echo'], ['r2'])
    assert.equal(server.requestsTo(TOKEN).length, 3)
    assert.equal((await proofOf(server.requestsTo(TOKEN)[2]!)).claims.nonce, 'n-1')
  })

  it('stops after one retry against a server that always demands a new nonce', async () => {
    let n = 0
    server.on('POST', TOKEN, () => ({...problem(400, 'use_dpop_nonce', 'fresh nonce required'), headers: {'content-type': 'application/problem+json', 'dpop-nonce': `n-${++n}`}}))
    const c = await client(await generateDpopKey())
    await assert.rejects(c.clientCredentials(['mcp:echo'], ['r']), (err: unknown) => {
      assert.ok(err instanceof DpopNonceError)
      assert.equal(err.where, 'token_endpoint')
      assert.equal(err.nonceReceived, true)
      return true
    })
    assert.equal(server.requestsTo(TOKEN).length, 2)
    assert.equal(c.breaker.getState().consecutiveFailures, 0, 'a nonce loop is not a sign of an unhealthy server')
  })

  it('does not retry a use_dpop_nonce answer that carries no nonce', async () => {
    server.on('POST', TOKEN, problem(400, 'use_dpop_nonce', 'nonce required'))
    const c = await client(await generateDpopKey())
    await assert.rejects(c.clientCredentials([], ['r']), (err: unknown) => err instanceof DpopNonceError && !err.nonceReceived)
    assert.equal(server.requestsTo(TOKEN).length, 1)
  })

  it('refuses a Bearer token_type after a proof was sent', async () => {
    server.on('POST', TOKEN, tokenOk())
    const c = await client(await generateDpopKey())
    await assert.rejects(c.clientCredentials([], ['r']), (err: unknown) => err instanceof DpopTokenTypeError && err.tokenType === 'Bearer')
  })

  it('passes a proof refusal through as the OAuth error it is (clock skew)', async () => {
    server.on('POST', TOKEN, problem(400, 'invalid_dpop_proof', 'DPoP proof iat is missing or outside the acceptable window'))
    const key = await generateDpopKey()
    const c = await AuthplaneClient.create({issuer: server.origin, auth: {clientId: 'c', clientSecret: 's'}, dpop: {key, handle: dpopHandle(key, {clockSkewSeconds: -600})}})
    await assert.rejects(c.clientCredentials([], ['r']), (err: unknown) => err instanceof AuthplaneOAuthError && err.oauthError === 'invalid_dpop_proof')
    const {claims} = await proofOf(server.requestsTo(TOKEN)[0]!)
    assert.ok(Math.abs((claims.iat as number) - (Date.now() / 1000 - 600)) < 5, 'the skew setting moves iat')
  })

  it('keeps cached tokens per key thumbprint', async () => {
    server.on('POST', TOKEN, dpopToken())
    const [a, b] = [await generateDpopKey(), await generateDpopKey()]
    const ca = await client(a)
    const cb = await client(b)
    await ca.clientCredentials(['mcp:echo'], ['r'])
    assert.equal((await ca.clientCredentials(['mcp:echo'], ['r'])).fromCache, true)
    assert.equal((await cb.clientCredentials(['mcp:echo'], ['r'])).fromCache, false)
    assert.equal(server.requestsTo(TOKEN).length, 2)
    assert.notEqual(tokenCacheKey('i', 'c', [], [], a.thumbprint), tokenCacheKey('i', 'c', [], []))
  })
})

describe('DPoP at the resource', () => {
  let server!: FixtureServer
  useFixtureServer((s) => (server = s))
  const token = 'access-token-123'
  const ath = createHash('sha256').update(token).digest('base64url')
  const nonceChallenge = (nonce: string) => ({status: 401, headers: {'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="nonce required", algs="ES256 RS256"', 'dpop-nonce': nonce}, body: {error: 'use_dpop_nonce'}})

  async function call(init: RequestInit = {method: 'POST', body: '{"a":1}', headers: {'content-type': 'application/json'}}) {
    const key = await generateDpopKey()
    const retries: string[] = []
    const f = dpopFetch({handle: dpopHandle(key), accessToken: token, onNonceRetry: (url) => retries.push(url)})
    return {response: await f(`${server.origin}${RESOURCE_PATH}?x=1`, init), retries, key}
  }

  it('sends Authorization: DPoP and a proof with ath to a server that never sends a nonce', async () => {
    server.on('POST', RESOURCE_PATH, {status: 200, body: {ok: true}})
    const {response, retries, key} = await call()
    assert.equal(response.status, 200)
    assert.deepEqual(retries, [])
    const [req] = server.requestsTo(RESOURCE_PATH)
    assert.equal(req!.headers.authorization, `DPoP ${token}`)
    assert.equal(req!.body, '{"a":1}')
    assert.equal(req!.headers['content-type'], 'application/json')
    const {header, claims} = await proofOf(req!)
    assert.equal(claims.htm, 'POST')
    assert.equal(claims.htu, `${server.origin}${RESOURCE_PATH}`, 'htu has no query')
    assert.equal(claims.ath, ath)
    assert.equal(claims.nonce, undefined)
    assert.equal(await calculateJwkThumbprint(header.jwk as never, 'sha256'), key.thumbprint)
  })

  it('answers a use_dpop_nonce challenge once, with the nonce', async () => {
    server.on('POST', RESOURCE_PATH, (req) =>
      (decodeJwt(req.headers['dpop'] as string) as {nonce?: string}).nonce === 'rs-1' ? {status: 200, body: {ok: true}} : nonceChallenge('rs-1'),
    )
    const {response, retries} = await call()
    assert.equal(response.status, 200)
    assert.equal(retries.length, 1)
    const requests = server.requestsTo(RESOURCE_PATH)
    assert.equal(requests.length, 2)
    assert.equal(requests[1]!.body, '{"a":1}', 'the body is sent again')
    assert.equal((await proofOf(requests[1]!)).claims.nonce, 'rs-1')
  })

  it('stops after one retry against a resource that always demands a new nonce', async () => {
    let n = 0
    server.on('POST', RESOURCE_PATH, () => nonceChallenge(`rs-${++n}`))
    await assert.rejects(call(), (err: unknown) => err instanceof DpopNonceError && err.where === 'resource' && err.nonceReceived)
    assert.equal(server.requestsTo(RESOURCE_PATH).length, 2)
  })

  it('returns other challenges as responses for the caller to explain', async () => {
    server.on('POST', RESOURCE_PATH, {status: 401, headers: {'www-authenticate': 'DPoP error="invalid_dpop_proof", error_description="jti replay"'}, body: {error: 'invalid_dpop_proof'}})
    const {response} = await call()
    assert.equal(response.status, 401)
    assert.equal(((await response.json()) as {error: string}).error, 'invalid_dpop_proof')
    assert.equal(server.requestsTo(RESOURCE_PATH).length, 1)
  })

  it('proves GET and DELETE requests with their own method', async () => {
    server.on('DELETE', RESOURCE_PATH, {status: 200, body: {}})
    const {response} = await call({method: 'DELETE', headers: {'mcp-session-id': 's1'}})
    assert.equal(response.status, 200)
    const [req] = server.requestsTo(RESOURCE_PATH)
    assert.equal((await proofOf(req!)).claims.htm, 'DELETE')
    assert.equal(req!.headers['mcp-session-id'], 's1')
    assert.equal(decodeProtectedHeader(req!.headers['dpop'] as string).typ, 'dpop+jwt')
  })
})
