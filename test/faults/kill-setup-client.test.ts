// kill -9 of `setup client --new` at random moments, 30 times: afterwards every client on the
// server is either in the store with a secret that mints, or gone. And `clean` removes every
// client ap-demo made in the profile, including the ones `--new` replaced.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {after, describe, it} from 'node:test'

import type {Profile} from '../../src/config/store.js'
import type {StackHandle} from '../../src/stack/index.js'
import {BIN, Sandbox, useTestStack} from '../cli/helpers.js'

async function serverClients(stack: StackHandle): Promise<Array<{id: string; name: string}>> {
  const r = await fetch(`${stack.adminUrl}/admin/clients?limit=500`, {headers: {authorization: `Bearer ${stack.adminKey}`}})
  assert.equal(r.status, 200)
  return (await r.json()) as Array<{id: string; name: string}>
}

async function mints(stack: StackHandle, id: string, secret: string): Promise<boolean> {
  const r = await fetch(`${stack.publicUrl}/oauth/token`, {
    method: 'POST',
    headers: {authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded'},
    body: 'grant_type=client_credentials',
  })
  await r.text()
  return r.status === 200
}

function profile(box: Sandbox): Profile {
  return (JSON.parse(readFileSync(box.storePath, 'utf8')) as {profiles: Record<string, Profile>}).profiles.default ?? {}
}

/** Every client on the server is the profile's client or a replaced one, each with a secret that mints. */
async function assertNothingLost(stack: StackHandle, box: Sandbox): Promise<number> {
  const p = profile(box)
  assert.deepEqual(p.pendingClients ?? [], [], 'no registration left unsettled')
  const known = new Map([p.client, ...(p.retiredClients ?? [])].filter((c) => c !== undefined).map((c) => [c.id, c.secret]))
  const onServer = await serverClients(stack)
  for (const c of onServer) {
    const secret = known.get(c.id)
    assert.ok(secret, `client ${c.id} is on the server but not in the store`)
    assert.ok(await mints(stack, c.id, secret), `the stored secret of ${c.id} does not mint`)
  }
  return onServer.length
}

describe('fault suite: kill -9 of setup client', () => {
  let stack: StackHandle
  let env: NodeJS.ProcessEnv
  useTestStack((s) => ({stack, env} = s))
  const box = new Sandbox()
  after(() => box.cleanup())

  it('loses no client over 30 kills at random moments, and clean then removes them all', async () => {
    const first = await box.run(['setup', 'client'], {env})
    assert.equal(first.code, 0, first.stderr)
    // Timed on a warm run: the first one also fills Node's compile cache, and kills timed from it
    // would land after the later, faster runs had ended.
    const started = Date.now()
    const warm = await box.run(['setup', 'client', '--new'], {env})
    assert.equal(warm.code, 0, warm.stderr)
    const full = Date.now() - started
    let killed = 0
    for (let run = 0; run < 30; run++) {
      const child = spawn(process.execPath, [BIN, 'setup', 'client', '--new'], {cwd: box.root, env: {...box.env, ...env}, stdio: 'ignore'})
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
      // Most kills land in the second half, where the POST and the save happen.
      const delay = Math.floor(full * (0.3 + Math.random() * 0.7))
      const timer = setTimeout(() => {
        killed++
        child.kill('SIGKILL')
      }, delay)
      const code = await exited
      clearTimeout(timer)
      assert.ok(code === 0 || code === null, `setup client --new exited ${code}`)
    }
    assert.ok(killed > 0, 'some runs were killed')

    // The next command that touches the profile settles what the kills left.
    const next = await box.run(['setup', 'client'], {env})
    assert.equal(next.code, 0, next.stderr)
    const count = await assertNothingLost(stack, box)
    assert.ok(count >= 1)

    const clean = await box.run(['clean', '--yes'], {env})
    assert.equal(clean.code, 0, clean.stderr)
    assert.deepEqual(await serverClients(stack), [], 'clean left clients behind')
    const p = profile(box)
    assert.equal(p.client, undefined)
    assert.equal(p.retiredClients, undefined)
  })
})

describe('fault suite: clean after setup client --new', () => {
  let stack: StackHandle
  let env: NodeJS.ProcessEnv
  useTestStack((s) => ({stack, env} = s))
  const box = new Sandbox()
  after(() => box.cleanup())

  it('removes the clients that --new replaced (row 1b)', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await box.run(['setup', 'client', '--new'], {env})).code, 0)
    assert.equal((await serverClients(stack)).length, 3)
    assert.equal(await assertNothingLost(stack, box), 3)
    const clean = await box.run(['clean', '--yes'], {env})
    assert.equal(clean.code, 0, clean.stderr)
    assert.equal((clean.stdout.match(/client \S+ deleted/g) ?? []).length, 3, clean.stdout)
    assert.deepEqual(await serverClients(stack), [])
  })

  it('recovers a client whose registration was interrupted after the server made it', async () => {
    // The state a kill between the 201 and the save leaves: a pending record and an unknown client.
    assert.equal((await box.run(['setup', 'client'], {env})).code, 0)
    const before = profile(box)
    const startedAt = new Date().toISOString()
    const created = await fetch(`${stack.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: {authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json'},
      body: JSON.stringify({client_name: 'demo-agent-ts', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:echo'}),
    })
    const orphan = ((await created.json()) as {client_id: string}).client_id
    const store = JSON.parse(readFileSync(box.storePath, 'utf8'))
    store.profiles.default.pendingClients = [{name: 'demo-agent-ts', scope: 'mcp:echo', authMethod: 'client_secret_basic', adminUrl: stack.adminUrl, startedAt, timeoutMs: 10_000, pid: 2 ** 22 + 4321, replaces: before.client?.id}]
    const {writeFileSync} = await import('node:fs')
    writeFileSync(box.storePath, JSON.stringify(store))

    const next = await box.run(['setup', 'client'], {env})
    assert.equal(next.code, 0, next.stderr)
    assert.match(next.stderr, new RegExp(`interrupted after the server created client ${orphan}.*recovering it with a new secret`))
    const after = profile(box)
    assert.equal(after.client?.id, orphan, 'the interrupted run\'s client became the profile\'s, as that run meant')
    assert.deepEqual(after.retiredClients?.map((c) => c.id), [before.client?.id])
    assert.equal(await assertNothingLost(stack, box), 2)
    assert.equal((await box.run(['clean', '--yes'], {env})).code, 0)
    assert.deepEqual(await serverClients(stack), [])
  })
})
