// `ap-demo login`, the user token in `mcp call`, step-up and its limit, in-process against the
// embedded stack with a user (what `ap-demo stack up --user` starts, on port 0). The browser is
// the stack's own tests' stand-in: it drives the login and consent forms over HTTP.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {toCliError} from '../../src/cli/error-map.js'
import {Environment} from '../../src/config/settings.js'
import {ConfigStore} from '../../src/config/store.js'
import {ApDemoError} from '../../src/errors.js'
import {startStack, type StackHandle} from '../../src/stack/index.js'
import {withMcpToken} from '../../src/walkthrough/authenticated-call.js'
import {createContext, type WalkthroughContext} from '../../src/walkthrough/context.js'
import {signIn, type BrowserOptions} from '../../src/walkthrough/login.js'
import {runTool} from '../../src/walkthrough/tool.js'
import {Browser} from '../stack/authserver/browser.js'

const noEnv = new Environment({}, '/nonexistent')
const EMAIL = 'ada@example.test'
const PASSWORD = 'ada-password-1'

/** The user at the browser: signs in, and allows (all scopes, or only `scopes`) or denies. */
function user(publicUrl: string, decision: 'allow' | 'deny' = 'allow', scopes?: string[]) {
  const seen: string[] = []
  const drive = async (url: string) => {
    seen.push(url)
    const b = new Browser(publicUrl)
    let {page, left} = await b.follow(await b.get(url))
    if (!left && page.url.includes('/login')) ({page, left} = await b.follow(await b.signIn(page, EMAIL, PASSWORD)))
    if (!left && page.url.includes('/consent')) ({page, left} = await b.follow(await b.decide(page, decision, scopes)))
    if (left) await fetch(left)
  }
  return {seen, drive}
}

function browser(drive: (url: string) => Promise<void>, timeoutMs = 10_000): BrowserOptions {
  return {
    noBrowser: true,
    timeoutMs,
    onAuthorizationUrl: (url) => {
      void drive(url).catch(() => {})
    },
  }
}

async function admin(stack: StackHandle, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${stack.adminUrl}${path}`, {method, headers: {authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
  return r.status === 204 ? undefined : r.json()
}

describe('login against the embedded stack with a user', () => {
  let stack!: StackHandle
  let userId!: string
  const stores: Array<() => void> = []

  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}, toolScopes: {whoami: 'mcp:whoami'}})
    await admin(stack, 'POST', '/admin/resources', {slug: 'demo-mcp', uri: stack.resource, backend_kind: 'mint', display_name: 'Demo MCP', scopes: [{name: 'mcp:echo', description: 'echo tool'}, {name: 'mcp:whoami', description: 'who am I'}]})
    userId = (await admin(stack, 'POST', '/admin/users', {email: EMAIL, password: PASSWORD})).id
  })
  after(async () => {
    await stack.stop()
    for (const d of stores) d()
  })

  function context(): WalkthroughContext {
    const temporary = ConfigStore.temporary()
    stores.push(temporary.dispose)
    return createContext(stack, {store: temporary.store, profile: 'test', requestTimeoutMs: 5000})
  }

  it('signs the user in (DCR, login and consent forms, code + PKCE); mcp call then uses the user\'s token', async () => {
    const ctx = context()
    const at = user(stack.publicUrl)
    const result = await signIn(ctx, {env: noEnv, browser: browser(at.drive)})
    assert.equal(result.registration, 'registered')
    assert.equal(result.client.authMethod, 'none')
    assert.equal(result.login.sub, userId, 'the token is the user\'s')
    assert.equal(result.login.scope, 'mcp:echo')
    assert.ok(result.login.refreshToken)
    assert.equal(new URL(at.seen[0]!).searchParams.get('resource'), stack.resource)

    const call = await withMcpToken(ctx, {env: noEnv}, (token, c) => runTool(c, token, 'echo', {pairs: [['text', 'hi']]}))
    assert.equal(call.value.text, 'hi')
    assert.equal(call.auth.mode, 'user')
    assert.equal((call.auth as {sub: string}).sub, userId)
    // The profile keeps the sign-in keyed by issuer, resource and client; the refresh token only there.
    const kept = ctx.store.getProfile('test')
    assert.deepEqual(Object.keys(kept.logins ?? {}), [JSON.stringify([stack.issuer, stack.resource, result.client.clientId])])
  })

  it('steps up on 403 insufficient_scope: a new authorization for the union of the scopes, then the call succeeds', async () => {
    const ctx = context()
    const at = user(stack.publicUrl)
    await signIn(ctx, {env: noEnv, browser: browser(at.drive)})
    const steps: string[][] = []
    const call = await withMcpToken(ctx, {env: noEnv, browser: browser(at.drive), onUserStepUp: (scopes) => steps.push(scopes)}, (token, c) => runTool(c, token, 'whoami', {pairs: []}))
    assert.deepEqual(steps, [['mcp:echo', 'mcp:whoami']])
    assert.deepEqual(new URL(at.seen.at(-1)!).searchParams.get('scope'), 'mcp:echo mcp:whoami')
    assert.deepEqual((call.auth as {steppedUpTo: string[][]}).steppedUpTo, [['mcp:echo', 'mcp:whoami']])
    assert.equal(at.seen.length, 2, 'one sign-in, one step-up')
    assert.equal(Object.values(ctx.store.getProfile('test').logins ?? {})[0]!.scope, 'mcp:echo mcp:whoami', 'the stepped-up token replaces the old one')
  })

  it('stops stepping up after two attempts when the user keeps withholding the scope (no loop)', async () => {
    const ctx = context()
    const first = user(stack.publicUrl)
    await signIn(ctx, {env: noEnv, browser: browser(first.drive)})
    // At each step-up the user approves only mcp:echo at the consent page.
    const stingy = user(stack.publicUrl, 'allow', ['mcp:echo'])
    let error: unknown
    try {
      await withMcpToken(ctx, {env: noEnv, browser: browser(stingy.drive)}, (token, c) => runTool(c, token, 'whoami', {pairs: []}))
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof ApDemoError, String(error))
    assert.match(error.hint!, /After 2 step-up authorizations/)
    assert.equal(stingy.seen.length, 2, 'exactly two step-ups after the sign-in')
    assert.equal(toCliError(error).exitCode, 3)
  })

  it('a denied consent: the stack shows "Access Denied" and never sends the browser back; the sign-in ends at its timeout, saying why', async () => {
    const ctx = context()
    const denying = user(stack.publicUrl, 'deny')
    let error: unknown
    try {
      await signIn(ctx, {env: noEnv, browser: browser(denying.drive, 2000)})
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof ApDemoError, String(error))
    assert.equal(error.code, 'sign_in_timeout')
    assert.match(error.hint!, /Access Denied/)
    assert.equal(ctx.store.getProfile('test').logins, undefined, 'nothing kept')
  })

  it('the form driver of verify --user stops at a denied consent with a clear message', async () => {
    const ctx = context()
    let error: unknown
    try {
      await signIn(ctx, {env: noEnv, browser: {timeoutMs: 10_000, driver: {email: EMAIL, password: PASSWORD, decision: 'deny'}}})
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof ApDemoError, String(error))
    assert.equal(error.code, 'access_denied')
    assert.match(error.message, /consent was denied; the authorization server shows "Access Denied"/)
  })
})
