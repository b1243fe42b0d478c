import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import type {StackHandle} from '../../src/stack/types.js'
import {Browser} from '../stack/authserver/browser.js'
import {assertCleanFailure, closedPort, Sandbox, useTestStack} from './helpers.js'

async function canSignIn(publicUrl: string, email: string, password: string): Promise<boolean> {
  const b = new Browser(publicUrl)
  return (await b.signIn(await b.get('/login'), email, password)).status === 303
}

describe('users: setup user and stack up --user', () => {
  let stack: StackHandle
  let env: NodeJS.ProcessEnv
  useTestStack((s) => ({stack, env} = s))
  const sandbox = new Sandbox()
  after(() => sandbox.cleanup())

  it('setup user creates (password generated and shown once, or from AP_DEMO_USER_PASSWORD), keeps, disables, enables, lists, deletes', async () => {
    const created = await sandbox.run(['setup', 'user', '--email', 'ann@example.test', '--name', 'Ann', '--json'], {env})
    assert.equal(created.code, 0, created.stderr)
    const r = JSON.parse(created.stdout).result
    assert.equal(r.action, 'created')
    assert.equal(r.passwordSource, 'generated')
    assert.match(r.password, /^[\w-]{24}$/)
    assert.equal(r.users[0].email, 'ann@example.test')
    assert.ok(await canSignIn(stack.publicUrl, 'ann@example.test', r.password))

    const kept = JSON.parse((await sandbox.run(['setup', 'user', '--email', 'ANN@example.test', '--json'], {env})).stdout).result
    assert.equal(kept.action, 'kept')
    assert.equal(kept.password, null)
    assert.ok(await canSignIn(stack.publicUrl, 'ann@example.test', r.password), 'a kept user keeps its password')

    const human = await sandbox.run(['setup', 'user', '--email', 'bo@example.test'], {env: {...env, AP_DEMO_USER_PASSWORD: 'bo-password-1'}})
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /user bo@example\.test created/)
    assert.match(human.stdout, /password from env AP_DEMO_USER_PASSWORD/)
    assert.doesNotMatch(human.stdout + human.stderr, /bo-password-1/)
    assert.ok(await canSignIn(stack.publicUrl, 'bo@example.test', 'bo-password-1'))

    const disabled = await sandbox.run(['setup', 'user', '--email', 'bo@example.test', '--disable'], {env})
    assert.match(disabled.stdout, /user bo@example\.test disabled/)
    assert.equal(await canSignIn(stack.publicUrl, 'bo@example.test', 'bo-password-1'), false)
    assert.match((await sandbox.run(['setup', 'user', '--email', 'bo@example.test', '--disable'], {env})).stdout, /already disabled/)
    assert.match((await sandbox.run(['setup', 'user', '--email', 'bo@example.test', '--enable'], {env})).stdout, /enabled/)
    assert.ok(await canSignIn(stack.publicUrl, 'bo@example.test', 'bo-password-1'))

    const list = JSON.parse((await sandbox.run(['setup', 'user', '--list', '--json'], {env})).stdout).result
    assert.deepEqual(list.users.map((u: any) => u.email).sort(), ['ann@example.test', 'bo@example.test'])
    assert.ok(list.users.every((u: any) => !('password_hash' in u)))

    assert.match((await sandbox.run(['setup', 'user', '--email', 'bo@example.test', '--delete'], {env})).stdout, /deleted/)
    assertCleanFailure(await sandbox.run(['setup', 'user', '--email', 'bo@example.test', '--delete'], {env}), 5, /no user with email bo@example\.test/)
    assertCleanFailure(await sandbox.run(['setup', 'user', '--email', 'not-an-email'], {env}), 2, /not an email address/)
    assertCleanFailure(await sandbox.run(['setup', 'user'], {env}), 2, /--email is required/)
  })

  it('setup user offers only the flags it uses (profile, admin API, request), and they work', async () => {
    const help = await sandbox.run(['setup', 'user', '-h'], {env})
    assert.equal(help.code, 0, help.stderr)
    for (const unused of ['--issuer', '--mcp-url', '--resource']) assert.doesNotMatch(help.stdout, new RegExp(`${unused}\\b`), `${unused} in setup user -h`)
    for (const used of ['--profile', '--admin-url', '--admin-key', '--print-curl', '--no-input']) assert.match(help.stdout, new RegExp(`${used}\\b`), `${used} missing`)
    assertCleanFailure(await sandbox.run(['setup', 'user', '--list', '--issuer', 'http://localhost:9000'], {env}), 2, /Nonexistent flag: --issuer/)

    const {AUTHPLANE_ADMIN_URL: _url, ...withoutUrl} = env
    const listed = await sandbox.run(['setup', 'user', '--list', '--admin-url', stack.adminUrl, '--profile', 'other', '--json'], {env: withoutUrl})
    assert.equal(listed.code, 0, listed.stderr)
    assert.equal(JSON.parse(listed.stdout).result.profile, 'other')
    const curl = await sandbox.run(['setup', 'user', '--list', '--admin-url', stack.adminUrl, '--print-curl'], {env: withoutUrl})
    assert.equal(curl.code, 0, curl.stderr)
    assert.match(curl.stderr, new RegExp(`curl .*${stack.adminUrl.replaceAll('.', '\\.')}/admin/users`))
    assertCleanFailure(await sandbox.run(['setup', 'user', '--list', '--admin-url', `http://127.0.0.1:${await closedPort()}`, '--request-timeout', '2'], {env: withoutUrl}), 4, /./)
  })

  it('stack up --user creates the user once and keeps it (and its password) across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ap-demo-users-'))
    const args = ['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--data-dir', dataDir, '--no-save', '--json', '--user', 'cy@example.test']
    try {
      const first = await sandbox.startJson(args)
      let password: string
      try {
        const u = first.doc.result.user
        assert.deepEqual({email: u.email, created: u.created, source: u.passwordSource}, {email: 'cy@example.test', created: true, source: 'generated'})
        password = u.password
        assert.ok(await canSignIn(first.doc.result.publicUrl, 'cy@example.test', password))
      } finally {
        first.child.kill('SIGTERM')
        await new Promise((resolve) => first.child.once('close', resolve))
      }
      const second = await sandbox.startJson(args, {env: {AP_DEMO_USER_PASSWORD: 'ignored-for-an-existing-user'}})
      try {
        const u = second.doc.result.user
        assert.equal(u.created, false)
        assert.equal(u.password, null)
        assert.ok(await canSignIn(second.doc.result.publicUrl, 'cy@example.test', password))
      } finally {
        second.child.kill('SIGTERM')
        await new Promise((resolve) => second.child.once('close', resolve))
      }
      assertCleanFailure(await sandbox.run(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--user', 'nope']), 2, /not an email address/)
    } finally {
      rmSync(dataDir, {recursive: true, force: true})
    }
  })
})
