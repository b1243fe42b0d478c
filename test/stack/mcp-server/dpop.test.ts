import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {after, before, describe, it} from 'node:test'

import {calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK} from 'jose'

import {parseWwwAuthenticate} from '../../../src/mcp/diagnose.js'
import {ReplayCache} from '../../../src/stack/mcp-server/dpop.js'
import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import type {McpServerHandle, McpServerOptions} from '../../../src/stack/types.js'
import {ACCEPT_BOTH, initializeRequest, IssuerFixture} from './issuer-fixture.js'

interface ProofKey {
  privateKey: CryptoKey
  jwk: JWK
  jkt: string
}

async function proofKey(alg: 'ES256' | 'RS256' | 'PS256' = 'ES256'): Promise<ProofKey> {
  const {privateKey, publicKey} = await generateKeyPair(alg, {extractable: true})
  const jwk = await exportJWK(publicKey)
  return {privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256')}
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url')

/** A proof made by hand, so that each check can be broken on its own. */
async function proof(
  key: ProofKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  alg = key.jwk.kty === 'RSA' ? 'RS256' : 'ES256',
): Promise<string> {
  const payload: Record<string, unknown> = {jti: randomBytes(12).toString('base64url'), iat: Math.floor(Date.now() / 1000), ...claims}
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k]
  return new SignJWT(payload).setProtectedHeader({alg, typ: 'dpop+jwt', jwk: key.jwk, ...header}).sign(key.privateKey)
}

async function post(url: string, authorization: string, dpop?: string, body: unknown = initializeRequest()): Promise<Response> {
  const headers: Record<string, string> = {'Content-Type': 'application/json', Accept: ACCEPT_BOTH, Authorization: authorization}
  if (dpop !== undefined) headers.DPoP = dpop
  const res = await fetch(url, {method: 'POST', headers, body: JSON.stringify(body)})
  return res
}

async function refusal(res: Response): Promise<{status: number; error: string; description: string; challenge: string}> {
  const body = (await res.json()) as {error: string; error_description: string}
  return {status: res.status, error: body.error, description: body.error_description, challenge: res.headers.get('www-authenticate') ?? ''}
}

describe('MCP server inbound DPoP (RFC 9449 §7)', () => {
  let issuer: IssuerFixture
  const servers: McpServerHandle[] = []
  async function server(options: Partial<McpServerOptions>): Promise<McpServerHandle> {
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0, resource: 'http://127.0.0.1:1/mcp', ...options})
    servers.push(mcp)
    return mcp
  }
  let required: McpServerHandle
  let key: ProofKey
  let bound: string

  before(async () => {
    issuer = await IssuerFixture.start()
    issuer.audience = 'http://127.0.0.1:1/mcp'
    required = await server({dpop: 'required'})
    key = await proofKey()
    bound = await issuer.token({claims: {cnf: {jkt: key.jkt}}})
  })
  after(async () => {
    for (const s of servers) await s.stop()
    await issuer.stop()
  })

  const good = (url: string, claims: Record<string, unknown> = {}) => proof(key, {htm: 'POST', htu: url, ath: ath(bound), ...claims})

  it('accepts a bound token with a good proof (htu may name the resource or the URL reached)', async () => {
    const res = await post(required.url, `DPoP ${bound}`, await good(required.url))
    assert.equal(res.status, 200)
    await res.text()
    const viaResource = await post(required.url, `DPoP ${bound}`, await good(`${required.resource}?ignored=1`))
    assert.equal(viaResource.status, 200)
    await viaResource.text()
  })

  it('announces DPoP in the resource metadata per mode', async () => {
    const allowed = await server({dpop: 'allowed'})
    const off = await server({})
    const prm = async (s: McpServerHandle) => (await (await fetch(s.resourceMetadataUrl.replace('127.0.0.1:1', new URL(s.url).host))).json()) as Record<string, unknown>
    assert.deepEqual((await prm(required))['dpop_signing_alg_values_supported'], ['ES256', 'RS256'])
    assert.equal((await prm(required))['dpop_bound_access_tokens_required'], true)
    assert.equal((await prm(allowed))['dpop_bound_access_tokens_required'], false)
    assert.equal((await prm(off))['dpop_signing_alg_values_supported'], undefined)
    assert.equal((await prm(off))['dpop_bound_access_tokens_required'], undefined)
  })

  it('required: refuses a plain Bearer token with a DPoP challenge listing algs', async () => {
    const r = await refusal(await post(required.url, `Bearer ${await issuer.token()}`))
    assert.equal(r.status, 401)
    assert.equal(r.error, 'invalid_token')
    assert.match(r.description, /requires DPoP-bound access tokens/)
    const challenge = parseWwwAuthenticate(r.challenge)!
    assert.equal(challenge.scheme, 'DPoP')
    assert.equal(challenge.params.algs, 'ES256 RS256')
    assert.match(challenge.params.resource_metadata ?? '', /oauth-protected-resource/)
  })

  const refusals: Array<[string, () => Promise<[string, string | undefined]>, RegExp, string?]> = [
    ['the bound token sent as a plain Bearer token', async () => [`Bearer ${bound}`, undefined], /DPoP-bound \(cnf\.jkt\) and came without a DPoP proof/, 'invalid_token'],
    ['the DPoP scheme without a proof', async () => [`DPoP ${bound}`, undefined], /needs a DPoP proof header/],
    ['two proofs', async () => [`DPoP ${bound}`, `${await good(required.url)}, ${await good(required.url)}`], /exactly one DPoP proof/],
    ['a proof from another key', async () => [`DPoP ${bound}`, await proof(await proofKey(), {htm: 'POST', htu: required.url, ath: ath(bound)})], /does not match the token's cnf.jkt/],
    ['a proof for another method', async () => [`DPoP ${bound}`, await good(required.url, {htm: 'GET'})], /htm "GET" does not match the request method POST/],
    ['a proof for another URL', async () => [`DPoP ${bound}`, await good('http://127.0.0.1:1/other')], /htu .* does not match the request URL/],
    ['a proof without ath', async () => [`DPoP ${bound}`, await good(required.url, {ath: undefined})], /no ath/],
    ['a proof for another token', async () => [`DPoP ${bound}`, await good(required.url, {ath: ath('other')})], /ath does not match/],
    ['a proof without jti', async () => [`DPoP ${bound}`, await good(required.url, {jti: undefined})], /lacks one of htm, htu, iat, jti/],
    ['a proof with typ JWT', async () => [`DPoP ${bound}`, await proof(key, {htm: 'POST', htu: required.url, ath: ath(bound)}, {typ: 'JWT'})], /typ must be "dpop\+jwt"/],
    ['a proof with an unsupported algorithm (PS256)', async () => {
      const ps = await proofKey('PS256')
      const psBound = await issuer.token({claims: {cnf: {jkt: ps.jkt}}})
      return [`DPoP ${psBound}`, await proof(ps, {htm: 'POST', htu: required.url, ath: ath(psBound)}, {}, 'PS256')]
    }, /alg "PS256" is not accepted \(expected ES256 or RS256\)/],
    ['a proof whose jwk holds the private key', async () => {
      const {privateKey} = await generateKeyPair('ES256', {extractable: true})
      return [`DPoP ${bound}`, await proof(key, {htm: 'POST', htu: required.url, ath: ath(bound)}, {jwk: await exportJWK(privateKey)})]
    }, /private key material/],
    ['a proof signed by another key than its jwk', async () => {
      const other = await proofKey()
      return [`DPoP ${bound}`, await new SignJWT({htm: 'POST', htu: required.url, ath: ath(bound), jti: 'x1', iat: Math.floor(Date.now() / 1000)}).setProtectedHeader({alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk}).sign(other.privateKey)]
    }, /signature does not verify/],
    ['a proof 10 minutes old (clock behind)', async () => [`DPoP ${bound}`, await good(required.url, {iat: Math.floor(Date.now() / 1000) - 600})], /is \d+ s old \(over 330 s: 300 s plus 30 s of clock skew; check the clock\)/],
    ['a proof 2 minutes in the future (clock ahead)', async () => [`DPoP ${bound}`, await good(required.url, {iat: Math.floor(Date.now() / 1000) + 120})], /in the future \(clock skew over 30 s\)/],
  ]
  for (const [what, make, description, error = 'invalid_dpop_proof'] of refusals) {
    it(`refuses ${what}`, async () => {
      const [authorization, dpop] = await make()
      const r = await refusal(await post(required.url, authorization, dpop))
      assert.equal(r.status, 401)
      assert.equal(r.error, error)
      assert.match(r.description, description)
      assert.equal(parseWwwAuthenticate(r.challenge)?.scheme, 'DPoP')
    })
  }

  it('accepts proofs within the 30 s clock skew', async () => {
    for (const offset of [-320, 25]) {
      const res = await post(required.url, `DPoP ${bound}`, await good(required.url, {iat: Math.floor(Date.now() / 1000) + offset}))
      assert.equal(res.status, 200, `iat offset ${offset}`)
      await res.text()
    }
  })

  it('takes a bound token under Bearer with its proof, as Authplane\'s resource servers do; the proof is checked all the same', async () => {
    // ts-sdk extractBearerToken accepts `Bearer` and `DPoP`; the Python adapters read only Bearer.
    const res = await post(required.url, `Bearer ${bound}`, await good(required.url))
    assert.equal(res.status, 200, await res.clone().text())
    await res.text()
    const stranger = await refusal(await post(required.url, `Bearer ${bound}`, await proof(await proofKey(), {htm: 'POST', htu: required.url, ath: ath(bound)})))
    assert.equal(stranger.status, 401)
    assert.match(stranger.description, /does not match the token's cnf.jkt/)
  })

  it('accepts a proof up to 330 s old (300 s plus the 30 s skew, as Authplane\'s SDKs count) and says so when it refuses an older one', async () => {
    // R3-08 (issue 19): the refusal said "over 300 s" while 330 s passed.
    const ok = await post(required.url, `DPoP ${bound}`, await good(required.url, {iat: Math.floor(Date.now() / 1000) - 315}))
    assert.equal(ok.status, 200)
    await ok.text()
    const r = await refusal(await post(required.url, `DPoP ${bound}`, await good(required.url, {iat: Math.floor(Date.now() / 1000) - 340})))
    assert.equal(r.status, 401)
    assert.match(r.description, /^DPoP proof is 34\d s old \(over 330 s: 300 s plus 30 s of clock skew; check the clock\)$/)
  })

  it('refuses a replayed proof', async () => {
    const once = await good(required.url)
    const first = await post(required.url, `DPoP ${bound}`, once)
    assert.equal(first.status, 200)
    await first.text()
    const r = await refusal(await post(required.url, `DPoP ${bound}`, once))
    assert.equal(r.error, 'invalid_dpop_proof')
    assert.match(r.description, /already used \(jti replay\)/)
  })

  it('allowed: takes Bearer tokens and bound tokens with proofs; the Bearer refusal also offers DPoP', async () => {
    const allowed = await server({dpop: 'allowed'})
    const bearer = await post(allowed.url, `Bearer ${await issuer.token()}`)
    assert.equal(bearer.status, 200)
    await bearer.text()
    const dpop = await post(allowed.url, `DPoP ${bound}`, await good(allowed.url))
    assert.equal(dpop.status, 200)
    await dpop.text()
    const r = await refusal(await post(allowed.url, 'Bearer not-a-jwt'))
    assert.match(r.challenge, /^Bearer error="invalid_token", .*, DPoP algs="ES256 RS256"$/)
    const unbound = await refusal(await post(allowed.url, `DPoP ${await issuer.token()}`, await good(allowed.url)))
    assert.match(unbound.description, /not DPoP-bound/)
  })

  it('off: refuses the DPoP scheme and bound tokens, as tier 01 does', async () => {
    const off = await server({})
    const r = await refusal(await post(off.url, `DPoP ${bound}`, await good(off.url)))
    assert.match(r.description, /DPoP is not supported by this resource/)
    assert.match(r.challenge, /^Bearer /)
    assert.doesNotMatch(r.challenge, /DPoP algs/)
  })

  it('nonces: demands the DPoP-Nonce value with use_dpop_nonce, then accepts it', async () => {
    const withNonce = await server({dpop: 'required', dpopNonce: true})
    const first = await post(withNonce.url, `DPoP ${bound}`, await good(withNonce.url))
    const nonce = first.headers.get('dpop-nonce')
    const r = await refusal(first)
    assert.equal(r.status, 401)
    assert.equal(r.error, 'use_dpop_nonce')
    assert.match(r.challenge, /^DPoP error="use_dpop_nonce"/)
    assert.ok(nonce && nonce.length >= 16)
    const second = await post(withNonce.url, `DPoP ${bound}`, await good(withNonce.url, {nonce}))
    assert.equal(second.status, 200)
    assert.equal(second.headers.get('dpop-nonce'), nonce)
    await second.text()
    const stale = await refusal(await post(withNonce.url, `DPoP ${bound}`, await good(withNonce.url, {nonce: 'made-up'})))
    assert.equal(stale.error, 'use_dpop_nonce')
  })
})

describe('MCP server per-tool scopes', () => {
  let issuer: IssuerFixture
  let mcp: McpServerHandle
  before(async () => {
    issuer = await IssuerFixture.start()
    mcp = await startMcpServer({issuer: issuer.issuer, port: 0, toolScopes: {whoami: 'mcp:whoami'}})
    issuer.audience = mcp.resource
  })
  after(async () => {
    await mcp.stop()
    await issuer.stop()
  })

  async function session(token: string): Promise<string> {
    const init = await post(mcp.url, `Bearer ${token}`)
    await init.text()
    return init.headers.get('mcp-session-id')!
  }
  const call = (token: string, sessionId: string, name: string) =>
    fetch(mcp.url, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', Accept: ACCEPT_BOTH, Authorization: `Bearer ${token}`, 'Mcp-Session-Id': sessionId, 'Mcp-Protocol-Version': '2025-06-18'},
      body: JSON.stringify({jsonrpc: '2.0', id: 7, method: 'tools/call', params: {name, arguments: name === 'echo' ? {text: 'hi'} : {}}}),
    })

  it('lists every scope in the resource metadata', async () => {
    const prm = (await (await fetch(mcp.resourceMetadataUrl)).json()) as {scopes_supported: string[]}
    assert.deepEqual(prm.scopes_supported, ['mcp:echo', 'mcp:whoami'])
  })

  it('refuses a tool call without the tool\'s scope with 403 insufficient_scope and scope=', async () => {
    const token = await issuer.token()
    const sessionId = await session(token)
    const echo = await call(token, sessionId, 'echo')
    assert.equal(echo.status, 200)
    await echo.text()
    const r = await refusal(await call(token, sessionId, 'whoami'))
    assert.equal(r.status, 403)
    assert.equal(r.error, 'insufficient_scope')
    assert.equal(r.description, 'tool "whoami" requires the scope mcp:whoami')
    assert.equal(parseWwwAuthenticate(r.challenge)?.params.scope, 'mcp:echo mcp:whoami')
  })

  it('runs the tool for a token with its scope', async () => {
    const token = await issuer.token({claims: {scope: 'mcp:echo mcp:whoami'}})
    const res = await call(token, await session(token), 'whoami')
    assert.equal(res.status, 200)
    assert.match(await res.text(), /scope mcp:echo mcp:whoami/)
  })

  it('refuses a tool scope that is not one scope token', async () => {
    await assert.rejects(startMcpServer({issuer: issuer.issuer, port: 0, toolScopes: {echo: 'a b'}}), /not a single scope token/)
  })
})

describe('DPoP replay cache', () => {
  it('is bounded in memory and in time', () => {
    const cache = new ReplayCache(3)
    assert.equal(cache.remember('a', 100, 0), true)
    assert.equal(cache.remember('a', 100, 1), false)
    cache.remember('b', 100, 1)
    cache.remember('c', 100, 1)
    cache.remember('d', 100, 1)
    assert.equal(cache.size, 3)
    assert.equal(cache.remember('a', 100, 2), true, 'the oldest entry was evicted')
    assert.equal(cache.remember('d', 100, 101), true, 'an expired entry no longer counts')
  })
})
