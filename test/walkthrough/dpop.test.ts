import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {ConfigStore} from '../../src/config/store.js'
import {startStack, type StackHandle, type StackOptions} from '../../src/stack/index.js'
import type {WalkthroughContext} from '../../src/walkthrough/context.js'
import {clientDpop} from '../../src/walkthrough/dpop.js'
import {mintToken, type ClientCredentials} from '../../src/walkthrough/token.js'
import {runTool, withResourceToken} from '../../src/walkthrough/tool.js'
import {DPOP_VERIFY_STEPS, runVerify, VERIFY_DEFAULTS, VERIFY_STEPS, VerifyFailed} from '../../src/walkthrough/verify.js'
import {ensureClient} from '../../src/walkthrough/client.js'
import {ensureResource} from '../../src/walkthrough/resource.js'

const verifyOptions = {waitMs: 10_000, echoText: 'hello dpop', ...VERIFY_DEFAULTS}

/** An embedded stack with the given MCP options and a throwaway store, for one suite. */
function useStack(options: StackOptions): {stack: () => StackHandle; ctx: () => WalkthroughContext} {
  let stack: StackHandle
  let temporary: ReturnType<typeof ConfigStore.temporary>
  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, ...options})
    temporary = ConfigStore.temporary()
  })
  after(async () => {
    await stack.stop()
    temporary.dispose()
  })
  return {
    stack: () => stack,
    ctx: () => ({issuer: stack.issuer, adminUrl: stack.adminUrl, adminKey: stack.adminKey, mcpUrl: stack.mcpUrl, resource: stack.resource, store: temporary.store, profile: 'p', requestTimeoutMs: 10_000}),
  }
}

describe('verify --dpop against --mcp-dpop required', () => {
  const {ctx} = useStack({mcpDpop: 'required'})

  it('passes, with every binding refusal shown as a step', async () => {
    const c = ctx()
    const dpop = await clientDpop(c.store, c.profile)
    assert.equal(dpop.created, true)
    const report = await runVerify({...c, dpop}, verifyOptions)
    assert.equal(report.passed, true)
    assert.deepEqual(report.steps.map((s) => s.name), [...DPOP_VERIFY_STEPS])
    const detail = (name: string) => report.steps.find((s) => s.name === name)?.detail ?? ''
    assert.match(detail("token minted (DPoP, cnf.jkt = key)"), new RegExp(`cnf.jkt = key \\(ES256 ${dpop.key.thumbprint}\\)`))
    assert.match(detail('refused: bound token as plain Bearer'), /401 .*came without a DPoP proof/)
    assert.match(detail('refused: proof from another key'), /401 .*cnf\.jkt/)
    assert.match(detail('refused: replayed proof'), /401 .*replay/)
    assert.match(detail('refused: proof for another URL'), /401 .*htu/)
    assert.match(detail('refused: proof for another method'), /401 .*htm "GET"/)
    assert.equal(report.echoed, 'hello dpop')
  })

  it('plain verify fails at initialize, with a hint that names --dpop', async () => {
    const c = ctx()
    await assert.rejects(runVerify({...c, profile: 'plain'}, verifyOptions), (err: unknown) => {
      assert.ok(err instanceof VerifyFailed)
      assert.equal(err.report.failedStep, VERIFY_STEPS[5])
      const failure = err.failure as {code: string; hint?: string}
      assert.equal(failure.code, 'token_rejected_dpop')
      assert.match(failure.hint ?? '', /--dpop/)
      return true
    })
  })

  it('reuses the profile key, and caches tokens per key', async () => {
    const c = ctx()
    const again = await clientDpop(c.store, c.profile)
    assert.equal(again.created, false)
    const first = await clientDpop(c.store, c.profile)
    const saved = c.store.getProfile(c.profile)
    assert.equal(saved.dpopKey?.thumbprint, first.key.thumbprint)
    const credentials: ClientCredentials = {clientId: saved.client!.id, clientSecret: saved.client!.secret, authMethod: saved.client!.authMethod, source: 'profile'}
    const request = {scopes: ['mcp:echo'], resources: [c.resource]}
    const bound = await mintToken({...c, dpop: first}, credentials, request)
    assert.equal(bound.token.tokenType, 'DPoP')
    assert.equal((await mintToken({...c, dpop: first}, credentials, request)).token.fromCache, true)
    const plain = await mintToken(c, credentials, request)
    assert.equal(plain.token.fromCache, false, 'a bound token is never served for a Bearer request')
    assert.equal(plain.token.tokenType, 'Bearer')
  })
})

