// R3-11: verify needs a client that may request mcp:echo. It used to replace the profile's wider
// client (mcp:echo mcp:whoami) with a new mcp:echo-only one, saying only "created", and the next
// `mcp call whoami` failed. A client whose ceiling covers what verify needs is reused; when a new
// one must be made, it keeps what the old one could do, and verify says why it made it.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import {startStack, type StackHandle} from '../../src/stack/index.js'
import {Sandbox} from './helpers.js'

interface Store {
  profiles: Record<string, {client?: {id: string; scope: string}; retiredClients?: Array<{id: string; scope: string}>}>
}

describe('verify and the profile\'s client', () => {
  let stack: StackHandle
  let env: NodeJS.ProcessEnv
  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}, toolScopes: {whoami: 'mcp:whoami'}})
    env = {AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, AUTHPLANE_ADMIN_API_KEY: stack.adminKey, MCP_URL: stack.mcpUrl}
  })
  after(async () => {
    await stack.stop()
  })

  const profile = (box: Sandbox) => (JSON.parse(readFileSync(box.storePath, 'utf8')) as Store).profiles.default!

  it('reuses a client whose ceiling is wider than mcp:echo, and mcp call whoami still works after it', async () => {
    const box = new Sandbox(env)
    try {
      assert.equal((await box.run(['setup', 'resource', '--slug', 'wide-mcp', '--scope', 'mcp:echo', '--scope', 'mcp:whoami'])).code, 0)
      const setup = await box.run(['setup', 'client', '--scope', 'mcp:echo mcp:whoami'])
      assert.equal(setup.code, 0, setup.stderr)
      const before = profile(box).client!
      const verify = await box.run(['verify', '--json'])
      assert.equal(verify.code, 0, verify.stdout)
      const step = (JSON.parse(verify.stdout) as {result: {steps: Array<{name: string; detail: string}>}}).result.steps.find((s) => s.name === 'client registered')!
      assert.equal(step.detail, `reused ${before.id}`)
      assert.deepEqual(profile(box).client, before, 'the profile keeps its client')
      const whoami = await box.run(['mcp', 'call', 'whoami'])
      assert.equal(whoami.code, 0, whoami.stderr)
    } finally {
      box.cleanup()
    }
  })

  it('a client that cannot request mcp:echo is replaced by one that keeps its scopes, and verify says so', async () => {
    const box = new Sandbox(env)
    try {
      assert.equal((await box.run(['setup', 'resource', '--slug', 'narrow-mcp', '--uri', `${stack.mcpUrl}`, '--scope', 'mcp:echo', '--scope', 'mcp:whoami'])).code, 0)
      assert.equal((await box.run(['setup', 'client', '--scope', 'mcp:whoami'])).code, 0)
      const old = profile(box).client!
      const verify = await box.run(['verify'])
      assert.equal(verify.code, 0, verify.stderr)
      const now = profile(box).client!
      assert.notEqual(now.id, old.id)
      assert.equal(now.scope, 'mcp:whoami mcp:echo', 'what the old client could request, plus mcp:echo')
      assert.match(verify.stdout, new RegExp(`\\[ 4/10\\] OK +client registered .*\\n +created ${now.id} \\(the saved client's scope`))
      assert.match(verify.stderr, /^verify registered a new client: the saved client's scope "mcp:whoami" lacks mcp:echo; the new client may request "mcp:whoami mcp:echo"$/m)
      assert.deepEqual(profile(box).retiredClients?.map((c) => c.id), [old.id], 'the old client is kept for clean')
      const whoami = await box.run(['mcp', 'call', 'whoami'])
      assert.equal(whoami.code, 0, whoami.stderr)
    } finally {
      box.cleanup()
    }
  })
})
