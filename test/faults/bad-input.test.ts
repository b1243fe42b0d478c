// The bad-input matrix: each case must end with its documented exit code, exactly one Error line
// and one Hint line, no stack trace, the store byte for byte unchanged, and neither the admin key
// nor the client secret in any channel: stdout, stderr, --json, DEBUG=* output, and the log of the
// stack that served the requests. Then the channels that print requests (--print-curl, --dry-run)
// are run on good input and grepped the same way.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {type ChildProcess} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox, terminate, type CliResult} from '../cli/helpers.js'

interface Case {
  name: string
  args: string[]
  env?: NodeJS.ProcessEnv
  exit: number
  message?: RegExp
}

const ADMIN_KEY = `adm-${randomBytes(24).toString('base64url')}`
const DEEP = `{"text":${'['.repeat(5000)}${']'.repeat(5000)}}`

describe('fault suite: the bad-input matrix', () => {
  const box = new Sandbox()
  let stack: ChildProcess
  let stackLog: () => string
  let env: NodeJS.ProcessEnv
  let clientSecret: string
  let redirector: Server
  let redirectUrl: string
  let storeBefore: Buffer
  const notAFile = join(box.root, 'a-file')
  const garbageDir = join(box.root, 'garbage-data')

  before(async () => {
    const started = await box.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--no-save', '--json'], {env: {AUTHPLANE_ADMIN_API_KEY: ADMIN_KEY}})
    stack = started.child
    let out = JSON.stringify(started.doc)
    stack.stdout?.on('data', (d) => (out += d))
    stackLog = () => out + started.stderr()
    const r = started.doc.result
    env = {AUTHPLANE_ISSUER: r.issuer, ADMIN_URL: r.adminUrl, MCP_URL: r.mcpUrl, AUTHPLANE_RESOURCE: r.resource, AUTHPLANE_ADMIN_API_KEY: ADMIN_KEY}
    for (const step of [['setup', 'resource'], ['setup', 'client']]) {
      const result = await box.run(step, {env})
      assert.equal(result.code, 0, result.stderr)
    }
    clientSecret = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.client.secret
    assert.ok(clientSecret.length >= 32)
    redirector = createServer((req, res) => res.writeHead(307, {location: `http://127.0.0.1:1/elsewhere${req.url}`}).end())
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve))
    redirectUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`
    writeFileSync(notAFile, 'x')
    mkdirSync(garbageDir, {recursive: true, mode: 0o700})
    writeFileSync(join(garbageDir, 'pepper.key'), 'short')
    storeBefore = readFileSync(box.storePath)
  })
  after(async () => {
    await terminate(stack)
    redirector?.close()
    box.cleanup()
  })

  const secrets = () => ({'the admin key': ADMIN_KEY, 'the client secret': clientSecret})
  function assertNoSecret(where: string, text: string): void {
    for (const [what, secret] of Object.entries(secrets())) assert.ok(!text.includes(secret), `${what} appears in ${where}:\n${text}`)
  }
  function assertOneErrorLine(c: Case, r: CliResult): void {
    const context = `${c.name}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`
    assert.equal(r.code, c.exit, context)
    assert.equal((r.stderr.match(/^Error: /gm) ?? []).length, 1, context)
    assert.equal((r.stderr.match(/^Hint: /gm) ?? []).length, 1, context)
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, context)
    if (c.message) assert.match(r.stderr.split('\n').find((l) => l.startsWith('Error: ')) ?? '', c.message, context)
  }

  const cases = (): Case[] => [
    {name: 'admin key with LF (row 4)', args: ['setup', 'resource', '--admin-key', `${ADMIN_KEY}\njunk`], exit: 2, message: /authorization header's value contains a line break/i},
    {name: 'admin key with CR in the environment', args: ['setup', 'resource'], env: {AUTHPLANE_ADMIN_API_KEY: `${ADMIN_KEY}\rjunk`}, exit: 2, message: /line break/},
    {name: 'admin key with non-Latin-1', args: ['setup', 'client', '--new', '--admin-key', `${ADMIN_KEY}\u2603`], exit: 2, message: /outside Latin-1/},
    {name: 'empty --admin-key', args: ['setup', 'resource', '--admin-key', ''], exit: 2, message: /--admin-key is empty/},
    {name: 'profile name with a space (row 7)', args: ['token', 'mint', '--profile', 'bad name'], exit: 2, message: /invalid profile name/},
    {name: 'empty profile name', args: ['token', 'mint', '--profile', ''], exit: 2, message: /invalid profile name/},
    {name: 'profile named constructor (row 7)', args: ['token', 'mint', '--profile', 'constructor'], exit: 7, message: /profile "constructor" has no client/},
    {name: 'huge --request-timeout (row 8)', args: ['setup', 'resource', '--request-timeout', '2147484'], exit: 2, message: /less than or equal to 600/},
    {name: 'absurd --token-ttl', args: ['stack', 'up', '--token-ttl', '999999999999', '--memory'], exit: 2, message: /less than or equal to 86400/},
    {name: '--max-sessions 0', args: ['stack', 'up', '--max-sessions', '0', '--memory'], exit: 2, message: /greater than or equal to 1/},
    {name: 'verify --timeout 0', args: ['verify', '--timeout', '0'], exit: 2},
    {name: 'resource with a fragment (row 9)', args: ['setup', 'resource', '--slug', 'frag', '--uri', 'http://localhost:8080/mcp#f'], exit: 2, message: /fragment/},
    {name: 'resource with userinfo (row 9)', args: ['setup', 'resource', '--slug', 'ui', '--uri', 'http://user:pw@localhost:8080/mcp'], exit: 2, message: /credentials/},
    {name: 'AUTHPLANE_RESOURCE with a fragment', args: ['token', 'mint'], env: {AUTHPLANE_RESOURCE: 'http://localhost:8080/mcp#x'}, exit: 2, message: /fragment/},
    {name: 'client scope with tab and quote (row 10)', args: ['setup', 'client', '--new', '--scope', 'a\tb"c'], exit: 2, message: /RFC 6749/},
    {name: 'resource scope with a backslash (row 10)', args: ['setup', 'resource', '--slug', 'bs', '--scope', 'a\\b'], exit: 2, message: /RFC 6749/},
    {name: 'admin URL with credentials (row 11)', args: ['setup', 'resource', '--admin-url', 'http://user:pass@127.0.0.1:9001'], exit: 2, message: /credentials/},
    {name: 'admin URL that redirects (row 11)', args: ['setup', 'client', '--new', '--admin-url', redirectUrl], exit: 4, message: /HTTP 307, a redirect to http:\/\/127\.0\.0\.1:1\/elsewhere/},
    {name: 'MCP URL that redirects (row 11)', args: ['mcp', 'tools', '--no-cache', '--mcp-url', `${redirectUrl}/mcp`], exit: 4, message: /redirect to/},
    {name: 'deep --args (row 11)', args: ['mcp', 'call', 'echo', '--no-cache', '--args', DEEP], exit: 2, message: /nests deeper than 64 levels/},
    {name: 'AUTHPLANE_CLIENT_SECRET alone', args: ['token', 'mint', '--no-cache'], env: {AUTHPLANE_CLIENT_SECRET: 'whatever-secret'}, exit: 2, message: /AUTHPLANE_CLIENT_SECRET is set/},
    {name: 'data dir is a file (row 6)', args: ['stack', 'up', '--no-save', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--data-dir', notAFile], exit: 7, message: /a-file/},
    {name: 'data dir under /proc (row 5)', args: ['stack', 'up', '--no-save', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--data-dir', '/proc/ap-demo-x'], exit: 7, message: /\/proc\/ap-demo-x/},
    {name: 'garbage pepper.key (row 6)', args: ['stack', 'up', '--no-save', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--data-dir', garbageDir], exit: 7, message: /pepper\.key.*exactly 32 bytes/},
    {name: 'unknown flag', args: ['setup', 'client', '--nope'], exit: 2},
  ]

  it('ends every case with its exit code, one error line, no trace, no secret, the store unchanged', async () => {
    const all = cases()
    // Three at a time: each case is two runs (plain; --json with DEBUG=*).
    for (let i = 0; i < all.length; i += 3) {
      await Promise.all(
        all.slice(i, i + 3).map(async (c) => {
          const caseEnv = {...env, ...c.env}
          const plain = await box.run(c.args, {env: caseEnv})
          assertOneErrorLine(c, plain)
          assertNoSecret(`${c.name} (stdout/stderr)`, plain.stdout + plain.stderr)
          const json = await box.run([...c.args, '--json'], {env: {...caseEnv, DEBUG: '*'}})
          assert.equal(json.code, c.exit, `${c.name} --json: ${json.stdout}${json.stderr.slice(-2000)}`)
          const doc = JSON.parse(json.stdout)
          assert.equal(doc.status, 'error')
          assert.equal(doc.error.exitCode, c.exit)
          assertNoSecret(`${c.name} (--json, DEBUG=*)`, json.stdout + json.stderr)
        }),
      )
      assert.deepEqual(readFileSync(box.storePath), storeBefore, `the store changed during ${all.slice(i, i + 3).map((c) => c.name).join(', ')}`)
    }
    assertNoSecret('the stack\'s log', stackLog())
  })

  it('keeps secrets out of --print-curl and --dry-run on good input, and clean --dry-run needs no --yes', async () => {
    const runs: Array<[string[], number]> = [
      [['setup', 'client', '--print-curl'], 0],
      [['token', 'mint', '--no-cache', '--print-curl'], 0],
      [['token', 'mint', '--no-cache', '--print-curl', '--json'], 0],
      [['setup', 'client', '--new', '--dry-run'], 0],
      [['setup', 'client', '--rotate', '--dry-run', '--json'], 0],
      [['clean', '--dry-run'], 0],
      [['clean', '--dry-run', '--json'], 0],
      [['mcp', 'call', 'echo', '--text', 'hi', '--no-cache', '--print-curl'], 0],
    ]
    for (const [args, exit] of runs) {
      const r = await box.run(args, {env: {...env, DEBUG: '*'}})
      assert.equal(r.code, exit, `${args.join(' ')}: ${r.stdout}${r.stderr.slice(-2000)}`)
      assertNoSecret(args.join(' '), r.stdout + r.stderr)
      if ((args.includes('--print-curl') || args.includes('--dry-run')) && !args.includes('--json')) assert.match(r.stdout + r.stderr, /curl /, args.join(' '))
    }
    // The curl lines name the variables that hold the secrets instead.
    const curl = await box.run(['token', 'mint', '--no-cache', '--print-curl'], {env})
    assert.match(curl.stderr, /\$\{?AUTHPLANE_CLIENT_SECRET\}?/)
    const cleanDry = await box.run(['clean', '--dry-run'], {env})
    assert.match(cleanDry.stdout + cleanDry.stderr, /DELETE/)
    assert.match(cleanDry.stderr, /nothing was changed/)
    assert.deepEqual(readFileSync(box.storePath), storeBefore, 'dry runs and curl printing changed the store')
    assertNoSecret('the stack\'s log', stackLog())
  })
})
