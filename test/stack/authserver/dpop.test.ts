import assert from 'node:assert/strict'
import {request} from 'node:http'
import {after, before, describe, it} from 'node:test'
import {exportJWK, generateKeyPair, SignJWT, type CryptoKey} from 'jose'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {assertOAuthError, createClient, createResource, RESOURCE_URI, start, token} from './helpers.js'

async function prover(h: AuthServerHandle): Promise<(claims?: Record<string, unknown>) => Promise<string>> {
  const {publicKey, privateKey} = await generateKeyPair('ES256')
  const jwk = await exportJWK(publicKey)
  return (claims = {}) => new SignJWT({jti: crypto.randomUUID(), htm: 'POST', htu: `${h.issuer}/oauth/token`, iat: Math.floor(Date.now() / 1000), ...claims})
    .setProtectedHeader({alg: 'ES256', typ: 'dpop+jwt', jwk})
    .sign(privateKey as CryptoKey)
}

describe('DPoP at the token endpoint (RFC 9449)', () => {
  let h: AuthServerHandle
  let client: any
  let proof: Awaited<ReturnType<typeof prover>>
  before(async () => {
    h = await start()
    await createResource(h)
    client = await createClient(h)
    proof = await prover(h)
  })
  after(async () => {
    await h.stop()
  })

  it('a proof is single-use: the same proof again is invalid_dpop_proof', async () => {
    const p = await proof()
    const first = await token(h, client, {resource: RESOURCE_URI}, {dpop: p})
    assert.equal(first.status, 200, first.text)
    assert.equal(first.body.token_type, 'DPoP')
    assertOAuthError(await token(h, client, {resource: RESOURCE_URI}, {dpop: p}), 400, 'invalid_dpop_proof', 'DPoP proof jti has already been used')
    // A new proof from the same key is fine.
    assert.equal((await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof()})).status, 200)
  })

  it('a refused request does not burn the proof (it is checked after client authentication and scope)', async () => {
    const p = await proof()
    assertOAuthError(await token(h, {client_id: client.client_id, client_secret: 'wrong'}, {resource: RESOURCE_URI}, {dpop: p}), 401, 'invalid_client')
    assert.equal((await token(h, client, {resource: RESOURCE_URI}, {dpop: p})).status, 200)
  })

  it('every token-endpoint response carries a fresh DPoP-Nonce, with or without a proof, success or error', async () => {
    const nonces = new Set<string>()
    for (const r of [
      await token(h, client, {resource: RESOURCE_URI}),
      await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof()}),
      await token(h, client, {grant_type: 'password'}),
      await token(h, client, {resource: RESOURCE_URI}, {dpop: 'garbage'}),
    ]) {
      const n = r.headers.get('dpop-nonce')
      assert.match(n ?? '', /^[A-Za-z0-9_-]{43}$/)
      nonces.add(n!)
    }
    assert.equal(nonces.size, 4)
    // Other endpoints do not.
    assert.equal((await fetch(`${h.publicUrl}/.well-known/oauth-authorization-server`)).headers.get('dpop-nonce'), null)
  })

  it('every structural fault is the one description "DPoP proof is invalid"', async () => {
    for (const bad of [await proof({htm: 'GET'}), await proof({htu: 'http://elsewhere/oauth/token'}), await proof({iat: Math.floor(Date.now() / 1000) - 61}), await proof({jti: ''}), 'not-a-jwt']) {
      assertOAuthError(await token(h, client, {resource: RESOURCE_URI}, {dpop: bad}), 400, 'invalid_dpop_proof', 'DPoP proof is invalid')
    }
    // Mutants of the mutation run (scripts/mutants.mjs) that the list above let through: a proof
    // made for another path of this server (as-dpop-htu-path), one dated in the future beyond the
    // lifetime, made ahead of time (as-dpop-future-iat), and one that is not typed dpop+jwt
    // (as-dpop-typ: an access token signed with an embedded key is not a proof).
    const nowS = Math.floor(Date.now() / 1000)
    const {publicKey, privateKey} = await generateKeyPair('ES256')
    const jwk = await exportJWK(publicKey)
    const typed = (typ: string) => new SignJWT({jti: crypto.randomUUID(), htm: 'POST', htu: `${h.issuer}/oauth/token`, iat: nowS})
      .setProtectedHeader({alg: 'ES256', typ, jwk}).sign(privateKey as CryptoKey)
    for (const bad of [await proof({htu: `${h.issuer}/oauth/introspect`}), await proof({htu: `${h.issuer}/oauth/token/x`}), await proof({htu: `${h.issuer}/`}),
      await proof({iat: nowS + 61}), await proof({iat: nowS + 3600}), await typed('JWT'), await typed('at+jwt')]) {
      assertOAuthError(await token(h, client, {resource: RESOURCE_URI}, {dpop: bad}), 400, 'invalid_dpop_proof', 'DPoP proof is invalid')
    }
    // Within the lifetime either way passes, and so does the type in another case.
    for (const good of [await proof({iat: nowS + 50}), await proof({iat: nowS - 50}), await typed('DPoP+JWT')]) {
      assert.equal((await token(h, client, {resource: RESOURCE_URI}, {dpop: good})).status, 200)
    }
    // Case-insensitive htm and htu host/scheme, as the real server compares them.
    const upper = new URL(`${h.issuer}/oauth/token`)
    assert.equal((await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof({htm: 'post', htu: `${upper.protocol}//${upper.host.toUpperCase()}${upper.pathname}?q=1`})})).status, 200)
  })
})

