// The local store under faults: a really full filesystem, locks left behind by a failed write or
// a killed holder, files that are not a store at all.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {ConfigStore} from '../../src/config/store.js'
import {toCliError} from '../../src/cli/error-map.js'
import {ApDemoError} from '../../src/errors.js'
import {fill, mountTmpfs, type Tmpfs} from './tmpfs.js'

const storeModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'config', 'store.js')).href

function storeError(fn: () => unknown): ApDemoError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof ApDemoError, `expected an ApDemoError, got ${String(error)}`)
    return error
  }
  assert.fail('expected the store to throw')
}

describe('fault suite: the store on a really full filesystem', () => {
  const mounted = mountTmpfs(64)
  const skip = 'skip' in mounted ? mounted.skip : false
  const fs = mounted as Tmpfs
  after(() => {
    if (!skip) fs.unmount()
  })

  it('refuses a write on a full disk with exit 7 naming the file, leaves no lock, and works once space is freed', {skip}, () => {
    const store = new ConfigStore({cwd: join(fs.dir, 'ap-demo')})
    store.updateProfile('default', (p) => {
      p.issuer = 'http://localhost:9000'
    })
    const before = readFileSync(store.path)
    const filler = fill(fs.dir)
    // Twice: the first failure must not leave anything that jams the second (row 2 of issue 10).
    for (let i = 0; i < 2; i++) {
      const error = storeError(() =>
        store.updateProfile('default', (p) => {
          p.mcpUrl = 'x'.repeat(8192)
        }),
      )
      assert.equal(toCliError(error).exitCode, 7)
      assert.match(error.message, /config\.json(\.lock)? cannot be written \(ENOSPC\)/)
      assert.match(error.hint ?? '', /full/)
      assert.ok(!existsSync(`${store.path}.lock`), 'a lock that could not be written is removed')
      assert.deepEqual(readFileSync(store.path), before, 'the store is byte for byte unchanged')
    }
    rmSync(filler)
    const started = Date.now()
    store.updateProfile('default', (p) => {
      p.mcpUrl = 'http://localhost:8080/mcp'
    })
    assert.equal(store.getProfile('default').mcpUrl, 'http://localhost:8080/mcp')
    assert.ok(Date.now() - started < 5_000, 'no wait for a lock that nobody holds')
  })

  it('names a read-only store with exit 7', {skip}, () => {
    const ro = mountTmpfs(64, {readOnly: true}) as Tmpfs
    try {
      const error = storeError(() => new ConfigStore({cwd: join(ro.dir, 'ap-demo')}))
      assert.equal(toCliError(error).exitCode, 7)
      assert.match(error.message, /EROFS/)
      assert.ok(error.message.includes(ro.dir))
    } finally {
      ro.unmount()
    }
  })
})