describe('plain verify against --mcp-dpop allowed', () => {
  const {ctx} = useStack({mcpDpop: 'allowed'})
  it('passes', async () => {
    const report = await runVerify(ctx(), verifyOptions)
    assert.equal(report.passed, true)
    assert.deepEqual(report.steps.map((s) => s.name), [...VERIFY_STEPS])
  })
  it('verify --dpop passes too', async () => {
    const c = ctx()
    const report = await runVerify({...c, dpop: await clientDpop(c.store, c.profile)}, verifyOptions)
    assert.equal(report.passed, true)
  })
})

describe('DPoP against a resource that demands nonces', () => {
  const {ctx} = useStack({mcpDpop: 'required', mcpDpopNonce: true})
  it('calls the tool after one nonce retry', async () => {
    const c = ctx()
    const dpop = await clientDpop(c.store, c.profile)
    const report = await runVerify({...c, dpop}, {...verifyOptions})
    assert.equal(report.passed, true)
    // Each refusal is for its own reason, not for a missing nonce.
    for (const step of report.steps.filter((s) => s.name.startsWith('refused: ') && s.name !== 'refused: no token')) {
      assert.doesNotMatch(step.detail ?? '', /nonce/, step.name)
    }
    assert.match(report.steps.find((s) => s.name === 'refused: proof from another key')?.detail ?? '', /cnf\.jkt/)
  })
})

describe('per-tool scopes and step-up', () => {
  const {ctx} = useStack({toolScopes: {whoami: 'mcp:whoami'}, mcpDpop: 'allowed'})
  let wide: ClientCredentials

  async function register(c: WalkthroughContext, scope: string) {
    await ensureResource(c, {slug: 'demo-mcp', uri: c.resource, displayName: 'Demo MCP', scopes: [{name: 'mcp:echo'}, {name: 'mcp:whoami'}]})
    const r = await ensureClient(c, {name: 'agent', scope}, {forceNew: true})
    return {clientId: r.client.id, clientSecret: r.client.secret, authMethod: r.client.authMethod, source: 'profile'} as ClientCredentials
  }

  it('steps up once to the scope the 403 names, when the client may request it', async () => {
    const c = ctx()
    const credentials = (wide = await register(c, 'mcp:echo mcp:whoami'))
    const steps: string[][] = []
    const {value, steppedUpTo, minted} = await withResourceToken(c, credentials, {scopes: ['mcp:echo'], resources: [c.resource]}, (m) => runTool(c, m.token.accessToken, 'whoami', {pairs: []}), {onStepUp: (s) => steps.push(s)})
    assert.deepEqual(steppedUpTo, ['mcp:echo', 'mcp:whoami'])
    assert.deepEqual(steps, [['mcp:echo', 'mcp:whoami']])
    assert.equal(minted.claims.scope, 'mcp:echo mcp:whoami')
    assert.match(value.text, /scope mcp:echo mcp:whoami/)
  })

  it('says which scope is missing and how to get it when the client may not request it', async () => {
    const c = {...ctx(), profile: 'narrow'}
    const credentials = await register(c, 'mcp:echo')
    await assert.rejects(
      withResourceToken(c, credentials, {scopes: ['mcp:echo'], resources: [c.resource]}, (m) => runTool(c, m.token.accessToken, 'whoami', {pairs: []})),
      (err: unknown) => {
        const e = err as {code: string; message: string; hint: string}
        assert.equal(e.code, 'token_rejected_scope')
        assert.match(e.message, /missing scope: the server requires "mcp:whoami"/)
        assert.match(e.hint, /may request only "mcp:echo", so ap-demo cannot step up to mcp:whoami/)
        assert.match(e.hint, /setup client --new --scope "mcp:echo mcp:whoami"/)
        return true
      },
    )
  })

  it('shows the DPoP binding in whoami', async () => {
    const c = ctx()
    const dpop = await clientDpop(c.store, c.profile)
    const d = {...c, dpop}
    const {value} = await withResourceToken(d, wide, {scopes: ['mcp:echo', 'mcp:whoami'], resources: [c.resource]}, (m) => runTool(d, m.token.accessToken, 'whoami', {pairs: []}))
    assert.match(value.text, new RegExp(`DPoP-bound, cnf.jkt ${dpop.key.thumbprint}`))
  })
})
