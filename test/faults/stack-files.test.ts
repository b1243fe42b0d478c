// The embedded stack's own files under faults: key material missing or garbage, a database that
// is not one, a data directory that cannot be made, is read-only or full, and kill -9 at random
// moments while clients are being registered and tokens minted.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, describe, it} from 'node:test'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {StackFileError, startStack, type StackHandle} from '../../src/stack/index.js'
import {ADMIN_KEY, createClient, createResource, RESOURCE_URI, start, token} from '../stack/authserver/helpers.js'
import {BIN, Sandbox, terminate} from '../cli/helpers.js'
import {fill, mountTmpfs, type Tmpfs} from './tmpfs.js'

const stackModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'stack', 'index.js')).href

async function startError(promise: Promise<{stop(): Promise<void>}>): Promise<StackFileError> {
  let started: {stop(): Promise<void>} | undefined
  try {
    started = await promise
  } catch (error) {
    assert.ok(error instanceof StackFileError, `expected a StackFileError, got ${(error as Error)?.stack ?? String(error)}`)
    return error
  }
  await started.stop()
  assert.fail('expected the start to be refused')
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of readdirSync(dir).sort()) {
    if (/^authserver\.db-(wal|shm)$/.test(f)) continue
    out[f] = readFileSync(join(dir, f)).toString('base64')
  }
  return out
}

describe('fault suite: the stack\'s key material', () => {
  const root = mkdtempSync(join(tmpdir(), 'ap-demo-stackfiles-'))
  after(() => rmSync(root, {recursive: true, force: true}))
  let n = 0
  const freshDir = () => join(root, `data-${++n}`)

  it('refuses to start when pepper.key is gone but clients are registered, and writes nothing', async () => {
    const dataDir = freshDir()
    const first = await start({dataDir})
    await createResource(first)
    const client = await createClient(first)
    await first.stop()
    const pepper = readFileSync(join(dataDir, 'pepper.key'))
    rmSync(join(dataDir, 'pepper.key'))
    const before = snapshot(dataDir)

    const error = await startError(start({dataDir}))
    assert.equal(error.problem, 'missing')
    assert.equal(error.file, join(dataDir, 'pepper.key'))
    assert.match(error.message, /1 registered client secret was hashed with it/)
    assert.match(error.remedy, /Restore .*pepper\.key from a backup, or move .* away/)
    assert.deepEqual(snapshot(dataDir), before, 'no new pepper and no new signing key written')

    // The way out named first: the restored file brings every client back.
    writeFileSync(join(dataDir, 'pepper.key'), pepper, {mode: 0o600})
    const again = await start({dataDir})
    try {
      const t = await token(again, client, {resource: RESOURCE_URI})
      assert.equal(t.status, 200, t.text)
      assert.deepEqual(again.notices, [])
    } finally {
      await again.stop()
    }
  })

  it('makes a pepper silently when no client has a secret yet', async () => {
    const dataDir = freshDir()
    const first = await start({dataDir})
    await createResource(first)
    await first.stop()
    rmSync(join(dataDir, 'pepper.key'))
    const again = await start({dataDir})
    await again.stop()
    assert.equal(readFileSync(join(dataDir, 'pepper.key')).length, 32)
  })

  it('says so when signing-key.json is gone while tokens are live, and names the consequence', async () => {
    const dataDir = freshDir()
    const first = await start({dataDir})
    assert.deepEqual(first.notices, [], 'a first start is not a replacement')
    await createResource(first)
    const client = await createClient(first)
    for (let i = 0; i < 2; i++) assert.equal((await token(first, client, {resource: RESOURCE_URI})).status, 200)
    const oldKid = ((await (await fetch(`${first.publicUrl}/.well-known/jwks.json`)).json()) as {keys: Array<{kid: string}>}).keys[0]?.kid
    await first.stop()
    rmSync(join(dataDir, 'signing-key.json'))

    const second = await start({dataDir})
    try {
      assert.equal(second.notices.length, 1)
      const notice = second.notices[0]!
      assert.equal(notice.code, 'signing_key_replaced')
      assert.equal(notice.file, join(dataDir, 'signing-key.json'))
      assert.equal(notice.liveTokens, 2)
      assert.ok(Date.parse(notice.lastExpiry) > Date.now())
      const newKid = ((await (await fetch(`${second.publicUrl}/.well-known/jwks.json`)).json()) as {keys: Array<{kid: string}>}).keys[0]?.kid
      assert.notEqual(newKid, oldKid)
    } finally {
      await second.stop()
    }
    // Said once: the next start has the new key and nothing to report.
    const third = await start({dataDir})
    await third.stop()
    assert.deepEqual(third.notices, [])
  })

  it('stack up reports the replaced signing key: a warning on stderr, the notice in --json', async () => {
    const dataDir = freshDir()
    const first = await start({dataDir})
    await createResource(first)
    const client = await createClient(first)
    assert.equal((await token(first, client, {resource: RESOURCE_URI})).status, 200)
    await first.stop()
    rmSync(join(dataDir, 'signing-key.json'))
    const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: ADMIN_KEY})
    try {
      const {child, doc} = await box.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--no-save', '--data-dir', dataDir, '--json'])
      await terminate(child)
      assert.deepEqual(doc.result.notices.map((n: {code: string; liveTokens: number}) => [n.code, n.liveTokens]), [['signing_key_replaced', 1]])
      rmSync(join(dataDir, 'signing-key.json'))
      // Human output: wait for the start to be announced, then stop it.
      const proc = spawn(process.execPath, [BIN, 'stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--no-save', '--data-dir', dataDir], {env: box.env, stdio: ['ignore', 'pipe', 'pipe']})
      let stderr = ''
      await new Promise<void>((resolve, reject) => {
        proc.stderr.on('data', (d) => {
          stderr += d
          if (stderr.includes('Ctrl-C')) resolve()
        })
        proc.on('close', () => reject(new Error(`stack up ended early: ${stderr}`)))
      })
      await terminate(proc)
      const result = {stderr}
      assert.match(result.stderr, /^Warning: .*signing-key\.json was missing while 1 token signed with it was still live .*every resource server will refuse those tokens/m)
      assert.match(result.stderr, /^Hint: Their clients must mint new tokens/m)
    } finally {
      box.cleanup()
    }
  })

  const garbage: Array<[string, string | Buffer, RegExp]> = [
    ['signing-key.json', 'not json at all', /not a usable signing key \(not JSON\)/],
    ['signing-key.json', '[]', /not a JSON object/],
    ['signing-key.json', '{"kty":"RSA","n":"x","e":"AQAB","d":"y"}', /EC P-256/],
    ['signing-key.json', '{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","d":"AAAA"}', /key material is invalid/],
    ['pepper.key', 'short', /exactly 32 bytes \(found 5\)/],
    ['pepper.key', Buffer.alloc(33, 7), /exactly 32 bytes \(found 33\)/],
    ['authserver.db', Buffer.from('this is not an SQLite database, just bytes '.repeat(200)), /not an SQLite database/],
    ['admin-key', '', /admin key file is empty/],
    ['admin-key', 'key-with-\u0007-bell-and-long-enough\n', /other than visible ASCII/],
    ['admin-key', 'first-line-of-the-key-0123\r\nsecond-line\n', /other than visible ASCII/],
  ]
  for (const [file, content, reason] of garbage) {
    it(`names garbage in ${file} (${JSON.stringify(content.toString().slice(0, 24))}) and changes nothing`, async () => {
      const dataDir = freshDir()
      const first = await startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir})
      await first.stop()
      writeFileSync(join(dataDir, file), content, {mode: 0o600})
      const before = snapshot(dataDir)
      const error = await startError(startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir}))
      assert.equal(error.problem, 'corrupt')
      assert.equal(error.file, join(dataDir, file))
      assert.match(error.message, reason)
      assert.ok(error.message.startsWith(join(dataDir, file)))
      assert.ok(error.remedy.length > 0)
      assert.deepEqual(snapshot(dataDir), before)
    })
  }
})