describe('DPoP header handling', () => {
  it('with two DPoP header lines the first one counts, like Go\'s Header.Get', async () => {
    const h = await start()
    try {
      await createResource(h)
      const client = await createClient(h)
      const proof = await prover(h)
      const [good, other] = [await proof(), await proof({htm: 'GET'})]
      const send = (dpop: string[]) => new Promise<{status: number; body: any}>((resolve, reject) => {
        const req = request(`${h.publicUrl}/oauth/token`, {method: 'POST', headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: 'Basic ' + Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64'),
          dpop,
        }}, (res) => {
          let text = ''
          res.on('data', (d) => (text += d))
          res.on('end', () => resolve({status: res.statusCode ?? 0, body: JSON.parse(text)}))
        })
        req.on('error', reject)
        req.end(`grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE_URI)}`)
      })
      const ok = await send([good, other])
      assert.equal(ok.status, 200, JSON.stringify(ok.body))
      assert.equal(ok.body.token_type, 'DPoP')
      const bad = await send([await proof({htm: 'GET'}), await proof()])
      assert.equal(bad.status, 400)
      assert.equal(bad.body.error, 'invalid_dpop_proof')
    } finally {
      await h.stop()
    }
  })
})

describe('DPoP settings', () => {
  it('requireNonce: no nonce -> use_dpop_nonce with a DPoP-Nonce to retry with; an issued nonce works; an unknown one does not', async () => {
    const h = await start({dpop: {requireNonce: true}})
    try {
      await createResource(h)
      const client = await createClient(h)
      const proof = await prover(h)
      const first = await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof()})
      assertOAuthError(first, 400, 'use_dpop_nonce', 'server nonce is required in DPoP proof')
      const nonce = first.headers.get('dpop-nonce')!
      assertOAuthError(await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof({nonce: 'made-up'})}), 400, 'use_dpop_nonce', 'DPoP proof nonce does not match server-issued nonce')
      const ok = await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof({nonce})})
      assert.equal(ok.status, 200, ok.text)
      assert.equal(ok.body.token_type, 'DPoP')
      // Without any DPoP header the request is a plain Bearer one and nonces do not apply.
      assert.equal((await token(h, client, {resource: RESOURCE_URI})).body.token_type, 'Bearer')
    } finally {
      await h.stop()
    }
  })

  it('proofLifetimeSeconds bounds a proof\'s age; out-of-range values refuse to start, like the real config check', async () => {
    const h = await start({dpop: {proofLifetimeSeconds: 10}})
    try {
      await createResource(h)
      const client = await createClient(h)
      const proof = await prover(h)
      assertOAuthError(await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof({iat: Math.floor(Date.now() / 1000) - 30})}), 400, 'invalid_dpop_proof')
      assert.equal((await token(h, client, {resource: RESOURCE_URI}, {dpop: await proof()})).status, 200)
    } finally {
      await h.stop()
    }
    await assert.rejects(start({dpop: {proofLifetimeSeconds: 5}}), /dpop.proof_lifetime must be between 10s and 300s/)
    await assert.rejects(start({dpop: {proofLifetimeSeconds: 301}}), /dpop.proof_lifetime must be between 10s and 300s/)
  })
})
