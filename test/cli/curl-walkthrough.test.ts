import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'

import type {StackHandle} from '../../src/stack/index.js'
import {ROOT, Sandbox, useTestStack} from './helpers.js'

describe('the tier-02 walkthrough with curl and jq against the embedded stack', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  useTestStack((s) => ({stack, env} = s))

  it('works unchanged, twice (the second run gets the 409 for the resource)', async () => {
    const box = new Sandbox({...env, AUTHPLANE_RESOURCE: stack.resource})
    try {
      for (const run of [1, 2]) {
        const {stdout} = await promisify(execFile)('bash', [join(ROOT, 'bench', 'walkthrough-curl.sh')], {env: box.env, cwd: box.root, encoding: 'utf8'})
        assert.match(stdout, /ALL CHECKS PASSED/, `run ${run}`)
        if (run === 2) assert.match(stdout, /already there \(409\)/)
      }
    } finally {
      box.cleanup()
    }
  })
})