describe('fault suite: locks that cannot jam', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ap-demo-locks-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('takes over an empty lock once it is a few seconds old', () => {
    const store = new ConfigStore({cwd: join(dir, 'empty')})
    writeFileSync(`${store.path}.lock`, '')
    const old = new Date(Date.now() - 5_000)
    utimesSync(`${store.path}.lock`, old, old)
    store.updateProfile('default', (p) => {
      p.issuer = 'http://localhost:9000'
    })
    assert.equal(store.getProfile('default').issuer, 'http://localhost:9000')
    assert.ok(!existsSync(`${store.path}.lock`))
  })

  it('takes over a fresh empty lock after the short bound, not after the 10 s lock timeout', () => {
    const store = new ConfigStore({cwd: join(dir, 'fresh')})
    writeFileSync(`${store.path}.lock`, '')
    store.updateProfile('default', (p) => {
      p.issuer = 'http://localhost:9000'
    })
    assert.equal(store.getProfile('default').issuer, 'http://localhost:9000')
  })

  it('takes over garbage in the lock file and a lock whose holder is gone', () => {
    const store = new ConfigStore({cwd: join(dir, 'garbage')})
    for (const text of ['\u0000\u0001\u0002', '999999999 1\n', `${2 ** 22 + 12345} ${Date.now()}\n`]) {
      writeFileSync(`${store.path}.lock`, text)
      const old = new Date(Date.now() - 5_000)
      utimesSync(`${store.path}.lock`, old, old)
      store.updateProfile('default', (p) => {
        p.tokens = {...p.tokens, [String(text.length)]: {expiresAt: 1, result: {accessToken: 'a', tokenType: 'Bearer', raw: {}}}}
      })
    }
    assert.equal(Object.keys(store.getProfile('default').tokens ?? {}).length, 3)
  })

  it('keeps a live holder\'s lock', () => {
    const store = new ConfigStore({cwd: join(dir, 'live'), lockTimeoutMs: 1_000})
    // Our parent is alive and is not us: its lock is held.
    writeFileSync(`${store.path}.lock`, `${process.ppid} ${Date.now()}\n`)
    const started = Date.now()
    const error = storeError(() => store.updateProfile('default', () => {}))
    assert.equal(error.code, 'store_locked')
    assert.equal(toCliError(error).exitCode, 7)
    assert.ok(Date.now() - started >= 900)
    rmSync(`${store.path}.lock`)
  })

  it('loses no update while writers are killed with SIGKILL in the middle', async () => {
    const cwd = join(dir, 'killed')
    new ConfigStore({cwd})
    const worker = (n: number, count: number) => `
      const {ConfigStore} = await import(${JSON.stringify(storeModule)});
      const store = new ConfigStore({cwd: ${JSON.stringify(cwd)}});
      for (let i = 0; i < ${count}; i++) store.updateProfile('shared', (p) => { p.tokens = {...p.tokens, ['w${n}-' + i]: {expiresAt: 1, result: {}}} });`
    const run = (n: number, count: number, killAfterMs?: number) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', worker(n, count)], {stdio: 'ignore'})
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs)
        child.on('close', (code) => resolve(code))
      })
    // Three victims write forever and die at random moments (inside the lock or outside it); three
    // survivors write 20 updates each and must all finish.
    const results = await Promise.all([
      ...[0, 1, 2].map((n) => run(100 + n, 1_000_000, 150 + Math.floor(Math.random() * 300))),
      ...[0, 1, 2].map((n) => run(n, 20)),
    ])
    assert.deepEqual(results.slice(3), [0, 0, 0])
    const tokens = new ConfigStore({cwd}).getProfile('shared').tokens ?? {}
    for (const n of [0, 1, 2]) for (let i = 0; i < 20; i++) assert.ok(`w${n}-${i}` in tokens, `update w${n}-${i} lost`)
    assert.ok(!existsSync(join(cwd, 'config.json.lock')) || statSync(join(cwd, 'config.json.lock')).size >= 0)
  })
})

describe('fault suite: files that are not a store', () => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['an array', '[]', /not a JSON object/],
    ['a string', '"ab"', /not a JSON object/],
    ['profiles as an array', '{"profiles":[]}', /"profiles" is not a JSON object/],
    ['binary bytes', Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0xfe, 0x07]), /not valid JSON/],
    ['a secret next to a typo', '{"profiles":{"default":{"client":{"secret":"s3cr3t-value"}},}', /not valid JSON/],
    ['an empty file', '', /not valid JSON/],
  ]
  for (const [name, content, pattern] of cases) {
    it(`refuses ${name} without changing it or echoing it`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'ap-demo-badstore-'))
      try {
        writeFileSync(join(dir, 'config.json'), content, {mode: 0o600})
        const before = readFileSync(join(dir, 'config.json'))
        const open = () => new ConfigStore({cwd: dir})
        for (const action of [() => open().getProfile('default'), () => open().updateProfile('default', () => {}), () => open().profileNames()]) {
          const error = storeError(action)
          assert.equal(toCliError(error).exitCode, 7)
          assert.match(error.message, pattern)
          assert.ok(error.message.includes(join(dir, 'config.json')))
          // Only printable ASCII, and none of the file's content.
          assert.match(error.message, /^[\x20-\x7e]+$/)
          assert.ok(!error.message.includes('s3cr3t'))
        }
        assert.deepEqual(readFileSync(join(dir, 'config.json')), before)
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    })
  }

  it('finds nothing, and crashes on nothing, for profile names that are Object.prototype members', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-proto-'))
    try {
      const store = new ConfigStore({cwd: dir})
      for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
        assert.deepEqual(store.getProfile(name), {})
        assert.equal(store.hasProfile(name), false)
        store.updateProfile(name, (p) => {
          p.issuer = `http://${name}.example`
        })
        assert.equal(store.getProfile(name).issuer, `http://${name}.example`)
      }
      assert.deepEqual(store.profileNames(), ['constructor', 'hasOwnProperty', 'toString', 'valueOf'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
