// Findings of a newcomer's review, each checked the way the newcomer ran into it: real stacks, the
// real CLI, and the hint followed to where it leads.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createServer, type Server} from 'node:http'
import {describe, it} from 'node:test'

import {startStack} from '../../src/stack/index.js'
import {assertCleanFailure, BIN, Sandbox, terminate, useTestStack} from './helpers.js'

/** The environment that points the CLI at a stack. */
function envFor(stack: {issuer: string; adminUrl: string; adminKey: string; mcpUrl: string}): NodeJS.ProcessEnv {
  return {AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, AUTHPLANE_ADMIN_API_KEY: stack.adminKey, MCP_URL: stack.mcpUrl}
}

/** The Hint line of a failure. */
function hintOf(stderr: string): string {
  return /^Hint: (.*)$/m.exec(stderr)?.[1] ?? ''
}

describe('newcomer review', () => {
  let env!: NodeJS.ProcessEnv
  let adminUrl!: string
  useTestStack((s) => {
    env = s.env
    adminUrl = s.stack.adminUrl
  })

  it('stack up prints the admin URL --admin-url takes, and an admin URL ending in /admin works too', async () => {
    const box = new Sandbox()
    try {
      const proc = spawn(process.execPath, [BIN, 'stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory'], {env: box.env, stdio: ['ignore', 'pipe', 'pipe']})
      let output = ''
      const printed = await new Promise<string>((resolve, reject) => {
        const read = (d: Buffer) => {
          output += d
          const line = /admin API +(\S+)/.exec(output)
          if (line && output.includes('Ctrl-C')) resolve(line[1]!)
        }
        proc.stdout.on('data', read)
        proc.stderr.on('data', read)
        proc.on('close', () => reject(new Error(`stack up ended early: ${output}`)))
      })
      try {
        assert.doesNotMatch(printed, /\/admin\/?$/, 'the printed admin URL is the base --admin-url takes')
        // The profile holds the admin key; the printed URL, as it is and with /admin, is accepted.
        const asPrinted = await box.run(['setup', 'resource', '--admin-url', printed])
        assert.equal(asPrinted.code, 0, asPrinted.stderr)
        const withSuffix = await box.run(['setup', 'client', '--admin-url', `${printed}/admin`])
        assert.equal(withSuffix.code, 0, withSuffix.stderr)
      } finally {
        await terminate(proc)
      }
    } finally {
      box.cleanup()
    }
  })

  it('--admin-url ending in /admin or /admin/ is the same admin API; a wrong one says what to pass', async () => {
    const box = new Sandbox(env)
    try {
      for (const url of [`${adminUrl}/admin`, `${adminUrl}/admin/`]) {
        const r = await box.run(['setup', 'resource', '--admin-url', url])
        assert.equal(r.code, 0, r.stderr)
      }
      const wrong = await box.run(['setup', 'resource', '--admin-url', env.AUTHPLANE_ISSUER!])
      assertCleanFailure(wrong, 7, /does not serve the Authplane admin API/)
      assert.match(hintOf(wrong.stderr), /base URL of the admin port, e\.g\. http:\/\/localhost:9001/)
    } finally {
      box.cleanup()
    }
  })

  it('verify --dry-run sends the unauthenticated probe and holds back POST /admin/resources', async () => {
    const box = new Sandbox(env)
    try {
      const r = await box.run(['verify', '--dry-run'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^curl .*-X POST .*\/admin\/resources/m)
      assert.doesNotMatch(r.stdout, /initialize/)
      assert.match(r.stderr, /dry run: the request above was not sent \(POST http:\/\/[^ ]+\/admin\/resources\); nothing was changed/)
      // Nothing was registered: the resource is still unknown to the server.
      const json = JSON.parse((await box.run(['verify', '--dry-run', '--json'])).stdout)
      assert.match(json.result.notSent, /\/admin\/resources/)
    } finally {
      box.cleanup()
    }
  })

  it('token mint --dry-run with a cached token prints no token and says nothing would be sent', async () => {
    const box = new Sandbox(env)
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      const minted = await box.run(['token', 'mint'])
      assert.equal(minted.code, 0, minted.stderr)
      const token = minted.stdout.trim()
      assert.ok(token.length > 20)
      const dry = await box.run(['token', 'mint', '--dry-run'])
      assert.equal(dry.code, 0, dry.stderr)
      assert.equal(dry.stdout, '')
      assert.ok(!dry.stderr.includes(token), 'the token is not printed')
      assert.match(dry.stderr, /dry run: a cached token \(client [^)]+\) would be printed; no request would be sent\. --no-cache --dry-run shows the token request\./)
      const json = await box.run(['token', 'mint', '--dry-run', '--json'])
      assert.ok(!json.stdout.includes(token), 'not in --json either')
      assert.deepEqual({...JSON.parse(json.stdout).result, clientId: undefined}, {dryRun: true, fromCache: true, clientId: undefined, sent: [], notSent: null})
      // Without the cache, the token request itself is what a dry run holds back.
      const uncached = await box.run(['token', 'mint', '--dry-run', '--no-cache'])
      assert.equal(uncached.code, 0, uncached.stderr)
      assert.match(uncached.stdout, /^curl .*\/oauth\/token/m)
      assert.ok(!uncached.stdout.includes(token))
    } finally {
      box.cleanup()
    }
  })

  it('a scope the resource does not declare: both hints say to register the resource again, and following them works', async () => {
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, toolScopes: {whoami: 'mcp:whoami'}})
    const box = new Sandbox(envFor(stack))
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      // The client lacks the scope, and so does the resource (the profile knows its scopes).
      const first = await box.run(['mcp', 'call', 'whoami'])
      assertCleanFailure(first, 3)
      const firstHint = hintOf(first.stderr)
      assert.match(firstHint, /Client \S+ may request only "mcp:echo"/)
      assert.match(firstHint, /The resource does not declare mcp:whoami either .*ap-demo clean --yes; ap-demo setup resource --scope mcp:echo --scope mcp:whoami; ap-demo setup client --new --scope "mcp:echo mcp:whoami"/)
      // The newcomer's way, fixing the client only, is refused before anything is registered: a
      // client asking for a scope no resource declares would get invalid_scope on every token.
      const second = await box.run(['setup', 'client', '--new', '--scope', 'mcp:echo mcp:whoami'])
      assertCleanFailure(second, 2, /^Error: --scope mcp:whoami: no resource of profile "\S+" declares that scope \(they declare mcp:echo\)$/m)
      assert.match(hintOf(second.stderr), /ap-demo setup resource --scope <scope>/)
      // A client from elsewhere (a profile with no resource) may ask for it; the server then refuses
      // the scope for this resource, and the hint offers the typo's fix first.
      const made = await box.run(['setup', 'client', '--profile', 'elsewhere', '--scope', 'mcp:echo mcp:whoami', '--show-secret', '--json'])
      assert.equal(made.code, 0, made.stderr)
      const {client, secret} = (JSON.parse(made.stdout) as {result: {client: {id: string}; secret: string}}).result
      const third = await box.run(['token', 'mint', '--client-id', client.id, '--client-secret', secret, '--scope', 'mcp:whoami'])
      assertCleanFailure(third, 5, /invalid_scope .*not declared by the target resource/)
      const thirdHint = hintOf(third.stderr)
      assert.match(thirdHint, /The resource \S+ does not declare "mcp:whoami"\. If "mcp:whoami" is a mistake, ask only for what it declares: ap-demo setup client --scope "mcp:echo"/)
      assert.match(thirdHint, /Else register it again .*ap-demo clean --yes; ap-demo setup resource --scope mcp:echo --scope mcp:whoami; ap-demo setup client --new --scope "mcp:echo mcp:whoami"/)
      // Following the hint leads to a working call.
      for (const step of [['clean', '--yes'], ['setup', 'resource', '--scope', 'mcp:echo', '--scope', 'mcp:whoami'], ['setup', 'client', '--new', '--scope', 'mcp:echo mcp:whoami']]) {
        const r = await box.run(step)
        assert.equal(r.code, 0, `${step.join(' ')}: ${r.stderr}`)
      }
      const done = await box.run(['mcp', 'call', 'whoami'])
      assert.equal(done.code, 0, done.stderr)
    } finally {
      box.cleanup()
      await stack.stop()
    }
  })

  it('a mistyped setup client --scope is refused, and the working client is kept', async () => {
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
    const box = new Sandbox(envFor(stack))
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      const before = JSON.parse((await box.run(['config', 'show', '--json'])).stdout) as {result: {client: {id: string; scope: string}}}
      const typo = await box.run(['setup', 'client', '--scope', 'mcp:nosuch'])
      assertCleanFailure(typo, 2, /^Error: --scope mcp:nosuch: no resource of profile "\S+" declares that scope \(they declare mcp:echo\)$/m)
      assert.match(hintOf(typo.stderr), /Check the spelling, e\.g\. --scope "mcp:echo"/)
      const after = JSON.parse((await box.run(['config', 'show', '--json'])).stdout) as {result: {client: {id: string; scope: string}}}
      assert.deepEqual(after.result.client, before.result.client, 'the saved client is the same')
      const call = await box.run(['mcp', 'call', 'echo', '--text', 'still works'])
      assert.equal(call.code, 0, call.stderr)
    } finally {
      box.cleanup()
      await stack.stop()
    }
  })

  it('invalid_client after a --memory stack restarted: the hint says the server forgot the client', async () => {
    const first = await startStack({port: 0, adminPort: 0, mcpPort: 0})
    const box = new Sandbox(envFor(first))
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      await first.stop()
      const second = await startStack({port: 0, adminPort: 0, mcpPort: 0})
      try {
        const withKey = await box.run(['token', 'mint'], {env: envFor(second)})
        assertCleanFailure(withKey, 3, /invalid_client/)
        assert.match(hintOf(withKey.stderr), /does not know client "[^"]+" \(the admin API answers 404 for it\).*--memory stack forgets.*ap-demo setup client --new$/)
        // Without an admin key it cannot ask, and says both possibilities.
        const noKey = await box.run(['token', 'mint'], {env: {...envFor(second), AUTHPLANE_ADMIN_API_KEY: ''}})
        assertCleanFailure(noKey, 3, /invalid_client/)
        assert.match(hintOf(noKey.stderr), /rotate it .*Or the server no longer knows this client \(a --memory stack forgets it on restart\): ap-demo setup client --new$/)
        // A client id given on the command line that the server does not know is told apart the same way.
        const flagged = await box.run(['token', 'mint', '--client-id', 'nobody-by-that-name'], {env: {...envFor(second), AUTHPLANE_CLIENT_SECRET: 'wrong'}})
        assertCleanFailure(flagged, 3, /invalid_client/)
        assert.match(hintOf(flagged.stderr), /does not know client "nobody-by-that-name"/)
      } finally {
        await second.stop()
      }
    } finally {
      box.cleanup()
    }
  })

  it('a refused admin key names where it came from', async () => {
    const box = new Sandbox({...env, AUTHPLANE_ADMIN_API_KEY: 'not-the-servers-key-0123456789'})
    try {
      const fromEnv = await box.run(['setup', 'resource'])
      assertCleanFailure(fromEnv, 3, /the admin API refused the admin key/)
      assert.match(hintOf(fromEnv.stderr), /came from AUTHPLANE_ADMIN_API_KEY in the environment, which overrides the profile's saved key/)
      const fromFlag = await box.run(['setup', 'resource', '--admin-key', 'another-wrong-key-0123456789'])
      assertCleanFailure(fromFlag, 3)
      assert.match(hintOf(fromFlag.stderr), /came from --admin-key/)
      assert.equal(JSON.parse((await box.run(['setup', 'resource', '--json'])).stdout).error.keySource, 'env')
    } finally {
      box.cleanup()
    }
  })

  it('an MCP URL that answers 404 is said in our words, with no blank line before the hint', async () => {
    // Like a Go server's mux: text/plain "404 page not found\n".
    const server: Server = createServer((_req, res) => {
      res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8'})
      res.end('404 page not found\n')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as {port: number}).port}/mcp`
    const box = new Sandbox(env)
    try {
      const r = await box.run(['mcp', 'call', 'echo', '--text', 'hi', '--mcp-url', url])
      assertCleanFailure(r, 5)
      assert.match(r.stderr, new RegExp(`^Error: the MCP endpoint ${url.replace(/[.]/g, '\\.')} answered 404 \\(not an MCP server there\\?\\)\\nHint: Check --mcp-url`, 'm'))
      assert.doesNotMatch(r.stderr, /\n\s*\n/, 'no blank line')
      assert.doesNotMatch(r.stderr, /POSTing/)
    } finally {
      box.cleanup()
      server.close()
    }
  })

  it('an MCP URL that answers 200 with a web page is not an MCP endpoint either (not a tool argument problem)', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'})
      res.end('<!doctype html><title>Welcome</title>')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as {port: number}).port}/mcp`
    const box = new Sandbox(env)
    try {
      for (const protocol of ['auto', '2025-11-25']) {
        const r = await box.run(['mcp', 'call', 'echo', '--text', 'hi', '--mcp-url', url, '--protocol', protocol])
        assertCleanFailure(r, 5)
        assert.match(r.stderr, new RegExp(`^Error: the MCP endpoint ${url.replace(/[.]/g, '\\.')} answered text/html, not JSON-RPC \\(not an MCP server there\\?\\)\\nHint: Check --mcp-url`, 'm'), protocol)
        assert.doesNotMatch(r.stderr, /tool's arguments/)
      }
    } finally {
      box.cleanup()
      server.close()
    }
  })

  it('mcp call --dpopp: a typo of --dpop is a usage error, not a tool argument', async () => {
    const box = new Sandbox(env)
    try {
      assert.equal((await box.run(['setup', 'resource'])).code, 0)
      assert.equal((await box.run(['setup', 'client'])).code, 0)
      for (const args of [['echo', '--text', 'hi', '--dpopp'], ['echo', '--dpopp', '--text', 'hi']]) {
        const r = await box.run(['mcp', 'call', ...args])
        assertCleanFailure(r, 2, /^Error: unknown flag --dpopp: did you mean --dpop\? \(tool arguments come from the tool's schema: --text <string> \(required\)/m)
        assert.doesNotMatch(r.stderr, /needs a value/)
      }
      // A real tool argument still goes to the tool, and the right flag still works.
      const ok = await box.run(['mcp', 'call', 'echo', '--text', 'hi'])
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(ok.stdout.trim(), 'hi')
    } finally {
      box.cleanup()
    }
  })
})
