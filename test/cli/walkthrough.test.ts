import assert from 'node:assert/strict'
import {readFileSync, statSync} from 'node:fs'
import {dirname} from 'node:path'
import {after, before, describe, it} from 'node:test'

import type {StackHandle} from '../../src/stack/index.js'
import {assertCleanFailure, closedPort, Sandbox, startTestStack, terminate, useTestStack} from './helpers.js'

describe('the walkthrough commands against a running stack', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  useTestStack((s) => ({stack, env} = s))

  it('chains setup resource, setup client, token mint, mcp call echo --text hi', async () => {
    const box = new Sandbox(env)
    try {
      const resource = await box.run(['setup', 'resource'])
      assert.equal(resource.code, 0, resource.stderr)
      assert.match(resource.stdout, /resource demo-mcp created/)

      const client = await box.run(['setup', 'client'])
      assert.equal(client.code, 0, client.stderr)
      const store = JSON.parse(readFileSync(box.storePath, 'utf8'))
      const saved = store.profiles.default.client
      assert.equal(saved.secret.length, 43, 'the once-shown secret is in the store')
      assert.ok(!client.stdout.includes(saved.secret), 'no secret on stdout without --show-secret')
      assert.ok(!client.stderr.includes(saved.secret), 'no secret on stderr either')

      const token = await box.run(['token', 'mint'])
      assert.equal(token.code, 0, token.stderr)
      const jwt = token.stdout.trim()
      assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a bare JWT, pipe-friendly')
      const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())
      assert.deepEqual(claims.aud, [stack.resource])

      const call = await box.run(['mcp', 'call', 'echo', '--text', 'hi'])
      assert.equal(call.code, 0, call.stderr)
      assert.equal(call.stdout, 'hi\n')
    } finally {
      box.cleanup()
    }
  })

  it('serves the second token mint from the cache: the server sees one token request', async () => {
    const box = new Sandbox(env)
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      const before = stack.authServer.stats().tokenRequests
      const first = await box.run(['token', 'mint'])
      const second = await box.run(['token', 'mint', '--json'])
      assert.equal(first.code, 0, first.stderr)
      assert.equal(second.code, 0, second.stderr)
      assert.equal(stack.authServer.stats().tokenRequests - before, 1, 'one token request for two mints')
      const doc = JSON.parse(second.stdout)
      assert.equal(doc.status, 'ok')
      assert.equal(doc.result.fromCache, true)
      assert.equal(doc.result.access_token, first.stdout.trim())
      const third = await box.run(['token', 'mint', '--no-cache'])
      assert.equal(third.code, 0)
      assert.equal(stack.authServer.stats().tokenRequests - before, 2, '--no-cache asks the server')
    } finally {
      box.cleanup()
    }
  })

  it('keeps the store at mode 0600 in a 0700 directory', async () => {
    const box = new Sandbox(env)
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal(statSync(box.storePath).mode & 0o777, 0o600)
      assert.equal(statSync(dirname(box.storePath)).mode & 0o777, 0o700)
    } finally {
      box.cleanup()
    }
  })

  it('prints the secret only with --show-secret, and --json says where it is', async () => {
    const box = new Sandbox(env)
    try {
      const json = await box.run(['setup', 'client', '--json'])
      assert.equal(json.code, 0, json.stderr)
      const doc = JSON.parse(json.stdout)
      const secret = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.client.secret
      assert.ok(!json.stdout.includes(secret))
      assert.deepEqual(doc.result.secret, {stored: true, store: box.storePath, profile: 'default'})
      const shown = await box.run(['setup', 'client', '--rotate', '--show-secret'])
      assert.equal(shown.code, 0, shown.stderr)
      const rotated = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.client.secret
      assert.notEqual(rotated, secret)
      assert.ok(shown.stdout.includes(rotated))
    } finally {
      box.cleanup()
    }
  })

  it('reuses the saved client on a second run, --new makes another', async () => {
    const box = new Sandbox(env)
    try {
      const a = JSON.parse((await box.run(['setup', 'client', '--json'])).stdout)
      const b = JSON.parse((await box.run(['setup', 'client', '--json'])).stdout)
      const c = JSON.parse((await box.run(['setup', 'client', '--new', '--json'])).stdout)
      assert.equal(a.result.action, 'created')
      assert.equal(b.result.action, 'reused')
      assert.equal(b.result.client.id, a.result.client.id)
      assert.equal(c.result.action, 'created')
      assert.notEqual(c.result.client.id, a.result.client.id)
    } finally {
      box.cleanup()
    }
  })

  it('runs verify against the running stack', async () => {
    const box = new Sandbox(env)
    try {
      const result = await box.run(['verify', '--text', 'ping 42'])
      assert.equal(result.code, 0, result.stdout + result.stderr)
      assert.match(result.stdout, /ALL CHECKS PASSED\n$/)
      assert.equal(result.stdout.match(/ OK /g)?.length, 10)
      assert.match(result.stdout, /"ping 42"/)
    } finally {
      box.cleanup()
    }
  })

  describe('failures: exit code, one-line error with a hint, no stack trace', () => {
    let box: Sandbox
    before(async () => {
      box = new Sandbox(env)
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
    })
    after(() => box.cleanup())

    it('wrong admin key -> 3', async () => {
      assertCleanFailure(await box.run(['setup', 'client', '--new'], {env: {AUTHPLANE_ADMIN_API_KEY: 'not-the-key'}}), 3, /admin key/)
    })

    it('wrong client secret -> 3', async () => {
      const result = await box.run(['token', 'mint', '--no-cache'], {env: {AUTHPLANE_CLIENT_ID: JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.client.id, AUTHPLANE_CLIENT_SECRET: 'wrong'}})
      assertCleanFailure(result, 3, /invalid_client/)
    })

    it('unknown resource -> 5 (invalid_target)', async () => {
      assertCleanFailure(await box.run(['token', 'mint', '--resource', `${stack.resource}/`]), 5, /invalid_target/)
    })

    it('scope beyond the client -> 5 (invalid_scope)', async () => {
      assertCleanFailure(await box.run(['token', 'mint', '--scope', 'mcp:admin']), 5, /invalid_scope/)
    })

    it('token without the tool scope -> 3, explained as a missing scope', async () => {
      // Its own stack: the resource must be the MCP server's audience and declare a second scope.
      const {stack: own, env: ownEnv} = await startTestStack()
      const other = new Sandbox(ownEnv)
      try {
        assert.equal((await other.run(['setup', 'resource', '--scope', 'mcp:echo', '--scope', 'mcp:read'])).code, 0)
        assert.equal((await other.run(['setup', 'client', '--scope', 'mcp:read'])).code, 0)
        const result = await other.run(['mcp', 'call', 'echo', '--text', 'hi'])
        assertCleanFailure(result, 3, /missing scope: the server requires "mcp:echo"/)
      } finally {
        other.cleanup()
        await own.stop()
      }
    })

    it('audience mismatch at the MCP server -> 3, explained', async () => {
      const other = new Sandbox(env)
      try {
        // A resource registered for another audience no longer becomes the profile's (issue 18:
        // test/cli/second-server.test.ts); a token for it is asked for with --resource.
        const uri = `${stack.resource}/elsewhere`
        assert.equal((await other.run(['setup', 'resource', '--slug', 'elsewhere', '--uri', uri])).code, 0)
        assert.equal((await other.run(['setup', 'client'])).code, 0)
        const result = await other.run(['mcp', 'call', 'echo', '--text', 'hi', '--resource', uri])
        assertCleanFailure(result, 3, /audience mismatch/)
        assert.ok(result.stderr.includes(`--resource ${stack.resource}`), 'the hint names the audience the server expects')
      } finally {
        other.cleanup()
      }
    })

    it('server down -> 4 within the timeout', async () => {
      const port = await closedPort()
      const started = Date.now()
      const result = await box.run(['verify', '--issuer', `http://127.0.0.1:${port}`, '--timeout', '2'])
      assertCleanFailure(result, 4, /did not answer/)
      assert.ok(Date.now() - started < 15_000)
      assertCleanFailure(await box.run(['token', 'mint', '--no-cache', '--issuer', `http://127.0.0.1:${port}`]), 4)
      assertCleanFailure(await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', `http://127.0.0.1:${port}/mcp`]), 4)
    })

    it('issuer mismatch (localhost vs 127.0.0.1) -> 7', async () => {
      const wrong = stack.issuer.replace('127.0.0.1', 'localhost')
      const result = await box.run(['token', 'mint', '--no-cache', '--issuer', wrong])
      assertCleanFailure(result, 7, /issuer mismatch/)
      assert.ok(result.stderr.includes(stack.issuer), 'the hint names the announced issuer')
    })

    it('unknown tool argument -> 2 naming the schema', async () => {
      assertCleanFailure(await box.run(['mcp', 'call', 'echo', '--txt', 'hi']), 2, /--text <string>/)
      assertCleanFailure(await box.run(['mcp', 'call', 'echo']), 2, /needs --text/)
    })

    it('invalid slug and relative uri are refused before any request -> 2', async () => {
      assertCleanFailure(await box.run(['setup', 'resource', '--slug', '-Bad Slug']), 2, /invalid slug/)
      assertCleanFailure(await box.run(['setup', 'resource', '--slug', 'x', '--uri', '/mcp']), 2, /not usable/)
    })

    it('a resource whose slug exists with another uri -> 6', async () => {
      assertCleanFailure(await box.run(['setup', 'resource', '--uri', 'http://example.test/other']), 6, /already exists and differs/)
    })
  })
})

