// The walkthrough's step functions in-process, against the embedded stack on port 0: the same
// code the commands run, without spawning the binary (test/cli/ keeps a few end-to-end runs).
import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'

import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js'
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import chalk from 'chalk'
import {z} from 'zod'

import {AdminClient} from '../../src/admin/client.js'
import {describeError, toCliError} from '../../src/cli/error-map.js'
import {formatStepLines, LINE_WIDTH} from '../../src/cli/render/verify.js'
import {Environment} from '../../src/config/settings.js'
import {ConfigStore} from '../../src/config/store.js'
import {startStack, type StackHandle} from '../../src/stack/index.js'
import {withMcpToken} from '../../src/walkthrough/authenticated-call.js'
import {ensureClient} from '../../src/walkthrough/client.js'
import {createContext, saveEndpoints, type WalkthroughContext} from '../../src/walkthrough/context.js'
import {TokenRequestRefused} from '../../src/walkthrough/errors.js'
import {ensureResource} from '../../src/walkthrough/resource.js'
import {mintForResource, mintToken} from '../../src/walkthrough/token.js'
import {fetchTools, runTool} from '../../src/walkthrough/tool.js'
import {runVerify, VERIFY_STEPS, VerifyFailed, verifyTargets} from '../../src/walkthrough/verify.js'
import {FixtureServer, metadata, tokenOk, WELL_KNOWN} from '../authplane/fixture.js'

chalk.level = 0
const noEnv = new Environment({}, '/nonexistent')

describe('walkthrough steps, in-process against the embedded stack', () => {
  let stack!: StackHandle
  const stores: Array<{dispose: () => void}> = []

  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
  })
  after(async () => {
    await stack.stop()
    for (const s of stores) s.dispose()
  })

  /** A fresh profile in a throwaway store, pointed at the stack. */
  function context(profile = 'test'): WalkthroughContext {
    const temporary = ConfigStore.temporary()
    stores.push(temporary)
    return createContext(stack, {store: temporary.store, profile, adminKey: stack.adminKey, requestTimeoutMs: 5000})
  }

  it('verify checks the resource the profile already holds instead of registering demo-mcp', async () => {
    const ctx = context()
    // What the wizard leaves behind: another slug, another client name.
    await ensureResource(ctx, {slug: 'wiz-demo', uri: ctx.resource, displayName: 'Wizard demo', scopes: [{name: 'mcp:echo'}]})
    await ensureClient(ctx, {name: 'wizard-agent', scope: 'mcp:echo'})
    const targets = verifyTargets(ctx)
    assert.deepEqual(targets, {slug: 'wiz-demo', slugIsDefault: false, displayName: 'Wizard demo', clientName: 'wizard-agent', scope: 'mcp:echo'})
    const report = await runVerify(ctx, {...targets, waitMs: 5000, echoText: 'in-process'})
    assert.equal(report.passed, true)
    assert.equal(report.slug, 'wiz-demo')
    const slugs = (await new AdminClient({adminUrl: stack.adminUrl, adminKey: stack.adminKey}).listResources()).map((r) => r.slug)
    assert.ok(!slugs.includes('demo-mcp'), `verify registered demo-mcp beside the wizard's resource: ${slugs.join(', ')}`)
    assert.equal(ctx.store.getProfile(ctx.profile).resource?.slug, 'wiz-demo', 'the profile still points at the wizard\'s resource')
    // Steps 6 and 7 are the tool-call path of `mcp call`: one session, initialize then echo.
    assert.deepEqual(report.steps.map((s) => s.name), [...VERIFY_STEPS])
    assert.equal(report.echoed, 'in-process')
  })

  it('every verify line fits 100 columns', async () => {
    const ctx = context()
    const report = await runVerify(ctx, {...verifyTargets(ctx), waitMs: 5000, echoText: 'x'.repeat(150)})
    for (const step of report.steps) {
      for (const line of formatStepLines(step, VERIFY_STEPS.length)) assert.ok(line.length <= LINE_WIDTH, `${line.length} columns: ${line}`)
    }
    const failed = formatStepLines({step: 1, name: VERIFY_STEPS[0], ok: false, ms: 60_000, detail: 'x'.repeat(300)}, 10)
    assert.deepEqual(failed.length, 1, 'a failed step shows no detail: its error is printed once, at the end')
  })

  it('a failing step ends verify with VerifyFailed, mapped once to the step\'s exit code', async () => {
    const ctx = createContext({...stack, issuer: `${stack.issuer}/wrong`}, {store: context().store, profile: 'p', adminKey: stack.adminKey, requestTimeoutMs: 2000})
    const error = await runVerify(ctx, {...verifyTargets(ctx), waitMs: 500, echoText: 'x', describeError}).catch((e: unknown) => e)
    assert.ok(error instanceof VerifyFailed)
    const mapped = toCliError(error)
    assert.match(mapped.message, /^step "discovery ready" failed: /)
    assert.equal(mapped.exitCode, error.report.steps[0]!.error!.exitCode)
    assert.ok([1, 4, 7].includes(mapped.exitCode))
  })

  it('a cached token is used only with the credentials that minted it', async () => {
    const ctx = context()
    await ensureResource(ctx, {slug: 'cache-check', uri: ctx.resource, scopes: [{name: 'mcp:echo'}]})
    const {client} = await ensureClient(ctx, {name: 'cache-agent', scope: 'mcp:echo'})
    const right = {clientId: client.id, clientSecret: client.secret, authMethod: client.authMethod, source: 'profile' as const}
    const request = {scopes: ['mcp:echo'], resources: [ctx.resource]}
    assert.equal((await mintToken(ctx, right, request)).token.fromCache, false)
    assert.equal((await mintToken(ctx, right, request)).token.fromCache, true)
    const wrong = {...right, clientSecret: `${client.secret}x`, source: 'env' as const}
    const error = await mintToken(ctx, wrong, request).catch((e: unknown) => e)
    assert.ok(error instanceof TokenRequestRefused, `a wrong secret must reach the server, not the cache: ${String(error)}`)
    const mapped = toCliError(error)
    assert.equal(mapped.exitCode, 3)
    // The client came from the environment: rotating a saved client would not help.
    assert.doesNotMatch(mapped.hint ?? '', /setup client --rotate/)
    assert.match(mapped.hint ?? '', /from the environment/)
    assert.equal((await mintToken(ctx, right, request)).token.fromCache, true, 'the right secret still gets its token')
  })

  it('token mint takes --client-id/--client-secret like mcp call', async () => {
    const ctx = context()
    const {client} = await ensureClient(context(), {name: 'flag-agent', scope: 'mcp:echo'})
    await ensureResource(ctx, {slug: 'flag-check', uri: ctx.resource, scopes: [{name: 'mcp:echo'}]}).catch(() => {})
    const minted = await mintForResource(ctx, noEnv, {clientId: client.id, clientSecret: client.secret, scopes: ['mcp:echo'], withResource: true})
    assert.equal(minted.clientId, client.id)
    assert.equal(ctx.store.getProfile(ctx.profile).client, undefined, 'this profile has no saved client: the flags were used')
  })

  it('without any client, mcp calls try without a token; a server that wants one gets a clear no_client error', async () => {
    const ctx = context()
    const error = await withMcpToken(ctx, {env: noEnv}, (token, c) => fetchTools(c, token)).catch((e: unknown) => e)
    const mapped = toCliError(error)
    assert.equal(mapped.code, 'no_client')
    assert.equal(mapped.exitCode, 7)
    assert.match(mapped.message, /asks for a token, but profile "test" has no client/)
  })

  it('saveEndpoints points a profile at the servers; a context reads them back', () => {
    const ctx = context()
    saveEndpoints(ctx.store, 'saved', {...stack, adminKey: stack.adminKey})
    const p = ctx.store.getProfile('saved')
    assert.deepEqual([p.issuer, p.adminUrl, p.mcpUrl, p.resourceUri, p.adminKey], [stack.issuer, stack.adminUrl, stack.mcpUrl, stack.resource, stack.adminKey])
  })
})