describe('fault suite: a data directory that cannot be used', () => {
  const root = mkdtempSync(join(tmpdir(), 'ap-demo-datadir-'))
  after(() => rmSync(root, {recursive: true, force: true}))

  it('names a data dir that is a file, and one under a file', async () => {
    const file = join(root, 'a-file')
    writeFileSync(file, 'x')
    for (const dataDir of [file, join(file, 'sub')]) {
      const error = await startError(startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir}))
      assert.equal(error.problem, 'filesystem')
      assert.equal(error.errno, 'ENOTDIR')
      assert.ok(error.file.startsWith(file))
      assert.match(error.remedy, /must be a directory/)
    }
  })

  it('ends with ENOENT for a data dir under /proc instead of spinning forever', {skip: process.platform !== 'linux' && 'procfs is Linux only'}, async () => {
    // In a child: a spinning mkdir would never give the event loop back, so an in-process test could not time out.
    const code = `
      const {startStack} = await import(${JSON.stringify(stackModule)});
      try { await startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir: '/proc/ap-demo-x/data'}); console.log('started') }
      catch (e) { console.log(JSON.stringify({name: e.name, problem: e.problem, errno: e.errno, file: e.file})) }`
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exit = await new Promise((resolve) => child.on('close', (c, s) => resolve(s ?? c)))
    clearTimeout(timer)
    assert.equal(exit, 0, 'the start must end on its own')
    assert.deepEqual(JSON.parse(out), {name: 'StackFileError', problem: 'filesystem', errno: 'ENOENT', file: '/proc/ap-demo-x'})
  })

  const readOnly = mountTmpfs(64, {readOnly: true})
  it('names a read-only data dir (EROFS)', {skip: 'skip' in readOnly ? readOnly.skip : false}, async () => {
    const ro = readOnly as Tmpfs
    try {
      const error = await startError(startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir: join(ro.dir, 'stack')}))
      assert.equal(error.errno, 'EROFS')
      assert.equal(error.file, join(ro.dir, 'stack'))
      assert.match(error.remedy, /writable filesystem/)
    } finally {
      ro.unmount()
    }
  })

  const full = mountTmpfs(1024)
  it('names a full data dir (ENOSPC) and leaves no temporary files', {skip: 'skip' in full ? full.skip : false}, async () => {
    const fs = full as Tmpfs
    try {
      const dataDir = join(fs.dir, 'stack')
      mkdirSync(dataDir, {mode: 0o700})
      const filler = fill(fs.dir)
      const error = await startError(startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir}))
      assert.equal(error.problem, 'filesystem')
      assert.equal(error.errno, 'ENOSPC')
      assert.ok(error.file.startsWith(dataDir), error.file)
      assert.match(error.remedy, /Free some space/)
      assert.deepEqual(readdirSync(dataDir).filter((f) => f.endsWith('.tmp')), [])
      rmSync(filler)
      const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir})
      await stack.stop()
    } finally {
      fs.unmount()
    }
  })
})

