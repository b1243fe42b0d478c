import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet} from 'jose'
import Database from 'better-sqlite3'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {MIGRATIONS} from '../../../src/stack/authserver/store/db.js'
import {admin, assertOAuthError, createClient, createResource, RESOURCE_URI, start, token} from './helpers.js'

describe('authserver persistence across restarts', () => {
  const root = mkdtempSync(join(tmpdir(), 'ap-demo-authserver-'))
  const dataDir = join(root, 'data')
  let running: AuthServerHandle | undefined

  after(async () => {
    await running?.stop()
    rmSync(root, {recursive: true, force: true})
  })

  it('keeps resources, clients, secrets and the signing key', async () => {
    running = await start({dataDir})
    const first = running
    const resource = await createResource(first, {slug: 'persisted'})
    const client = await createClient(first)
    const t1 = await token(first, client, {resource: RESOURCE_URI})
    assert.equal(t1.status, 200, t1.text)
    const jwks1 = await (await fetch(`${first.publicUrl}/.well-known/jwks.json`)).json()
    await first.stop()
    running = undefined

    // Owner-only permissions on everything secret.
    assert.equal(statSync(dataDir).mode & 0o777, 0o700)
    for (const f of ['signing-key.json', 'pepper.key', 'authserver.db']) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f)
    assert.equal(readFileSync(join(dataDir, 'pepper.key')).length, 32)

    // Secrets are stored only as peppered HMACs; the migration ledger is in place.
    const db = new Database(join(dataDir, 'authserver.db'), {readonly: true})
    try {
      const row = db.prepare('SELECT secret_hash FROM clients WHERE id = ?').get(client.client_id) as {secret_hash: string}
      assert.match(row.secret_hash, /^hs256\$[A-Za-z0-9_-]{43}$/)
      assert.ok(!JSON.stringify(db.prepare('SELECT * FROM clients').all()).includes(client.client_secret))
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()
      assert.deepEqual(versions, MIGRATIONS.map((m) => m.version))
      assert.equal(db.prepare('SELECT COUNT(*) FROM issued_tokens').pluck().get(), 1)
    } finally {
      db.close()
    }

    running = await start({dataDir})
    const second = running
    assert.deepEqual((await admin(second, 'GET', `/admin/resources/${resource.id}`)).body, resource)
    assert.equal((await admin(second, 'GET', `/admin/clients/${client.client_id}`)).body.name, client.client_name)
    const jwks2 = (await (await fetch(`${second.publicUrl}/.well-known/jwks.json`)).json()) as any
    assert.deepEqual(jwks2, jwks1)
    const {payload} = await jwtVerify(t1.body.access_token, createLocalJWKSet(jwks2 as JSONWebKeySet), {audience: RESOURCE_URI, typ: 'at+jwt'})
    assert.equal(payload.sub, client.client_id)
    // Same port-0 default issuer rule, so compare with the token's own issuer string.
    assert.equal(typeof payload.iss, 'string')
    const t2 = await token(second, client, {resource: RESOURCE_URI})
    assert.equal(t2.status, 200, t2.text)
    // Issued-token rows survived too: the client still has a live token.
    assert.equal((await admin(second, 'DELETE', `/admin/clients/${client.client_id}`)).status, 409)
    await second.stop()
    running = undefined
  })

  it('keeps DPoP proof jtis and server nonces: a replayed proof stays refused, an issued nonce stays good', async () => {
    // A fixed issuer, so that a proof's htu names the same server before and after the restart.
    const options = {dataDir: join(root, 'dpop'), issuer: 'http://localhost:59999', dpop: {requireNonce: true}}
    const {privateKey, publicKey} = await generateKeyPair('ES256')
    const jwk = await exportJWK(publicKey)
    const proof = (nonce: string) => new SignJWT({jti: crypto.randomUUID(), htm: 'POST', htu: 'http://localhost:59999/oauth/token', iat: Math.floor(Date.now() / 1000), nonce})
      .setProtectedHeader({alg: 'ES256', typ: 'dpop+jwt', jwk}).sign(privateKey)

    running = await start(options)
    const client = await createClient(running)
    await createResource(running)
    const first = await token(running, client, {resource: RESOURCE_URI})
    const nonce = first.headers.get('dpop-nonce')!
    assert.ok(nonce)
    const used = await proof(nonce)
    const bound = await token(running, client, {resource: RESOURCE_URI}, {dpop: used})
    assert.equal(bound.status, 200, bound.text)
    assert.equal(bound.body.token_type, 'DPoP')
    await running.stop()

    running = await start(options)
    assertOAuthError(await token(running, client, {resource: RESOURCE_URI}, {dpop: used}), 400, 'invalid_dpop_proof', 'DPoP proof jti has already been used')
    const again = await token(running, client, {resource: RESOURCE_URI}, {dpop: await proof(nonce)})
    assert.equal(again.status, 200, again.text)
    assertOAuthError(await token(running, client, {resource: RESOURCE_URI}, {dpop: await proof('not-a-nonce-of-this-server')}), 400, 'use_dpop_nonce', 'DPoP proof nonce does not match server-issued nonce')
    await running.stop()
    running = undefined
  })
})
