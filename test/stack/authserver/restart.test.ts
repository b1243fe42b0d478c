import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {createLocalJWKSet, jwtVerify, type JSONWebKeySet} from 'jose'
import Database from 'better-sqlite3'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {MIGRATIONS} from '../../../src/stack/authserver/store/db.js'
import {admin, createClient, createResource, RESOURCE_URI, start, token} from './helpers.js'

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
})
