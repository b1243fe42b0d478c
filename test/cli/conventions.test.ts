import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'

import {ConfigStore} from '../../src/config/store.js'
import type {StackHandle} from '../../src/stack/index.js'
import {ROOT, Sandbox, terminate, useTestStack} from './helpers.js'

const bash = (script: string, env: NodeJS.ProcessEnv, cwd: string) => promisify(execFile)('bash', ['-c', script], {env, cwd, encoding: 'utf8'})

/** stdout must be exactly one JSON document with the stable envelope. */
function envelope(stdout: string): {status: string; result?: any; error?: any} {
  const doc = JSON.parse(stdout)
  assert.ok(doc.status === 'ok' || doc.status === 'error', `envelope status: ${stdout}`)
  if (doc.status === 'error') {
    for (const key of ['code', 'message', 'hint', 'exitCode']) assert.ok(key in doc.error, `error.${key} in ${stdout}`)
  }
  return doc
}

describe('CLI conventions', () => {
  it('every command and flag has a summary, a description and (commands) examples', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    const problems: string[] = []
    for (const [id, command] of Object.entries<any>(manifest.commands)) {
      for (const key of ['summary', 'description']) if (!command[key]) problems.push(`${id}: no ${key}`)
      if (!command.examples?.length) problems.push(`${id}: no examples`)
      for (const [name, flag] of Object.entries<any>(command.flags)) {
        if (name === 'json') continue // oclif's own flag
        if (!flag.summary) problems.push(`${id} --${name}: no summary`)
        if (!flag.description) problems.push(`${id} --${name}: no description`)
      }
    }
    assert.deepEqual(problems, [])
    assert.ok(Object.keys(manifest.commands).length >= 14)
  })

  it('an unknown command exits 127 at once without a terminal, suggesting the closest one', async () => {
    const box = new Sandbox()
    try {
      const started = Date.now()
      const result = await box.run(['verfy'])
      assert.equal(result.code, 127)
      assert.match(result.stderr, /"verfy" is not an ap-demo command\. Did you mean verify\?/)
      assert.ok(Date.now() - started < 8000)
      const json = await box.run(['mcp', 'cal', '--json'])
      assert.equal(json.code, 127)
      assert.equal(JSON.parse(json.stdout).error.message, '"mcp cal" is not an ap-demo command. Did you mean mcp call?')
      assert.match((await box.run(['zzzzzz'])).stderr, /is not an ap-demo command\n/, 'no suggestion when nothing is close')
    } finally {
      box.cleanup()
    }
  })

  it('suggests the command when arguments follow a mistyped one (mcp cal echo)', async () => {
    const box = new Sandbox()
    try {
      const result = await box.run(['mcp', 'cal', 'echo', 'text=hi'])
      assert.equal(result.code, 127)
      assert.match(result.stderr, /"mcp cal echo( text=hi)?" is not an ap-demo command\. Did you mean mcp call\?/)
      assert.match((await box.run(['verfy', 'extra'])).stderr, /Did you mean verify\?/)
    } finally {
      box.cleanup()
    }
  })

  it('config use of a profile that does not exist switches to it, with a one-line warning naming the existing ones', async () => {
    const box = new Sandbox()
    try {
      assert.equal((await box.run(['config', 'use', 'docker'])).code, 0)
      const none = await box.run(['config', 'use', 'docker'])
      assert.equal(none.code, 0)
      assert.match(none.stderr, /Warning: no profile "docker" yet: it starts empty\. Existing profiles: none\n$/)
      // Two saved profiles, as `stack up` and `setup` leave them.
      const store = new ConfigStore({cwd: dirname(box.storePath)})
      store.updateProfile('default', (p) => ({...p, issuer: 'http://localhost:9000'}))
      store.updateProfile('docker', (p) => ({...p, issuer: 'http://authserver:9000'}))
      const json = await box.run(['config', 'use', 'nosuch', '--json'])
      assert.equal(json.code, 0)
      assert.equal(json.stderr, '', 'under --json the warning is a field, not a line')
      const result = JSON.parse(json.stdout).result
      assert.equal(result.active, 'nosuch')
      assert.equal(result.existed, false)
      assert.deepEqual(result.existingProfiles, ['default', 'docker'])
      assert.equal(result.warning, 'no profile "nosuch" yet: it starts empty. Existing profiles: default, docker')
      const shown = JSON.parse((await box.run(['config', 'show', '--json'])).stdout).result
      assert.equal(shown.profile, 'nosuch', 'the switch still happens')
      const text = await box.run(['config', 'use', 'dokcer'])
      assert.match(text.stderr, /^Warning: no profile "dokcer" yet: it starts empty\. Existing profiles: default, docker\n$/)
    } finally {
      box.cleanup()
    }
  })

  it('an unknown flag gets the closest flag of that command (exit 2), in text and --json', async () => {
    const box = new Sandbox()
    try {
      const result = await box.run(['verify', '--embeded'])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /Nonexistent flag: --embeded\. Did you mean --embedded\?/)
      const json = await box.run(['config', 'show', '--jsn', '--json'])
      assert.equal(json.code, 2)
      const error = JSON.parse(json.stdout).error
      assert.match(error.message, /Did you mean --json\?/)
      assert.deepEqual(error.suggestions, ['--json'])
      const far = await box.run(['verify', '--zzzzzzzz'])
      assert.equal(far.code, 2)
      assert.doesNotMatch(far.stderr, /Did you mean/, 'no suggestion when nothing is close')
    } finally {
      box.cleanup()
    }
  })

  describe('against a stack', () => {
    let stack!: StackHandle
    let env!: NodeJS.ProcessEnv
    useTestStack((s) => ({stack, env} = s))

    it('--json: exactly one JSON document on stdout, in success and in failure, for every command', async () => {
      const box = new Sandbox(env)
      const down = {AUTHPLANE_ISSUER: 'http://127.0.0.1:9', ADMIN_URL: 'http://127.0.0.1:9', MCP_URL: 'http://127.0.0.1:9/mcp'}
      const cases: Array<{args: string[]; ok: boolean; env?: NodeJS.ProcessEnv}> = [
        {args: ['setup', 'resource'], ok: true},
        {args: ['setup', 'resource', '--slug', 'Not Valid'], ok: false},
        {args: ['setup', 'client'], ok: true},
        {args: ['setup', 'client'], ok: false, env: {AUTHPLANE_ADMIN_API_KEY: 'wrong'}},
        {args: ['setup', '--yes'], ok: true},
        {args: ['setup'], ok: false},
        {args: ['token', 'mint'], ok: true},
        {args: ['token', 'mint', '--scope', 'nope'], ok: false},
        {args: ['mcp', 'tools'], ok: true},
        {args: ['mcp', 'tools'], ok: false, env: down},
        {args: ['mcp', 'call', 'echo', '--text', 'hi'], ok: true},
        {args: ['mcp', 'call', 'echo', '--nope', 'x'], ok: false},
        {args: ['doctor'], ok: true},
        {args: ['doctor', '--scope', 'mcp:nope'], ok: false},
        {args: ['verify', '--timeout', '5'], ok: true},
        {args: ['verify', '--timeout', '1'], ok: false, env: down},
        {args: ['config', 'show'], ok: true},
        {args: ['config', 'show', '--profile', 'bad name!'], ok: false},
        {args: ['config', 'list'], ok: true},
        {args: ['config', 'path'], ok: true},
        {args: ['config', 'use', 'default'], ok: true},
        {args: ['config', 'use', '../x'], ok: false},
        {args: ['clean', '--yes'], ok: false, env: {AUTHPLANE_ADMIN_API_KEY: 'wrong'}},
        {args: ['clean', '--yes'], ok: true},
        {args: ['stack', 'up', '--port', String(new URL(stack.issuer).port)], ok: false},
        {args: ['stack', 'mcp', '--port', String(new URL(stack.mcpUrl).port)], ok: false},
        {args: ['token', 'mint', '--no-such-flag'], ok: false},
        {args: ['logout'], ok: true},
        {args: ['login', '--no-browser', '--login-timeout', '1'], ok: false},
        {args: ['token', 'mint', '--user-token'], ok: false},
      ]
      try {
        for (const c of cases) {
          const result = await box.run([...c.args, '--json'], {env: c.env})
          let doc
          try {
            doc = envelope(result.stdout)
          } catch (error) {
            throw new Error(`${c.args.join(' ')}: stdout is not one JSON document (${(error as Error).message})\n${result.stdout}\n${result.stderr}`)
          }
          assert.equal(doc.status, c.ok ? 'ok' : 'error', `${c.args.join(' ')}: ${result.stdout}`)
          assert.equal(result.code === 0, c.ok, `${c.args.join(' ')} exit ${result.code}`)
          if (!c.ok) assert.equal(doc.error.exitCode, result.code)
        }
      } finally {
        box.cleanup()
      }
    })

    it('the long-running stack commands print one JSON document, then serve until SIGTERM', async () => {
      const box = new Sandbox()
      try {
        for (const args of [['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory'], ['stack', 'mcp', '--port', '0', '--issuer', stack.issuer]]) {
          const {child, doc} = await box.startJson([...args, '--json'])
          assert.equal(doc.status, 'ok')
          assert.equal(await terminate(child), 0)
        }
      } finally {
        box.cleanup()
      }
    })

    it('without a terminal, commands that could prompt fail fast with the usage exit code', async () => {
      const box = new Sandbox({...env, AUTHPLANE_ADMIN_API_KEY: ''})
      try {
        for (const args of [['setup'], ['setup', 'resource'], ['setup', 'client'], ['clean']]) {
          const started = Date.now()
          const result = await box.run(args)
          assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
          assert.ok(Date.now() - started < 8000)
        }
        const clean = await box.run(['clean'], {env: {AUTHPLANE_ADMIN_API_KEY: stack.adminKey}})
        assert.equal(clean.code, 0, 'nothing to clean needs no confirmation')
      } finally {
        box.cleanup()
      }
    })

    it('--print-curl lines, run with real curl, reproduce the same results', async () => {
      const box = new Sandbox(env)
      try {
        // The resource: printed but not sent (--dry-run), then sent by curl.
        const dry = await box.run(['setup', 'resource', '--slug', 'curl-made', '--uri', `${stack.resource}`, '--dry-run'])
        assert.equal(dry.code, 0, dry.stderr)
        const create = dry.stdout.trim()
        assert.match(create, /^curl -sS -X POST .*\/admin\/resources/)
        assert.ok(!create.includes(stack.adminKey), 'the admin key is never printed')
        const made = JSON.parse((await bash(create, box.env, box.root)).stdout)
        assert.equal(made.slug, 'curl-made')
        const again = await box.run(['setup', 'resource', '--slug', 'curl-made', '--json'])
        assert.equal(JSON.parse(again.stdout).result.action, 'exists', 'ap-demo sees what curl created')

        // The client and a token: the token request printed by --print-curl, replayed by curl.
        assert.equal((await box.run(['setup', 'client'])).code, 0)
        const minted = await box.run(['token', 'mint', '--no-cache', '--print-curl', '--json'])
        const mint = await box.run(['token', 'mint', '--no-cache', '--print-curl'])
        const lines = mint.stderr.split('\n').filter((l) => l.startsWith('curl '))
        assert.equal(lines.length, 2, mint.stderr)
        const secret = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.client.secret
        assert.ok(!mint.stderr.includes(secret), 'the client secret is never printed')
        const curlToken = JSON.parse((await bash(lines[1]!, {...box.env, AUTHPLANE_CLIENT_SECRET: secret}, box.root)).stdout)
        const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())
        const viaCli = JSON.parse(minted.stdout).result.claims
        const viaCurl = claims(curlToken.access_token)
        for (const k of ['iss', 'sub', 'aud', 'client_id', 'scope']) assert.deepEqual(viaCurl[k], viaCli[k], k)

        // The MCP call in the 2026-07-28 era (the stack speaks both; ap-demo negotiates): stateless,
        // so the printed tools/call line works on its own, headers and _meta included.
        const modern = await box.run(['mcp', 'call', 'echo', '--text', 'hi stateless', '--print-curl'])
        assert.equal(modern.stdout, 'hi stateless\n')
        const modernCall = modern.stderr.split('\n').find((l) => l.startsWith('curl ') && l.includes('"tools/call"'))!
        assert.match(modernCall, /-H 'mcp-protocol-version: 2026-07-28'/)
        assert.match((await bash(modernCall, {...box.env, ACCESS_TOKEN: curlToken.access_token}, box.root)).stdout, /"text":"hi stateless"/)

        // The MCP call in the 2025 era: initialize (capturing the session id), then tools/call, as printed.
        const call = await box.run(['mcp', 'call', 'echo', '--text', 'hi from curl', '--print-curl', '--protocol', '2025-11-25'])
        assert.equal(call.stdout, 'hi from curl\n')
        const mcpLines = call.stderr.split('\n').filter((l) => l.startsWith('curl ') && l.includes('/mcp'))
        const init = mcpLines.find((l) => l.includes('"initialize"'))!
        const toolCall = mcpLines.find((l) => l.includes('"tools/call"'))!
        assert.match(init, /^curl -sS -D - /, 'the initialize line shows the answer headers')
        // The capture printed above the initialize line, used as printed.
        const capture = /to capture it: (export MCP_SESSION_ID=.*)$/m.exec(call.stderr)?.[1]
        assert.ok(capture?.includes('<the line below>'), call.stderr)
        const script = `set -e
${capture!.replace('<the line below>', init)}
test -n "$MCP_SESSION_ID"
${toolCall}`
        const out = (await bash(script, {...box.env, ACCESS_TOKEN: curlToken.access_token}, box.root)).stdout
        assert.match(out, /"text":"hi from curl"/)
        // The event stream line, if the client opened one, ends by itself (--max-time, exit 28).
        const sse = mcpLines.find((l) => l.includes('text/event-stream') && !l.includes(' -X '))
        if (sse !== undefined) {
          assert.match(sse, /^curl -sS -N --max-time 5 /)
          assert.match(call.stderr, /# The event stream below stays open/)
          const ended = await bash(`${sse}; echo "exit $?"`, {...box.env, ACCESS_TOKEN: curlToken.access_token}, box.root)
          assert.match(ended.stdout, /exit (0|28)\n$/)
        }
      } finally {
        box.cleanup()
      }
    })
  })
})
