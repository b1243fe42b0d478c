import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {startStack, type StackHandle} from '../../src/stack/index.js'
import {announcedHost} from '../../src/stack/announce.js'
import {assertCleanFailure, Sandbox, startTestStack, useTestStack} from './helpers.js'

/** A server that answers with headers and one byte, then never finishes. */
async function stallingServer(): Promise<{url: string; server: Server}> {
  const server = createServer((_req, res) => {
    res.writeHead(200, {'Content-Type': 'application/json'})
    res.write('{')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${(server.address() as {port: number}).port}`, server}
}

describe('edge cases', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  let stall: {url: string; server: Server}
  useTestStack((s) => ({stack, env} = s))
  before(async () => {
    stall = await stallingServer()
  })
  after(() => {
    stall.server.closeAllConnections()
    stall.server.close()
  })

  it('a server that stalls mid-answer is a timeout (4), for the admin API and the MCP server', async () => {
    const box = new Sandbox(env)
    try {
      assertCleanFailure(await box.run(['setup', 'resource', '--admin-url', stall.url, '--request-timeout', '1']), 4)
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      assertCleanFailure(await box.run(['mcp', 'call', 'echo', '--text', 'x', '--mcp-url', `${stall.url}/mcp`, '--resource', stack.resource, '--request-timeout', '1']), 4)
    } finally {
      box.cleanup()
    }
  })

  it('an unknown tool is a usage error naming the tools there are', async () => {
    const box = new Sandbox(env)
    try {
      await box.run(['setup', 'resource'])
      await box.run(['setup', 'client'])
      assertCleanFailure(await box.run(['mcp', 'call', 'nosuch', '--text', 'hi']), 2, /no tool "nosuch"[\s\S]*It offers: echo/)
    } finally {
      box.cleanup()
    }
  })

  it('verify checks the client it registered, even with AUTHPLANE_CLIENT_ID/SECRET set', async () => {
    const box = new Sandbox({AUTHPLANE_CLIENT_ID: 'someone-else', AUTHPLANE_CLIENT_SECRET: 'not-this-one'})
    try {
      const result = await box.run(['verify', '--embedded'])
      assert.equal(result.code, 0, result.stdout + result.stderr)
    } finally {
      box.cleanup()
    }
  })

  it('a cached token the server refuses (new signing key) is dropped and minted again, once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ap-demo-rekey-'))
    let first: StackHandle | undefined = await startStack({port: 0, adminPort: 0, mcpPort: 0, dataDir})
    const ports = {port: Number(new URL(first.issuer).port), adminPort: Number(new URL(first.adminUrl).port), mcpPort: Number(new URL(first.mcpUrl).port)}
    const box = new Sandbox({AUTHPLANE_ISSUER: first.issuer, ADMIN_URL: first.adminUrl, AUTHPLANE_ADMIN_API_KEY: first.adminKey, MCP_URL: first.mcpUrl})
    let second: StackHandle | undefined
    try {
      for (const args of [['setup', 'resource'], ['setup', 'client'], ['mcp', 'call', 'echo', '--text', 'one']]) assert.equal((await box.run(args)).code, 0)
      await first.stop()
      first = undefined
      unlinkSync(join(dataDir, 'signing-key.json')) // the server starts with a new key: old tokens no longer verify
      second = await startStack({...ports, dataDir})
      const before = second.authServer.stats().tokenRequests
      const call = await box.run(['mcp', 'call', 'echo', '--text', 'two'])
      assert.equal(call.stdout, 'two\n', call.stderr)
      assert.equal(second.authServer.stats().tokenRequests - before, 1, 'one fresh token')
    } finally {
      await first?.stop()
      await second?.stop()
      box.cleanup()
      rmSync(dataDir, {recursive: true, force: true})
    }
  })

  it('clean refuses to forget records that live on another admin API (7), and the store is unchanged', async () => {
    const box = new Sandbox(env)
    const other = await startTestStack()
    try {
      await box.run(['setup', 'resource'])
      await box.run(['setup', 'client'])
      const before = readFileSync(box.storePath, 'utf8')
      assertCleanFailure(await box.run(['clean', '--yes'], {env: other.env}), 7, /lives on/)
      assert.equal(readFileSync(box.storePath, 'utf8'), before)
    } finally {
      await other.stack.stop()
      box.cleanup()
    }
  })

  it('a trailing slash on the admin URL still reuses the saved client', async () => {
    const box = new Sandbox(env)
    try {
      const a = JSON.parse((await box.run(['setup', 'client', '--json'])).stdout)
      const b = JSON.parse((await box.run(['setup', 'client', '--json', '--admin-url', `${stack.adminUrl}/`])).stdout)
      assert.equal(b.result.action, 'reused')
      assert.equal(b.result.client.id, a.result.client.id)
    } finally {
      box.cleanup()
    }
  })

  it('setup runs without a terminal when every answer is a flag', async () => {
    const box = new Sandbox(env)
    try {
      const result = await box.run(['setup', '--slug', 'flags-only', '--uri', stack.resource, '--scope', 'mcp:echo', '--name', 'n', '--client-scope', 'mcp:echo'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /ap-demo setup client --name n --scope mcp:echo/)
    } finally {
      box.cleanup()
    }
  })

  it('bad values get usage errors and specific hints, not "unreachable"', async () => {
    const box = new Sandbox(env)
    try {
      assertCleanFailure(await box.run(['setup', 'resource'], {env: {AUTHPLANE_ADMIN_API_KEY: 'key\nwith newline'}}), 2)
      assertCleanFailure(await box.run(['setup', 'resource', '--admin-url', stack.issuer]), 7, /does not serve the Authplane admin API/)
    } finally {
      box.cleanup()
    }
  })

  it('an unknown command under --json still prints one JSON document', async () => {
    const box = new Sandbox()
    try {
      const result = await box.run(['nosuch', '--json'])
      assert.equal(result.code, 127)
      assert.equal(JSON.parse(result.stdout).error.code, 'unknown_command')
    } finally {
      box.cleanup()
    }
  })

  it('verify --dry-run sends no request that changes anything', async () => {
    const box = new Sandbox(env)
    try {
      const result = await box.run(['verify', '--dry-run', '--json'])
      assert.equal(result.code, 0, result.stderr)
      const doc = JSON.parse(result.stdout)
      assert.equal(doc.result.dryRun, true)
      // The unauthenticated MCP probe changes nothing, so it is sent; the resource registration is held back.
      assert.match(doc.result.notSent, /^curl -sS -X POST .*\/admin\/resources'/, 'the first changing request is held back')
      assert.ok(doc.result.sent.some((line: string) => /-X POST .*\/mcp'/.test(line)), 'the probe was sent')
    } finally {
      box.cleanup()
    }
  })

  it('tightens a world-readable store file, and announces IPv6 loopback as [::1]', async () => {
    const box = new Sandbox(env)
    try {
      await box.run(['setup', 'resource'])
      chmodSync(box.storePath, 0o644)
      await box.run(['config', 'path'])
      assert.equal(statSync(box.storePath).mode & 0o777, 0o600)
      assert.equal(announcedHost('::1'), '[::1]')
      assert.equal(announcedHost('0.0.0.0'), 'localhost')
    } finally {
      box.cleanup()
    }
  })
})