describe('walkthrough steps against servers that are not Authplane', () => {
  it('an MCP server that needs no token is called without one, even with no client configured', async () => {
    const server: Server = createServer(async (req, res) => {
      const mcp = new McpServer({name: 'open-server', version: '1.0.0'})
      mcp.registerTool('add_numbers', {description: 'Adds', inputSchema: {a: z.number(), b: z.number()}}, async ({a, b}) => ({content: [{type: 'text', text: String(a + b)}]}))
      const transport = new StreamableHTTPServerTransport({sessionIdGenerator: undefined})
      res.on('close', () => void transport.close())
      await mcp.connect(transport)
      await transport.handleRequest(req, res)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const temporary = ConfigStore.temporary()
    try {
      const mcpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
      const ctx = createContext({issuer: 'http://127.0.0.1:9', adminUrl: 'http://127.0.0.1:9', mcpUrl, resource: mcpUrl}, {store: temporary.store, profile: 'p', requestTimeoutMs: 5000})
      const {value, auth} = await withMcpToken(ctx, {env: noEnv}, (token, c) => runTool(c, token, 'add_numbers', {pairs: [['a', '2'], ['b', '3']]}))
      assert.equal(value.text, '5')
      assert.deepEqual(auth, {mode: 'none'})
    } finally {
      temporary.dispose()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('an opaque token is handed out as issued; only --decode needs a JWT, and says so', async () => {
    const fixture = await FixtureServer.start()
    const temporary = ConfigStore.temporary()
    try {
      // As panva's oidc-provider does when no resource is named: an opaque access token.
      fixture.on('GET', WELL_KNOWN, metadata(fixture.origin, fixture.origin)).on('POST', '/oauth/token', tokenOk({access_token: 'opaque-8f2c1d'}))
      const ctx = createContext({issuer: fixture.origin, adminUrl: fixture.origin, mcpUrl: `${fixture.origin}/mcp`, resource: `${fixture.origin}/mcp`}, {store: temporary.store, profile: 'p', requestTimeoutMs: 5000})
      const flags = {clientId: 'c', clientSecret: 's', scopes: ['mcp:echo'], withResource: false, noCache: true}
      const minted = await mintForResource(ctx, noEnv, flags)
      assert.equal(minted.token.accessToken, 'opaque-8f2c1d')
      assert.equal(minted.opaque, true)
      const error = await mintForResource(ctx, noEnv, {...flags, decode: true}).catch((e: unknown) => e)
      const mapped = toCliError(error)
      assert.equal(mapped.code, 'opaque_token')
      assert.match(mapped.message, /opaque \(not a JWT\), so --decode cannot show claims/)
    } finally {
      temporary.dispose()
      await fixture.close()
    }
  })
})
