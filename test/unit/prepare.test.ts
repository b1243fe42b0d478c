import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {rmSync, statSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {describe, it} from 'node:test'

// `prepare` runs after npm ci, and again on the first `npx ap-demo` of a clone (npm exec installs the
// project into its cache as file:, which runs prepare here): a full build there made the Quick
// start's first command sit silent for 20-30 s and rewrote the generated files. It builds only
// when dist/ is not the build of the sources as they are. npm test builds first, so here it is.
const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const prepare = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'prepare.mjs'), ...args], {cwd: ROOT, encoding: 'utf8'})

describe('prepare (npm ci, and the first npx ap-demo of a clone)', () => {
  it('knows dist/ is current after a build, and that it is not once a source file is added', () => {
    assert.equal(prepare('--check').status, 0, 'npm run build ends with prepare --stamp: run npm run build first')
    const probe = join(ROOT, 'scripts', `.prepare-probe-${process.pid}`)
    writeFileSync(probe, 'x')
    try {
      assert.equal(prepare('--check').status, 1)
    } finally {
      rmSync(probe)
    }
    assert.equal(prepare('--check').status, 0)
  })

  it('does nothing when dist/ is current: no build, no output, the generated files untouched', () => {
    const generated = ['docs/commands.md', 'oclif.manifest.json', 'dist/bundle'].map((p) => statSync(join(ROOT, p)).mtimeMs)
    const r = prepare()
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout + r.stderr, '')
    assert.deepEqual(['docs/commands.md', 'oclif.manifest.json', 'dist/bundle'].map((p) => statSync(join(ROOT, p)).mtimeMs), generated)
  })
})