describe('ap-demo stack up, then the commands with no flags', () => {
  it('saves its endpoints and admin key in the profile so the chain needs no flags', async () => {
    const box = new Sandbox()
    const {child, doc} = await box.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--json'])
    try {
      assert.equal(doc.status, 'ok')
      assert.match(doc.result.issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
      for (const args of [['setup', 'resource'], ['setup', 'client'], ['token', 'mint', '--decode']]) {
        const r = await box.run(args)
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
      }
      const call = await box.run(['mcp', 'call', 'echo', '--text', 'hi'])
      assert.equal(call.stdout, 'hi\n', call.stderr)
    } finally {
      await terminate(child)
      box.cleanup()
    }
  })
})

describe('ap-demo verify --embedded', () => {
  it('prints every step and ALL CHECKS PASSED on a fresh machine', async () => {
    const box = new Sandbox()
    try {
      const result = await box.run(['verify', '--embedded'])
      assert.equal(result.code, 0, result.stdout + result.stderr)
      assert.equal(result.stdout.match(/ OK /g)?.length, 10)
      assert.match(result.stdout, /ALL CHECKS PASSED/)
      const json = await box.run(['verify', '--embedded', '--json'])
      const doc = JSON.parse(json.stdout)
      assert.equal(doc.status, 'ok')
      assert.equal(doc.result.passed, true)
      assert.equal(doc.result.steps.length, 10)
    } finally {
      box.cleanup()
    }
  })
})
