import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, it} from 'node:test'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {ConfigStore} from '../../src/config/store.js'

const here = dirname(fileURLToPath(import.meta.url))
const storeModule = pathToFileURL(join(here, '..', '..', 'src', 'config', 'store.js')).href

describe('the config store', () => {
  it('writes a 0600 file in a 0700 directory', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ap-demo-store-')), 'ap-demo')
    try {
      const store = new ConfigStore({cwd: dir})
      store.updateProfile('default', (p) => {
        p.issuer = 'http://localhost:9000'
      })
      assert.equal(statSync(store.path).mode & 0o777, 0o600)
      assert.equal(statSync(dir).mode & 0o777, 0o700)
      assert.equal(store.getProfile('default').issuer, 'http://localhost:9000')
    } finally {
      rmSync(dirname(dir), {recursive: true, force: true})
    }
  })

  it('loses no update when several processes write at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-store-'))
    try {
      // Each worker adds its own keys to one profile, 25 times, all at the same time.
      const worker = (n: number) => `
        const {ConfigStore} = await import(${JSON.stringify(storeModule)});
        const store = new ConfigStore({cwd: ${JSON.stringify(dir)}});
        for (let i = 0; i < 25; i++) store.updateProfile('shared', (p) => { p.tokens = {...p.tokens, ['w${n}-' + i]: {expiresAt: 1, result: {}}} });`
      const runs = [0, 1, 2, 3].map(
        (n) =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', worker(n)], {stdio: ['ignore', 'ignore', 'inherit']})
            child.on('close', resolve)
          }),
      )
      assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0])
      const store = new ConfigStore({cwd: dir})
      assert.equal(Object.keys(store.getProfile('shared').tokens ?? {}).length, 100)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('refuses to overwrite a store it cannot parse, and says how to recover', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-store-'))
    try {
      writeFileSync(join(dir, 'config.json'), '{"profiles": {"default": {"client": ', {mode: 0o600})
      assert.throws(() => new ConfigStore({cwd: dir}).updateProfile('default', () => {}), (e: Error & {code?: string; hint?: string}) => e.code === 'store_unreadable' && /mv /.test(e.hint ?? ''))
      assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"profiles": {"default": {"client": ', 'the damaged file is left as it was')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