describe('fault suite: kill -9 of the stack while it registers clients and mints tokens', () => {
  const root = mkdtempSync(join(tmpdir(), 'ap-demo-stackkill-'))
  after(() => rmSync(root, {recursive: true, force: true}))

  it('keeps every client it confirmed, with a secret that mints, over 10 kills at random moments', async () => {
    const dataDir = join(root, 'data')
    // The child confirms a client on stdout only after the admin API answered 201 with its secret.
    const child = `
      const {startStack} = await import(${JSON.stringify(stackModule)});
      const s = await startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir: ${JSON.stringify(dataDir)}, adminKey: ${JSON.stringify(ADMIN_KEY)}});
      const admin = (path, body) => fetch(s.adminUrl + path, {method: 'POST', headers: {authorization: 'Bearer ${ADMIN_KEY}', 'content-type': 'application/json'}, body: JSON.stringify(body)});
      await admin('/admin/resources', {slug: 'r-' + process.pid, uri: ${JSON.stringify(RESOURCE_URI)}, backend_kind: 'mint', scopes: [{name: 'mcp:echo'}]});
      console.log(JSON.stringify({ready: true}));
      for (;;) {
        const c = await (await admin('/admin/clients', {client_name: 'k', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:echo'})).json();
        console.log(JSON.stringify({client_id: c.client_id, client_secret: c.client_secret}));
        const basic = 'Basic ' + Buffer.from(c.client_id + ':' + c.client_secret).toString('base64');
        await fetch(s.publicUrl + '/oauth/token', {method: 'POST', headers: {authorization: basic, 'content-type': 'application/x-www-form-urlencoded'}, body: 'grant_type=client_credentials&resource=' + encodeURIComponent(${JSON.stringify(RESOURCE_URI)})});
      }`
    const confirmed: Array<{client_id: string; client_secret: string}> = []
    for (let run = 0; run < 10; run++) {
      const proc = spawn(process.execPath, ['--input-type=module', '-e', child], {stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      let err = ''
      proc.stderr.on('data', (d) => (err += d))
      const exited = new Promise((resolve) => proc.on('close', resolve))
      // Half the kills land during start-up (keys, database, listen), half while clients are made.
      const delay = run % 2 === 0 ? Math.floor(Math.random() * 250) : 300 + Math.floor(Math.random() * 400)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay + (run % 2 === 0 ? 0 : 10_000))
        proc.stdout.on('data', (d) => {
          out += d
          if (run % 2 === 1 && out.includes('"ready"')) {
            clearTimeout(timer)
            setTimeout(resolve, delay - 300)
          }
        })
      })
      proc.kill('SIGKILL')
      await exited
      assert.doesNotMatch(err, /Error/, err)
      for (const line of out.split('\n')) if (line.includes('client_secret')) confirmed.push(JSON.parse(line))
      // Whatever the moment, the stack starts again without complaint.
      const stack: StackHandle = await startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir, adminKey: ADMIN_KEY})
      await stack.stop()
    }
    assert.ok(confirmed.length > 0, 'some clients were confirmed before the kills')
    // Every confirmed client mints once, from one address, faster than the real server's
    // per-address rate limit allows (burst 200): that limit is not what this test is about.
    const stack = await start({dataDir, rateLimit: {enabled: false}})
    try {
      for (const c of confirmed) {
        const t = await token(stack, c, {resource: RESOURCE_URI})
        assert.equal(t.status, 200, `${c.client_id}: ${t.text}`)
      }
    } finally {
      await stack.stop()
    }
    assert.ok(existsSync(join(dataDir, 'pepper.key')))
  })
})
