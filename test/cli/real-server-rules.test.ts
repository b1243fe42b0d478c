import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, it} from 'node:test'
import {Browser} from '../stack/authserver/browser.js'
import {assertCleanFailure, Sandbox, terminate} from './helpers.js'

// The real server's rules as the CLI meets them: `stack up` exposes its rate limits, lockout,
// DPoP nonce and DCR settings as flags and refuses what it refuses at boot with one clean line;
// `clean` understands its answer for a client that is already gone.

const FREE_PORTS = ['--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory']

describe('stack up: rate limits and boot rules as flags', () => {
  it('--rate-limit-rps/--rate-limit-burst limit the public port; --no-rate-limit turns it off', async () => {
    const box = new Sandbox()
    try {
      const limited = await box.startJson(['stack', 'up', ...FREE_PORTS, '--rate-limit-rps', '1', '--rate-limit-burst', '2', '--no-save', '--json'])
      try {
        const url = `${limited.doc.result.publicUrl}/livez`
        const statuses = []
        for (let i = 0; i < 4; i++) statuses.push((await fetch(url)).status)
        assert.equal(statuses.slice(0, 2).join(','), '200,200')
        assert.ok(statuses.slice(2).includes(429), `got ${statuses.join(',')}`)
      } finally {
        assert.equal(await terminate(limited.child), 0)
      }
      const open = await box.startJson(['stack', 'up', ...FREE_PORTS, '--no-rate-limit', '--rate-limit-burst', '1', '--no-save', '--json'])
      try {
        const url = `${open.doc.result.publicUrl}/livez`
        for (let i = 0; i < 5; i++) assert.equal((await fetch(url)).status, 200)
      } finally {
        assert.equal(await terminate(open.child), 0)
      }
    } finally {
      box.cleanup()
    }
  })

  it('--dcr-mode admin_only closes registration; --dpop-require-nonce demands nonces', async () => {
    const box = new Sandbox()
    try {
      const {child, doc} = await box.startJson(['stack', 'up', ...FREE_PORTS, '--dcr-mode', 'admin_only', '--dpop-require-nonce', '--no-save', '--json'])
      try {
        const reg = await fetch(`${doc.result.publicUrl}/oauth/register`, {method: 'POST', body: JSON.stringify({client_name: 'x', grant_types: ['client_credentials']})})
        assert.equal(reg.status, 403)
        assert.equal(((await reg.json()) as {error: string}).error, 'access_denied')
      } finally {
        assert.equal(await terminate(child), 0)
      }
    } finally {
      box.cleanup()
    }
  })

  it('a weak admin key is refused at any issuer, with the real server\'s reason (exit 2)', async () => {
    const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: 'changeme'})
    try {
      assertCleanFailure(await box.run(['stack', 'up', ...FREE_PORTS, '--no-save']), 2, /known weak\/default value/)
      assertCleanFailure(await box.run(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--no-save', '--issuer', 'http://authserver:9000'], {env: {AUTHPLANE_ADMIN_API_KEY: 'short-key'}}), 2, /at least 16 characters/)
    } finally {
      box.cleanup()
    }
  })

  it('--token-ttl governs client_credentials; --dcr-default-token-expiry and --dcr-default-refresh-expiry the user grants; --no-require-scope', async () => {
    const key = 'lifetimes-admin-key-0123456789'
    const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: key, AP_DEMO_USER_PASSWORD: 'lifetimes password 0123'})
    try {
      const {child, doc} = await box.startJson(['stack', 'up', ...FREE_PORTS, '--no-save', '--json', '--user', 'life@example.test', '--token-ttl', '600', '--dcr-default-token-expiry', '300', '--dcr-default-refresh-expiry', '3600', '--no-require-scope'])
      try {
        const s = doc.result
        const adminPost = async (path: string, body: unknown) => {
          const res = await fetch(`${s.adminUrl}${path}`, {method: 'POST', headers: {authorization: `Bearer ${key}`, 'content-type': 'application/json'}, body: JSON.stringify(body)})
          const text = await res.text()
          assert.equal(res.status, 201, text)
          return JSON.parse(text)
        }
        await adminPost('/admin/resources', {slug: 'demo-mcp', uri: s.resource, backend_kind: 'mint', scopes: [{name: 'mcp:echo'}]})
        const machine = await adminPost('/admin/clients', {client_name: 'machine', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:echo'})
        const cc = await fetch(`${s.publicUrl}/oauth/token`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${machine.client_id}:${machine.client_secret}`).toString('base64')}`}, body: `grant_type=client_credentials&resource=${encodeURIComponent(s.resource)}`})
        assert.equal(((await cc.json()) as any).expires_in, 600)

        const redirect = 'http://127.0.0.1:40001/cb'
        const web = await adminPost('/admin/clients', {client_name: 'web', redirect_uris: [redirect]})
        const verifier = 'v'.repeat(43)
        const challenge = createHash('sha256').update(verifier).digest('base64url')
        // No scope: with --no-require-scope the resource's scopes are proposed.
        const b = new Browser(s.publicUrl)
        const q = new URLSearchParams({response_type: 'code', client_id: web.client_id, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', resource: s.resource})
        let {page, left} = await b.follow(await b.get(`/oauth/authorize?${q}`))
        ;({page, left} = await b.follow(await b.signIn(page, 'life@example.test', 'lifetimes password 0123')))
        assert.match(page.html, /value="mcp:echo"/)
        ;({left} = await b.follow(await b.decide(page, 'allow')))
        const t = await fetch(`${s.publicUrl}/oauth/token`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({grant_type: 'authorization_code', code: left!.searchParams.get('code')!, redirect_uri: redirect, code_verifier: verifier, client_id: web.client_id})})
        const body = (await t.json()) as any
        assert.equal(t.status, 200, JSON.stringify(body))
        assert.equal(body.expires_in, 300)
        assert.equal(body.scope, 'mcp:echo')
      } finally {
        assert.equal(await terminate(child), 0)
      }
      // Out of range: refused by the flag, before anything starts.
      assertCleanFailure(await box.run(['stack', 'up', ...FREE_PORTS, '--no-save', '--dcr-default-refresh-expiry', String(90 * 86_400 + 1)]), 2)
    } finally {
      box.cleanup()
    }
  })

  it('a non-localhost issuer needs AUTHPLANE_SESSION_SECRET and AUTHPLANE_SESSION_SECURE=true, as in docker-compose.yml and .env.example', async () => {
    const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: 'issuer-admin-key-0123456789'})
    try {
      const args = ['stack', 'up', ...FREE_PORTS, '--no-save', '--issuer', 'https://auth.example.com']
      assertCleanFailure(await box.run(args), 2, /^Error: cannot start the stack: session\.secret is required when server\.issuer is not localhost; session\.secure must be true when server\.issuer is not localhost$/m)
      assertCleanFailure(await box.run(args, {env: {AUTHPLANE_SESSION_SECRET: 'f'.repeat(64)}}), 2, /session\.secure must be true/)
      assertCleanFailure(await box.run([...args, '--no-cimd-require-https'], {env: {AUTHPLANE_SESSION_SECRET: 'f'.repeat(64), AUTHPLANE_SESSION_SECURE: 'true'}}), 2, /cimd\.require_https must be true when server\.issuer is not localhost/)
      const {child, doc} = await box.startJson([...args, '--json'], {env: {AUTHPLANE_SESSION_SECRET: 'f'.repeat(64), AUTHPLANE_SESSION_SECURE: 'true'}})
      try {
        assert.equal(doc.result.issuer, 'https://auth.example.com')
        const login = await fetch(`${doc.result.publicUrl}/login`)
        assert.match(login.headers.getSetCookie().join('\n'), /; Secure;/)
        assert.doesNotMatch(JSON.stringify(doc), /f{64}/, 'the session secret is never printed')
      } finally {
        assert.equal(await terminate(child), 0)
      }
    } finally {
      box.cleanup()
    }
  })

  it('an admin key with a line break in AUTHPLANE_ADMIN_API_KEY is refused at start, naming the variable; nothing is saved', async () => {
    const box = new Sandbox()
    try {
      for (const key of ['first-line-0123456789\nsecond-line', 'carriage-0123456789\r\nreturn', 'a key with spaces 0123456789']) {
        const r = await box.run(['stack', 'up', ...FREE_PORTS], {env: {AUTHPLANE_ADMIN_API_KEY: key}})
        assertCleanFailure(r, 2, /^Error: refusing to start: AUTHPLANE_ADMIN_API_KEY holds a line break, a space or another character that is not visible ASCII$/m)
        assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('Error:')).length, 1)
      }
      const shown = JSON.parse((await box.run(['config', 'show', '--json'])).stdout).result
      assert.doesNotMatch(JSON.stringify(shown), /second-line|carriage|with spaces/)
    } finally {
      box.cleanup()
    }
  })

  it('a lockout or failure window beyond 7 days is refused at start with one line, not a 500 at the first failed login', async () => {
    const box = new Sandbox()
    try {
      for (const [flag, name] of [['--auth-lockout', 'auth.lockout'], ['--auth-fail-window', 'auth.fail.window']]) {
        const r = await box.run(['stack', 'up', ...FREE_PORTS, '--no-save', flag!, '99999999999999'])
        assertCleanFailure(r, 2, new RegExp(name!.replace(/\./g, '[-_]')))
      }
    } finally {
      box.cleanup()
    }
  })
})

describe('clean against the real server\'s answer for a client that is already gone', () => {
  it('a 400 "client authentication failed" on DELETE (the real server\'s unknown-client answer) counts as already gone', async () => {
    const {startTestStack} = await import('./helpers.js')
    const {stack, env} = await startTestStack()
    const box = new Sandbox(env)
    try {
      for (const args of [['setup', 'resource'], ['setup', 'client']]) assert.equal((await box.run(args)).code, 0, args.join(' '))
      const profile = JSON.parse((await box.run(['config', 'show', '--json'])).stdout).result
      const clientId: string = profile.client?.id ?? profile.profile?.client?.id
      assert.ok(clientId, JSON.stringify(profile))
      const del = await fetch(`${stack.adminUrl}/admin/clients/${clientId}?force=true`, {method: 'DELETE', headers: {authorization: `Bearer ${stack.adminKey}`}})
      assert.equal(del.status, 204)
      const clean = await box.run(['clean', '--yes', '--json'])
      assert.equal(clean.code, 0, clean.stderr)
      assert.match(clean.stdout, /already gone/)
    } finally {
      box.cleanup()
      await stack.stop()
    }
  })
})
