import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {exportJWK, generateKeyPair, SignJWT} from 'jose'

import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import type {McpServerHandle} from '../../../src/stack/types.js'
import {hmacToken, initializeRequest, IssuerFixture, newSigningKey, postMcp, unsignedToken, type SigningKey} from './issuer-fixture.js'

/** The exact RFC 6750 challenge of contract §5, with `"` and `\` escaped. */
function challenge(mcp: McpServerHandle, error: string, description: string): string {
  const q = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`
  return `Bearer error=${q(error)}, error_description=${q(description)}, scope="mcp:echo", resource_metadata=${q(mcp.resourceMetadataUrl)}`
}

async function assertRefused(
  mcp: McpServerHandle,
  res: Response,
  status: 401 | 403,
  description: string | RegExp,
): Promise<void> {
  const error = status === 401 ? 'invalid_token' : 'insufficient_scope'
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/json')
  const body = (await res.json()) as {error: string; error_description: string}
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'])
  assert.equal(body.error, error)
  if (typeof description === 'string') assert.equal(body.error_description, description)
  else assert.match(body.error_description, description)
  assert.equal(res.headers.get('www-authenticate'), challenge(mcp, error, body.error_description))
  assert.ok(res.headers.get('www-authenticate')?.includes(`resource_metadata="${mcp.resourceMetadataUrl}"`))
}

describe('bearer checks on /mcp', () => {
  let issuer: IssuerFixture
  let mcp: McpServerHandle
  const now = () => Math.floor(Date.now() / 1000)
  const initWith = (token: string, headers?: Record<string, string>) =>
    postMcp(mcp.url, initializeRequest(), {token, headers})

  before(async () => {
    issuer = await IssuerFixture.start()
    mcp = await startMcpServer({issuer: issuer.issuer, port: 0})
    issuer.audience = mcp.resource
  })
  after(async () => {
    await mcp.stop()
    await issuer.stop()
  })

  it('accepts a valid token (and a token expired by 10 s, within the 30 s skew)', async () => {
    const ok = await initWith(await issuer.token())
    assert.equal(ok.status, 200)
    await ok.text()
    const recent = await initWith(await issuer.token({claims: {exp: now() - 10, iat: now() - 3610, nbf: now() - 3610}}))
    assert.equal(recent.status, 200)
    await recent.text()
  })

  it('refuses a request without Authorization header, on every method', async () => {
    for (const method of ['POST', 'GET', 'DELETE', 'PUT']) {
      const res = await fetch(mcp.url, {method, headers: {'Content-Type': 'application/json'}, body: method === 'GET' ? undefined : '{}'})
      await assertRefused(mcp, res, 401, 'Missing Authorization header')
    }
  })

  it('refuses a non-Bearer Authorization header', async () => {
    const res = await fetch(mcp.url, {method: 'POST', headers: {Authorization: 'Basic YTpi'}, body: '{}'})
    await assertRefused(mcp, res, 401, /Bearer <token>/)
  })

  it('refuses a DPoP header sent with a plain token', async () => {
    await assertRefused(mcp, await initWith(await issuer.token(), {DPoP: 'eyJhbGciOiJFUzI1NiJ9.e30.sig'}), 401, /DPoP/)
  })

  it('refuses a garbage token', async () => {
    await assertRefused(mcp, await initWith('not-a-jwt'), 401, /malformed token/)
  })

  it('refuses an alg:none token and an HS256 token before any key lookup', async () => {
    const fetches = issuer.jwksFetches
    await assertRefused(mcp, await initWith(unsignedToken(issuer)), 401, 'token alg "none" is not accepted (expected ES256 or RS256)')
    await assertRefused(mcp, await initWith(await hmacToken(issuer)), 401, 'token alg "HS256" is not accepted (expected ES256 or RS256)')
    assert.equal(issuer.jwksFetches, fetches)
  })

  it('refuses a token without kid', async () => {
    await assertRefused(mcp, await initWith(await issuer.token({header: {kid: undefined}})), 401, 'token header has no kid')
  })

  it('refuses a token of the wrong typ', async () => {
    await assertRefused(mcp, await initWith(await issuer.token({header: {typ: 'JWT'}})), 401, /token typ "JWT" is not at\+jwt/)
  })

  it('refuses a tampered signature', async () => {
    const [h, p, s] = (await issuer.token()).split('.')
    const sig = Buffer.from(s ?? '', 'base64url')
    sig[5] = (sig[5] ?? 0) ^ 0xff
    await assertRefused(mcp, await initWith(`${h}.${p}.${sig.toString('base64url')}`), 401, 'token signature is invalid')
    // A payload swapped under a valid signature is caught too.
    const other = (await issuer.token({claims: {scope: 'mcp:echo admin'}})).split('.')[1]
    await assertRefused(mcp, await initWith(`${h}.${other}.${s}`), 401, 'token signature is invalid')
  })

  it('refuses a token signed by a key the issuer does not publish under that kid', async () => {
    const stranger = await newSigningKey(issuer.currentKey.kid)
    await assertRefused(mcp, await initWith(await issuer.token({key: stranger})), 401, 'token signature is invalid')
  })

  it('refuses a wrong issuer', async () => {
    const res = await initWith(await issuer.token({claims: {iss: 'http://evil.example'}}))
    await assertRefused(mcp, res, 401, `unexpected issuer "http://evil.example" (expected ${issuer.issuer})`)
    const slash = await initWith(await issuer.token({claims: {iss: `${issuer.issuer}/`}}))
    await assertRefused(mcp, slash, 401, /^unexpected issuer/)
  })

  it('refuses a wrong audience', async () => {
    const res = await initWith(await issuer.token({claims: {aud: [issuer.issuer]}}))
    await assertRefused(mcp, res, 401, `token audience does not include ${mcp.resource}`)
    const slash = await initWith(await issuer.token({claims: {aud: [`${mcp.resource}/`]}}))
    await assertRefused(mcp, slash, 401, `token audience does not include ${mcp.resource}`)
  })

  it('refuses a token expired beyond the 30 s skew', async () => {
    const res = await initWith(await issuer.token({claims: {exp: now() - 60, iat: now() - 3660, nbf: now() - 3660}}))
    await assertRefused(mcp, res, 401, 'token expired')
  })

  it('refuses a token whose nbf is in the future beyond the skew', async () => {
    const res = await initWith(await issuer.token({claims: {nbf: now() + 120}}))
    await assertRefused(mcp, res, 401, 'token is not yet valid (nbf is in the future)')
  })

  it('refuses a token issued in the future', async () => {
    const res = await initWith(await issuer.token({claims: {iat: now() + 120}}))
    await assertRefused(mcp, res, 401, 'token iat is in the future')
  })

  it('refuses tokens missing jti, sub or client_id', async () => {
    await assertRefused(mcp, await initWith(await issuer.token({claims: {jti: undefined}})), 401, 'token has no jti claim')
    await assertRefused(mcp, await initWith(await issuer.token({claims: {sub: undefined}})), 401, 'token has no sub claim')
    await assertRefused(mcp, await initWith(await issuer.token({claims: {client_id: undefined}})), 401, 'token has no client_id claim')
  })

  it('refuses tokens missing exp or iat (RFC 9068 §2.2: both are required; jose checks them only when present)', async () => {
    // Mutant mcp-exp-required of the mutation run (scripts/mutants.mjs): a token without exp, valid
    // for ever, was accepted.
    await assertRefused(mcp, await initWith(await issuer.token({claims: {exp: undefined}})), 401, 'token has no exp claim')
    await assertRefused(mcp, await initWith(await issuer.token({claims: {iat: undefined}})), 401, 'token has no iat claim')
  })

  it('refuses a token whose alg is not the one its key declares, and takes RS256 from an RS256 key', async () => {
    // Mutant mcp-signature-key-alg: with the key's declared alg ignored, an RSA key published for
    // PS256 verified RS256 tokens.
    const rsa = await generateKeyPair('RS256', {extractable: true})
    const rsaJwk = await exportJWK(rsa.publicKey)
    const ps256Key: SigningKey = {kid: 'rsa-ps256', privateKey: rsa.privateKey, publicJwk: {...rsaJwk, kid: 'rsa-ps256', alg: 'PS256', use: 'sig'}}
    const rs256Key: SigningKey = {kid: 'rsa-rs256', privateKey: rsa.privateKey, publicJwk: {...rsaJwk, kid: 'rsa-rs256', alg: 'RS256', use: 'sig'}}
    const served = issuer.keys
    issuer.keys = [...served, ps256Key, rs256Key]
    try {
      await assertRefused(mcp, await initWith(await issuer.token({key: ps256Key, header: {alg: 'RS256'}})), 401, 'token alg RS256 does not match the alg "PS256" of key "rsa-ps256"')
      // An ES256 key named in an RS256 token: the same rule speaks first.
      const ec = issuer.currentKey
      const forged = await new SignJWT(issuer.claims()).setProtectedHeader({alg: 'RS256', kid: ec.kid, typ: 'at+jwt'}).sign(rsa.privateKey)
      await assertRefused(mcp, await initWith(forged), 401, `token alg RS256 does not match the alg "ES256" of key "${ec.kid}"`)
      const ok = await initWith(await issuer.token({key: rs256Key, header: {alg: 'RS256'}}))
      assert.equal(ok.status, 200)
      await ok.text()
    } finally {
      issuer.keys = served
    }
  })

  it('refuses a DPoP-bound token (cnf claim)', async () => {
    const res = await initWith(await issuer.token({claims: {cnf: {jkt: 'x'.repeat(43)}}}))
    await assertRefused(mcp, res, 401, /sender-constrained \(cnf claim\)/)
  })

  it('answers 403 insufficient_scope when the scope is missing', async () => {
    await assertRefused(mcp, await initWith(await issuer.token({claims: {scope: 'mcp:other'}})), 403, 'token lacks the required scope mcp:echo')
    await assertRefused(mcp, await initWith(await issuer.token({claims: {scope: undefined}})), 403, 'token lacks the required scope mcp:echo')
    // A scope is a whole space-separated word, not a substring.
    await assertRefused(mcp, await initWith(await issuer.token({claims: {scope: 'mcp:echoes'}})), 403, /required scope/)
  })

  it('escapes quotes and backslashes in the challenge', async () => {
    const res = await initWith(await issuer.token({claims: {iss: 'http://a"b\\c'}}))
    assert.equal(res.status, 401)
    const header = res.headers.get('www-authenticate') ?? ''
    assert.ok(header.includes('error_description="unexpected issuer \\"http://a\\"b\\\\c\\" (expected '), header)
    await res.text()
  })
})
