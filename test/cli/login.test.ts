// `ap-demo login`, `logout`, the user token in `mcp call` and `token mint --user-token`, `verify
// --user` and `--client-key`, end to end through the binary, against the embedded stack with a
// user (as `ap-demo stack up --user` runs it) and a stand-in authorization server of our own. The
// browser is the stack's own tests' stand-in, given the address `login --no-browser` prints.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {exportPKCS8, generateKeyPair} from 'jose'

import {ConfigStore} from '../../src/config/store.js'
import {startMcpServer, type StackHandle} from '../../src/stack/index.js'
import {approveInBrowser, StandInAs} from '../login/stand-in-as.js'
import {Browser} from '../stack/authserver/browser.js'
import {assertCleanFailure, BIN, ROOT, Sandbox, useTestStack, type CliResult} from './helpers.js'
import {Pty} from './pty.js'

const EMAIL = 'grace@example.test'
const PASSWORD = 'grace-password-1'

async function admin(stack: StackHandle, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${stack.adminUrl}${path}`, {method, headers: {authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
  return r.status === 204 ? undefined : r.json()
}

/** Runs ap-demo; when it prints the sign-in address (login --no-browser), `drive` plays the user's browser. */
function runSigningIn(box: Sandbox, args: string[], env: NodeJS.ProcessEnv, drive?: (url: string) => Promise<unknown>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {cwd: box.root, env: {...box.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let driven = false
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      const url = /^ {2}(http\S+)$/m.exec(stderr)?.[1]
      if (url && drive && !driven) {
        driven = true
        void drive(url).catch((error: Error) => (stderr += `\n[test browser] ${error.message}`))
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

describe('login, logout and the user token, through the CLI', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  let userId!: string
  useTestStack((s) => ({stack, env} = s))
  const boxes: Sandbox[] = []
  const sandbox = () => {
    const box = new Sandbox()
    boxes.push(box)
    return box
  }
  after(() => {
    for (const b of boxes) b.cleanup()
  })

  before(async () => {
    await admin(stack, 'POST', '/admin/resources', {slug: 'demo-mcp', uri: stack.resource, backend_kind: 'mint', display_name: 'Demo MCP', scopes: [{name: 'mcp:echo', description: 'echo tool'}]})
    userId = (await admin(stack, 'POST', '/admin/users', {email: EMAIL, password: PASSWORD})).id
  })

  /** The user in the browser: signs in and allows. */
  const signInAndAllow = async (url: string) => {
    const b = new Browser(stack.publicUrl)
    let {page, left} = await b.follow(await b.get(url))
    if (!left && page.url.includes('/login')) ({page, left} = await b.follow(await b.signIn(page, EMAIL, PASSWORD)))
    if (!left && page.url.includes('/consent')) ({page, left} = await b.follow(await b.decide(page, 'allow')))
    assert.ok(left, `no redirect back: ${page.status} ${page.url}`)
    await fetch(left)
  }

  it('login, then mcp call echo --text hi prints hi with the user\'s token; token mint --user-token --decode shows the user as sub; logout forgets it', async () => {
    const box = sandbox()
    const login = await runSigningIn(box, ['login', '--no-browser', '--json'], env, signInAndAllow)
    assert.equal(login.code, 0, login.stderr)
    const signedIn = JSON.parse(login.stdout).result
    assert.equal(signedIn.sub, userId)
    assert.equal(signedIn.registration, 'registered')
    assert.equal(signedIn.refreshToken, true)
    assert.doesNotMatch(login.stdout, /eyJ/, 'no token on stdout')
    assert.match(login.stderr, /Open this address in a browser to sign in \(no browser started: --no-browser\)/)

    const call = await box.run(['mcp', 'call', 'echo', '--text', 'hi'], {env})
    assert.equal(call.code, 0, call.stderr)
    assert.equal(call.stdout, 'hi\n')
    const json = JSON.parse((await box.run(['mcp', 'call', 'echo', '--text', 'hi', '--json'], {env})).stdout).result
    assert.equal(json.auth.mode, 'user')
    assert.equal(json.auth.sub, userId)

    const decoded = await box.run(['token', 'mint', '--user-token', '--decode', '--json'], {env})
    assert.equal(decoded.code, 0, decoded.stderr)
    const token = JSON.parse(decoded.stdout).result
    assert.equal(token.claims.sub, userId)
    assert.equal(token.user.sub, userId)
    assert.deepEqual(token.claims.aud, [stack.resource])
    const human = await box.run(['token', 'mint', '--user-token', '--decode'], {env})
    assert.match(human.stderr, new RegExp(`the signed-in user ${userId} \\(sub\\)`))

    const shown = await box.run(['config', 'show', '--json'], {env})
    const kept = Object.values(new ConfigStore({cwd: join(box.storePath, '..')}).getProfile('default').logins ?? {})[0]!
    assert.equal(JSON.parse(shown.stdout).result.signIns[0].sub, userId)
    assert.ok(!shown.stdout.includes(kept.refreshToken!) && !shown.stdout.includes(kept.accessToken), 'config show names the sign-in, never its tokens')
    assert.match((await box.run(['config', 'show'], {env})).stdout, new RegExp(`sign-in +${stack.mcpUrl.replaceAll('.', '\\.')} as ${userId}`))

    // Kept like the client secret: the store file is 0600 in a 0700 directory.
    assert.equal(statSync(box.storePath).mode & 0o777, 0o600)
    assert.equal(statSync(join(box.storePath, '..')).mode & 0o777, 0o700)

    const out = await box.run(['logout'], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stdout, /^Signed out of .*\(issuer .*, user .*\): /m)
    // Today's stack refuses revocation without a client secret: one line says so, and the sign-in is forgotten anyway.
    const warnings = out.stderr.split('\n').filter((l) => l.startsWith('Warning:'))
    assert.ok(warnings.length <= 1, out.stderr)
    assert.equal(Object.keys(new ConfigStore({cwd: join(box.storePath, '..')}).getProfile('default').logins ?? {}).length, 0)
    const after = await box.run(['mcp', 'call', 'echo', '--text', 'hi'], {env})
    assertCleanFailure(after, 7, /ap-demo login/)
    assert.match((await box.run(['logout'], {env})).stdout, /Not signed in for /)
  })

  it('--no-browser in a terminal (over SSH): the address the browser ended on, pasted, completes the sign-in', async () => {
    const box = sandbox()
    const pty = new Pty(['node', BIN, 'login', '--no-browser'], {cwd: box.root, env: {...box.env, ...env}})
    try {
      await pty.waitFor(/^ {2}(http\S+\/oauth\/authorize\S+)$/m)
      const url = /^ {2}(http\S+\/oauth\/authorize\S+)$/m.exec(pty.text)![1]!
      await pty.waitFor(/or paste here the address the browser ends on/)
      // The browser is on another machine: its redirect to 127.0.0.1 goes nowhere; the user copies the address.
      const b = new Browser(stack.publicUrl)
      let {page, left} = await b.follow(await b.get(url))
      if (!left && page.url.includes('/login')) ({page, left} = await b.follow(await b.signIn(page, EMAIL, PASSWORD)))
      if (!left && page.url.includes('/consent')) ({page, left} = await b.follow(await b.decide(page, 'allow')))
      assert.ok(left)
      pty.type(`${left.href}\r`)
      assert.equal(await pty.exited, 0, pty.text)
      assert.match(pty.text, new RegExp(`Signed in to .* as ${userId}`))
    } finally {
      pty.kill()
    }
  })

  it('logout revokes the refresh token at the authorization server (RFC 7009, a public client revoking its own token)', async () => {
    const box = sandbox()
    assert.equal((await runSigningIn(box, ['login', '--no-browser'], env, signInAndAllow)).code, 0)
    const kept = Object.values(new ConfigStore({cwd: join(box.storePath, '..')}).getProfile('default').logins ?? {})[0]!
    const out = await box.run(['logout', '--json'], {env})
    assert.equal(out.code, 0, out.stderr)
    const r = JSON.parse(out.stdout).result
    assert.equal(r.signedOut[0].revoked, true, `the server refused: ${r.signedOut[0].reason}`)
    const refresh = await fetch(`${stack.issuer}/oauth/token`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: kept.refreshToken!, client_id: kept.clientId})})
    assert.equal(refresh.status, 400, 'the revoked refresh token no longer works')
  })

  it('bad input: a --callback-port in use (6), a sign-in that never comes back (4), an http --client-metadata-url (2)', async () => {
    const box = sandbox()
    const held = createServer()
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve))
    try {
      const port = (held.address() as {port: number}).port
      assertCleanFailure(await box.run(['login', '--no-browser', '--callback-port', String(port)], {env}), 6, /port \d+ on 127\.0\.0\.1 is already in use[\s\S]*--callback-port/)
    } finally {
      held.close()
    }
    assertCleanFailure(await box.run(['login', '--no-browser', '--login-timeout', '2'], {env}), 4, /no sign-in came back[\s\S]*--login-timeout/)
    assertCleanFailure(await box.run(['login', '--no-browser', '--client-metadata-url', 'http://example.com/c.json'], {env}), 2, /must be an https URL/)
  })

  it('verify --embedded --user passes, every refusal shown as a step; docs/login.md\'s figure is the requests it made, in order; no password in its HAR', async () => {
    const box = sandbox()
    const har = join(box.root, 'run.har')
    const r = await box.run(['verify', '--embedded', '--user', 'ada@example.test', '--har', har], {env: {AP_DEMO_USER_PASSWORD: 'ada-password-1'}})
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const recorded = readFileSync(har, 'utf8')
    assert.doesNotMatch(recorded, /ada-password-1/)
    const sent = (JSON.parse(recorded).log.entries as Array<{request: {method: string; url: string}; response: {status: number}}>).map((e) => `${e.request.method} ${new URL(e.request.url).pathname} ${e.response.status}`)
    const figure = /<!-- login-example -->([\s\S]*?)<!-- \/login-example -->/.exec(readFileSync(join(ROOT, 'docs', 'login.md'), 'utf8'))![1]!
    const arrows = [...figure.matchAll(/->>\w+: (GET|POST|DELETE) (\/\S*).* · (\d{3})/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`)
    assert.ok(arrows.length >= 14, `the figure has ${arrows.length} requests`)
    let at = 0
    for (const arrow of arrows) {
      const found = sent.indexOf(arrow, at)
      assert.ok(found >= 0, `the figure's "${arrow}" is not among the requests sent after #${at}: ${sent.slice(at).join(', ')}`)
      at = found + 1
    }
    for (const step of ['login', 'consent', 'code exchanged (sub = the user)', 'echo tool with the user token', 'refresh (tokens rotated)', 'refused: code replay', 'refused: wrong code verifier', 'refused: foreign redirect URI']) {
      assert.match(r.stdout, new RegExp(`OK\\s+${step.replace(/[()]/g, '\\$&')}`), step)
    }
    assert.match(r.stdout, /\[12\/12\] OK/)
    assert.match(r.stdout, /ALL CHECKS PASSED/)
    assert.doesNotMatch(r.stdout + r.stderr, /ada-password-1/)
  })

  it('verify --user with a wrong password fails at the sign-in step, not at the consent', async () => {
    const box = sandbox()
    const r = await box.run(['verify', '--user', EMAIL, '--json'], {env: {...env, AP_DEMO_USER_PASSWORD: `${PASSWORD}-wrong`}})
    assert.equal(r.code, 3, r.stderr + r.stdout)
    const report = (JSON.parse(r.stdout) as {error: {code: string; report: {failedStep: string}}}).error
    assert.equal(report.code, 'sign_in_refused')
    assert.equal(report.report.failedStep, 'login')
  })

  it('verify --embedded --user speaks the MCP revision --protocol pins, as verify --embedded does', async () => {
    const box = sandbox()
    const har = join(box.root, 'legacy.har')
    const r = await box.run(['verify', '--embedded', '--user', 'ada@example.test', '--protocol', '2025-11-25', '--har', har], {env: {AP_DEMO_USER_PASSWORD: 'ada-password-1'}})
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const methods = (JSON.parse(readFileSync(har, 'utf8')).log.entries as Array<{_mcpMethod?: string}>).map((e) => e._mcpMethod).filter((m) => m !== undefined)
    assert.ok(methods.includes('initialize'), methods.join(', '))
    assert.ok(!methods.includes('server/discover'), methods.join(', '))
  })

  it('--client-key: private_key_jwt client assertions for token mint and mcp call --discover; against Authplane, which does not announce the method, one line says so', async () => {
    const box = sandbox()
    const {publicKey, privateKey} = await generateKeyPair('ES256', {extractable: true})
    const keyFile = join(box.root, 'client.pem')
    writeFileSync(keyFile, await exportPKCS8(privateKey), {mode: 0o600})
    const as = await new StandInAs({privateKeyJwt: {clientId: 'agent-7', publicKey}}).start()
    // The tier-01 MCP server, trusting the stand-in: it checks the stand-in's tokens against its JWKS.
    const mcp = await startMcpServer({port: 0, issuer: as.issuer})
    try {
      const minted = await box.run(['token', 'mint', '--issuer', as.issuer, '--resource', mcp.resource, '--client-id', 'agent-7', '--client-key', keyFile, '--decode', '--json'], {env})
      assert.equal(minted.code, 0, minted.stderr)
      assert.equal(JSON.parse(minted.stdout).result.claims.client_id, 'agent-7')
      const [request] = as.recorded('/token')
      assert.equal(request!.form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      assert.equal(request!.form.client_secret, undefined)
      assert.equal(request!.headers.authorization, undefined)
      // The stand-in takes assertions without announcing private_key_jwt: one line says so.
      const human = await box.run(['token', 'mint', '--issuer', as.issuer, '--resource', mcp.resource, '--client-id', 'agent-7', '--client-key', keyFile, '--no-cache'], {env})
      assert.equal(human.code, 0, human.stderr)
      assert.match(human.stderr, /^Warning: http:\/\/127\.0\.0\.1:\d+ does not announce private_key_jwt \(token_endpoint_auth_methods_supported: none, client_secret_basic, client_secret_post\); sending the client assertion anyway$/m)

      const call = await box.run(['mcp', 'call', 'echo', '--text', 'signed', '--mcp-url', mcp.url, '--client-id', 'agent-7', '--client-key', keyFile, '--discover'], {env})
      assert.equal(call.code, 0, call.stderr)
      assert.equal(call.stdout, 'signed\n')
      assert.equal(as.recorded('/token').at(-1)!.form.resource, mcp.resource)
    } finally {
      await mcp.stop()
      await as.stop()
    }

    const refused = await box.run(['token', 'mint', '--client-id', 'someone', '--client-key', keyFile, '--no-cache'], {env})
    assertCleanFailure(refused, 3, /invalid_client/)
    // The one line: what the server announces, and why it refuses (Authplane reads only client secrets).
    assert.match(refused.stderr, /^Hint: http:\/\/127\.0\.0\.1:\d+ does not announce private_key_jwt \(it announces none, client_secret_basic, client_secret_post\): its token endpoint reads only client secrets, as Authplane's does\./m)
    assertCleanFailure(await box.run(['token', 'mint', '--client-key', keyFile], {env}), 2, /--client-key needs --client-id/)
    writeFileSync(join(box.root, 'public.pem'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')
    assertCleanFailure(await box.run(['token', 'mint', '--client-id', 'x', '--client-key', join(box.root, 'public.pem')], {env}), 2, /holds a public key/)
  })

  it('a stand-in authorization server\'s user can sign in through the binary with $BROWSER as the browser', async () => {
    const box = sandbox()
    const as = await new StandInAs().start()
    try {
      const browserScript = join(box.root, 'browser.mjs')
      writeFileSync(browserScript, `const {approveInBrowser} = await import(${JSON.stringify(new URL('../login/stand-in-as.js', import.meta.url).href)}); await approveInBrowser(process.argv.at(-1))\n`)
      const r = await box.run(['login', '--mcp-url', as.mcpUrl], {env: {BROWSER: `${process.execPath} ${browserScript}`}})
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /Opened \$BROWSER \(.*node\) to sign in/)
      assert.match(r.stdout, /Signed in to .* as user-ada/)
      void approveInBrowser
    } finally {
      await as.stop()
    }
  })
})
