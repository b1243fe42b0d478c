import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import {startStack, type StackHandle} from '../../src/stack/index.js'
import {BIN, Sandbox} from './helpers.js'
import {Pty} from './pty.js'

describe('ap-demo setup (the wizard) in a real terminal', () => {
  let stack: StackHandle
  let conn: NodeJS.ProcessEnv

  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
    conn = {AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, MCP_URL: stack.mcpUrl}
  })
  after(async () => {
    await stack.stop()
  })

  it('asks, validates as typed, sets up, verifies, and prints replay commands that work', async () => {
    const box = new Sandbox(conn)
    const pty = new Pty([process.execPath, BIN, 'setup'], {cwd: box.root, env: box.env})
    try {
      await pty.waitFor(/found the authorization server and the MCP server/)
      // No key in env or store: a masked prompt, checked against the server.
      await pty.answer(/Admin API key/, 'wrong-key-123')
      await pty.waitFor(/refused this key/)
      assert.ok(!pty.text.includes('wrong-key-123'), 'the key is masked while typed')
      await pty.answer(/Admin API key/, stack.adminKey)
      await pty.answer(/Save the admin key/)
      // A validation error as the slug is typed, then the default.
      await pty.answer(/Resource slug/, 'Bad Slug!')
      await pty.waitFor(/invalid slug "Bad Slug!"/)
      pty.type('\x7f'.repeat('Bad Slug!'.length))
      await pty.answer(/Resource slug/)
      await pty.answer(/Resource URI/)
      await pty.answer(/Resource scopes/)
      await pty.answer(/Client name/)
      await pty.answer(/Client scope ceiling/, 'mcp:nope')
      await pty.waitFor(/Not a scope of the resource: mcp:nope/)
      pty.type('\x7f'.repeat(10))
      await pty.answer(/Client scope ceiling/, 'mcp:echo')
      await pty.answer(/Run ap-demo verify when done/)
      await pty.waitFor(/The same, without questions:[\s\S]*ap-demo verify/)
      assert.equal(await pty.exited, 0, pty.text)
      assert.match(pty.text, /ALL CHECKS PASSED/)
      const store = JSON.parse(readFileSync(box.storePath, 'utf8'))
      assert.equal(store.profiles.default.adminKey, stack.adminKey, 'saved as asked')
      assert.equal(store.profiles.default.client.secret.length, 43)

      // The replay, in a script on a fresh machine, with the key exported.
      const replay = pty.text.slice(pty.text.indexOf('The same, without questions:')).split('\n').slice(1).filter((l) => l.startsWith('ap-demo '))
      assert.equal(replay.length, 3)
      const fresh = new Sandbox({AUTHPLANE_ADMIN_API_KEY: stack.adminKey})
      try {
        const script = `set -e\nap-demo() { "${process.execPath}" "${BIN}" "$@"; }\n${replay.join('\n')}\n`
        // Asynchronously: the stack serving the replay runs in this very process.
        const {stdout} = await promisify(execFile)('bash', ['-c', script], {cwd: fresh.root, env: fresh.env, encoding: 'utf8'})
        assert.match(stdout, /ALL CHECKS PASSED/)
      } finally {
        fresh.cleanup()
      }
    } finally {
      pty.kill()
      box.cleanup()
    }
  })

  it('leaves the store exactly as it was when Ctrl-C is pressed at a prompt', async () => {
    const box = new Sandbox({...conn, AUTHPLANE_ADMIN_API_KEY: stack.adminKey})
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      const before = readFileSync(box.storePath, 'utf8')
      const pty = new Pty([process.execPath, BIN, 'setup'], {cwd: box.root, env: box.env})
      try {
        await pty.answer(/Resource slug/, 'another-one')
        await pty.answer(/Resource URI/)
        await pty.waitFor(/Resource scopes/)
        pty.type('\x03')
        assert.equal(await pty.exited, 130, pty.text)
        assert.match(pty.text, /cancelled/)
      } finally {
        pty.kill()
      }
      assert.equal(readFileSync(box.storePath, 'utf8'), before, 'the store is byte for byte unchanged')
    } finally {
      box.cleanup()
    }
  })

  it('offers to start the embedded stack in the background when nothing answers', async () => {
    const box = new Sandbox({AUTHPLANE_ISSUER: 'http://127.0.0.1:9', ADMIN_URL: 'http://127.0.0.1:9', MCP_URL: 'http://127.0.0.1:9/mcp'})
    const pty = new Pty([process.execPath, BIN, 'setup'], {cwd: box.root, env: box.env})
    let pid: number | undefined
    try {
      await pty.answer(/What now\?[\s\S]*Start the embedded stack/)
      await pty.waitFor(/embedded stack started \(pid (\d+)\)/)
      pid = Number(/embedded stack started \(pid (\d+)\)/.exec(pty.text)![1])
      for (const prompt of [/Resource slug/, /Resource URI/, /Resource scopes/, /Client name/, /Client scope ceiling/]) await pty.answer(prompt)
      await pty.answer(/Run ap-demo verify when done/, 'n')
      assert.equal(await pty.exited, 0, pty.text)
      assert.match(pty.text, /keeps running in the background/)
      assert.match(pty.text, /ap-demo stack up --no-save --data-dir /, 'the replay starts the stack too')
      // The profile now points at the background stack, so the chain works with no flags.
      const call = await box.run(['mcp', 'call', 'echo', '--text', 'hi'], {env: {AUTHPLANE_ISSUER: '', ADMIN_URL: '', MCP_URL: ''}})
      assert.equal(call.stdout, 'hi\n', call.stderr)
    } finally {
      pty.kill()
      if (pid) {
        try {
          process.kill(pid, 'SIGTERM')
        } catch {}
      }
      box.cleanup()
    }
  })

  it('Quit, when nothing answers, is a clean exit: no error, exit 0, nothing written', async () => {
    const box = new Sandbox({AUTHPLANE_ISSUER: 'http://127.0.0.1:9', ADMIN_URL: 'http://127.0.0.1:9', MCP_URL: 'http://127.0.0.1:9/mcp'})
    const pty = new Pty([process.execPath, BIN, 'setup'], {cwd: box.root, env: box.env})
    try {
      // The third choice: down, down, Enter.
      await pty.answer(/What now\?[\s\S]*Quit/, '\x1b[B\x1b[B')
      assert.equal(await pty.exited, 0, pty.text)
      assert.match(pty.text, /setup stopped; nothing was changed/)
      assert.doesNotMatch(pty.text, /Error:/)
      assert.throws(() => readFileSync(box.storePath, 'utf8'), 'no store was written')
    } finally {
      pty.kill()
      box.cleanup()
    }
  })

  it('never prompts without a terminal: fails at once with the missing flags (exit 2)', async () => {
    const box = new Sandbox(conn)
    try {
      const started = Date.now()
      const result = await box.run(['setup'])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /needs a terminal.*missing: --slug, --uri, --scope, --name, --client-scope, AUTHPLANE_ADMIN_API_KEY/)
      assert.ok(Date.now() - started < 10_000)
      const json = await box.run(['setup', '--json'])
      assert.equal(JSON.parse(json.stdout).error.code, 'no_terminal')
      const ci = await box.run(['setup'], {env: {CI: 'true', AUTHPLANE_ADMIN_API_KEY: stack.adminKey}})
      assert.equal(ci.code, 2)
    } finally {
      box.cleanup()
    }
  })
})
