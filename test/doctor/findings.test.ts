// `ap-demo doctor`'s walk in-process (the function the command runs), one broken deployment per
// finding: the embedded stack, MCP servers on the official SDK v2 set up wrong, and a small
// authorization server of our own (./deployments.ts). Every server is real and on loopback.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {describeError} from '../../src/cli/error-map.js'
import {ConfigStore} from '../../src/config/store.js'
import type {DoctorReport, Finding, FindingId} from '../../src/doctor/findings.js'
import {runDoctor} from '../../src/doctor/run.js'
import type {McpProtocolChoice} from '../../src/mcp/protocol.js'
import {startMcpServer, startStack, type McpServerHandle, type StackHandle} from '../../src/stack/index.js'
import {ensureClient} from '../../src/walkthrough/client.js'
import {createContext, type WalkthroughContext} from '../../src/walkthrough/context.js'
import {clientDpop} from '../../src/walkthrough/dpop.js'
import {ensureResource} from '../../src/walkthrough/resource.js'
import type {ClientCredentials} from '../../src/walkthrough/token.js'
import {closedPort} from '../cli/helpers.js'
import {startV2Peer} from '../peers/v2-mcp-server.js'
import {startFakeAs, startMcpDeployment, type FakeAs, type McpDeploymentOptions} from './deployments.js'

const stores: Array<{dispose: () => void}> = []
const stops: Array<() => Promise<void>> = []
after(async () => {
  for (const stop of stops.reverse()) await stop()
  for (const s of stores) s.dispose()
})

/** A throwaway profile pointed at `issuer` (the configured issuer) and `mcpUrl`. */
function context(mcpUrl: string, issuer = 'http://127.0.0.1:9', adminKey?: string, adminUrl = 'http://127.0.0.1:9'): WalkthroughContext {
  const temporary = ConfigStore.temporary()
  stores.push(temporary)
  return createContext({issuer, adminUrl, mcpUrl, resource: mcpUrl}, {store: temporary.store, profile: 'doctor', adminKey, requestTimeoutMs: 5000})
}

const flagClient = (id: string, secret: string): ClientCredentials => ({clientId: id, clientSecret: secret, authMethod: 'client_secret_basic', source: 'flag'})

async function doctor(ctx: WalkthroughContext, options: {credentials?: ClientCredentials; issuer?: string; scopes?: string[]; dpop?: boolean; dpopScheme?: 'auto' | 'dpop' | 'bearer'; protocol?: McpProtocolChoice} = {}): Promise<DoctorReport> {
  let c = options.protocol ? {...ctx, mcpProtocol: options.protocol} : ctx
  if (options.dpop) c = {...c, dpop: await clientDpop(c.store, c.profile, {scheme: options.dpopScheme})}
  const saved = c.store.getProfile(c.profile).client
  const configured: ClientCredentials | undefined = saved ? {clientId: saved.id, clientSecret: saved.secret, authMethod: saved.authMethod, source: 'profile'} : undefined
  return runDoctor(c, {credentials: options.credentials, configuredCredentials: configured, expectedIssuer: options.issuer, scopes: options.scopes, describeError})
}

/** The primary finding, checked to be `id` and well formed; the report is printed when it is not. */
function primary(report: DoctorReport, id: FindingId): Finding {
  const first = report.findings[0]!
  assert.equal(report.primary, id, JSON.stringify(report, null, 2))
  assert.equal(first.id, id)
  for (const key of ['summary', 'evidence', 'fix'] as const) assert.ok(key in first, key)
  assert.ok(first.evidence.length > 0, 'evidence')
  if (id !== 'ok' && id !== 'no_auth_required') {
    assert.equal(first.severity, 'error')
    assert.ok(first.fix && first.fix.length > 20, 'a fix')
    assert.equal(report.steps.at(-1)!.ok, false, 'the last step is the one that broke')
  }
  return first
}

const noticed = (report: DoctorReport, id: FindingId) => report.findings.slice(1).filter((f) => f.id === id)

describe('doctor against the embedded stack', () => {
  let stack!: StackHandle
  let admin!: WalkthroughContext
  let unregistered!: McpServerHandle

  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}})
    stops.push(() => stack.stop())
    admin = context(stack.mcpUrl, stack.issuer, stack.adminKey, stack.adminUrl)
    await ensureResource(admin, {slug: 'demo-mcp', uri: stack.resource, displayName: 'Demo', scopes: [{name: 'mcp:echo'}, {name: 'mcp:read'}]})
    await ensureClient(admin, {name: 'doctor-agent', scope: 'mcp:echo mcp:read'})
    // A second tier-01 server in front of the same issuer, whose resource nobody registered.
    unregistered = await startMcpServer({port: 0, issuer: stack.issuer})
    stops.push(() => unregistered.stop())
  })

  it('ok: a healthy deployment: token minted, tools listed, echo called (and nothing registered)', async () => {
    const before = await (await fetch(`${stack.adminUrl}/admin/clients`, {headers: {Authorization: `Bearer ${stack.adminKey}`}})).json()
    const report = await doctor(admin)
    const ok = primary(report, 'ok')
    assert.equal(ok.severity, 'ok')
    assert.equal(ok.fix, null)
    assert.deepEqual(report.steps.map((s) => s.ok), [true, true, true, true, true, true, true])
    assert.match(ok.evidence.join('\n'), /tools\/call echo \{"text":"ap-demo doctor"\} \(chosen: it only answers \(echo\)\): "ap-demo doctor"/)
    assert.deepEqual((report.token!.claims as {aud: string[]}).aud, [stack.resource], 'the token appears as its claims')
    assert.ok(!JSON.stringify(report).includes(admin.store.getProfile('doctor').client!.secret), 'no secret in the report')
    const afterList = await (await fetch(`${stack.adminUrl}/admin/clients`, {headers: {Authorization: `Bearer ${stack.adminKey}`}})).json()
    assert.deepEqual(afterList, before, 'doctor registered nothing')
    assert.equal(Object.keys(admin.store.getProfile('doctor').tokens ?? {}).length, 0, 'nothing cached: doctor always mints afresh')
  })

  it('client_rejected: invalid_client at the token endpoint (a wrong secret)', async () => {
    const client = admin.store.getProfile('doctor').client!
    const report = await doctor(context(stack.mcpUrl), {credentials: flagClient(client.id, 'not-the-secret')})
    const f = primary(report, 'client_rejected')
    assert.match(f.evidence.join('\n'), /answered 401 invalid_client/)
    assert.ok(!JSON.stringify(report).includes('not-the-secret'), 'the secret is never shown')
    assert.equal(report.steps.at(-1)!.name, 'token minted')
  })

  it('scope_not_allowed: invalid_scope for a scope beyond the client\'s ceiling', async () => {
    const report = await doctor(admin, {scopes: ['mcp:admin']})
    const f = primary(report, 'scope_not_allowed')
    assert.match(f.summary, /"mcp:admin"/)
    assert.match(f.evidence.join('\n'), /invalid_scope/)
  })

  it('resource_not_registered: invalid_target for a resource the authorization server does not know', async () => {
    const ctx = context(unregistered.url, stack.issuer)
    const report = await doctor(ctx, {credentials: flagClient(admin.store.getProfile('doctor').client!.id, admin.store.getProfile('doctor').client!.secret)})
    const f = primary(report, 'resource_not_registered')
    assert.match(f.summary, new RegExp(`"${unregistered.resource}"`))
    assert.match(f.fix!, new RegExp(`ap-demo setup resource --uri ${unregistered.resource}`))
  })

  it('insufficient_scope: the 403 names the scope the server wants', async () => {
    const report = await doctor(admin, {scopes: ['mcp:read']})
    const f = primary(report, 'insufficient_scope')
    assert.match(f.summary, /wants scope "mcp:echo", and the token has "mcp:read"/)
    assert.match(f.evidence.join('\n'), /403 to (initialize|server\/discover) with the token: WWW-Authenticate: Bearer error="insufficient_scope"/)
    assert.equal(f.guessed, false)
  })

  it('as_issuer_mismatch: the configured client belongs to another issuer than the one the MCP server names', async () => {
    // The profile's client, but the profile says localhost where the server says 127.0.0.1.
    const ctx = context(stack.mcpUrl, stack.issuer.replace('127.0.0.1', 'localhost'))
    ctx.store.updateProfile('doctor', (p) => ({...p, client: admin.store.getProfile('doctor').client}))
    const report = await doctor(ctx)
    const f = primary(report, 'as_issuer_mismatch')
    assert.match(f.summary, /belongs to "http:\/\/localhost:/)
    assert.match(f.evidence.join('\n'), /the hosts differ/)
  })
})

describe('doctor against deployments set up wrong', () => {
  let as!: FakeAs
  before(async () => {
    as = await startFakeAs()
    stops.push(() => as.stop())
  })
  const deploy = async (options: Partial<McpDeploymentOptions> & {authorizationServers?: string[]}) => {
    const d = await startMcpDeployment({authorizationServers: [as.issuer], verify: {jwks: as.jwksUrl}, ...options})
    stops.push(() => d.stop())
    return d
  }
  const client = () => flagClient(as.client.id, as.client.secret)

  it('mcp_unreachable: nothing answers at the MCP URL', async () => {
    const report = await doctor(context(`http://127.0.0.1:${await closedPort()}/mcp`))
    const f = primary(report, 'mcp_unreachable')
    assert.match(f.summary, /does not answer/)
    assert.equal(report.steps.length, 1)
  })

  it('no_auth_required: the server answers without a token (not an error)', async () => {
    const peer = await startV2Peer({eras: 'dual'})
    stops.push(() => peer.stop())
    const report = await doctor(context(peer.url))
    const f = primary(report, 'no_auth_required')
    assert.equal(f.severity, 'info')
    assert.deepEqual(report.steps.map((s) => (s.skipped ? 'skip' : s.ok)), [true, 'skip', 'skip', 'skip', true, true, true])
    assert.match(f.evidence.join('\n'), /tools\/call echo/)
  })

  it('no_resource_metadata: a 401 with no challenge and no well-known document', async () => {
    const d = await deploy({challenge: 'none', prmAt: 'none'})
    const report = await doctor(context(d.url), {credentials: client()})
    const f = primary(report, 'no_resource_metadata')
    assert.match(f.evidence.join('\n'), /no WWW-Authenticate header/)
    assert.match(f.evidence.join('\n'), /\/\.well-known\/oauth-protected-resource\/mcp: 404/)
    assert.match(f.evidence.join('\n'), /\/\.well-known\/oauth-protected-resource: 404/)
    assert.equal(as.tokenRequests.length, 0, 'no token was requested')
  })

  it('prm_resource_mismatch: the metadata names another resource', async () => {
    const d = await deploy({prmResource: 'https://elsewhere.example/mcp'})
    const report = await doctor(context(d.url), {credentials: client()})
    const f = primary(report, 'prm_resource_mismatch')
    assert.match(f.summary, /https:\/\/elsewhere\.example\/mcp/)
  })

  it('as_unreachable: the authorization server the metadata names does not answer', async () => {
    const d = await deploy({authorizationServers: [`http://127.0.0.1:${await closedPort()}`]})
    const report = await doctor(context(d.url), {credentials: client()})
    primary(report, 'as_unreachable')
    assert.equal(report.steps.at(-1)!.name, 'authorization server')
  })

  it('as_unreachable: the metadata names an authorization server that is not a URL', async () => {
    const d = await deploy({authorizationServers: ['auth.example.com']})
    const f = primary(await doctor(context(d.url), {credentials: client()}), 'as_unreachable')
    assert.match(f.summary, /not an http\(s\) URL: "auth\.example\.com"/)
  })

  it('as_issuer_mismatch: the authorization server announces another issuer than the metadata names', async () => {
    const other = await startFakeAs({announcedIssuer: 'https://auth.example.com'})
    stops.push(() => other.stop())
    const d = await deploy({authorizationServers: [other.base]})
    const report = await doctor(context(d.url), {credentials: flagClient(other.client.id, other.client.secret)})
    const f = primary(report, 'as_issuer_mismatch')
    assert.match(f.summary, /announces issuer "https:\/\/auth\.example\.com"/)
    assert.equal(other.tokenRequests.length, 0)
  })

  it('as_issuer_mismatch: --issuer names a server the MCP server does not trust', async () => {
    const d = await deploy({})
    const report = await doctor(context(d.url), {credentials: client(), issuer: 'http://127.0.0.1:1'})
    assert.match(primary(report, 'as_issuer_mismatch').summary, /not the issuer given, "http:\/\/127\.0\.0\.1:1"/)
  })

  it('grant_not_supported: the authorization server does not offer client_credentials', async () => {
    const other = await startFakeAs({grantTypes: ['authorization_code', 'refresh_token']})
    stops.push(() => other.stop())
    const d = await deploy({authorizationServers: [other.issuer], verify: {jwks: other.jwksUrl}})
    const report = await doctor(context(d.url), {credentials: flagClient(other.client.id, other.client.secret)})
    const f = primary(report, 'grant_not_supported')
    assert.match(f.evidence.join('\n'), /grant_types_supported \["authorization_code", "refresh_token"\]/)
  })

  it('token_audience_rejected: the server checks another audience than its metadata announces (a trailing slash)', async () => {
    // It announces its URL as the resource, and expects the URL with a trailing slash as the audience.
    const wrong = await deploy({verify: {jwks: as.jwksUrl, audience: (url) => `${url}/`}})
    const report = await doctor(context(wrong.url), {credentials: client()})
    const f = primary(report, 'token_audience_rejected')
    assert.equal(f.guessed, false)
    assert.match(f.summary, /refuses the token's audience: token audience does not include http:\/\/127\.0\.0\.1:\d+\/mcp\/$/)
    assert.match(f.fix!, /differ only by a trailing slash/)
  })

  it('token_audience_rejected, guessed: a bare 401, and the token\'s aud lacks the metadata\'s resource', async () => {
    const ignoring = await startFakeAs({ignoreResource: true})
    stops.push(() => ignoring.stop())
    const d = await deploy({authorizationServers: [ignoring.issuer], verify: {jwks: ignoring.jwksUrl}, challenge: 'bare'})
    const report = await doctor(context(d.url), {credentials: flagClient(ignoring.client.id, ignoring.client.secret)})
    const f = primary(report, 'token_audience_rejected')
    assert.equal(f.guessed, true)
    assert.match(f.summary, /says only 401; a guess/)
    assert.match(f.fix!, /did not bind the token/)
  })

  it('token_signature_rejected: the server trusts another key set', async () => {
    const stranger = await startFakeAs()
    stops.push(() => stranger.stop())
    const d = await deploy({verify: {jwks: stranger.jwks}})
    const report = await doctor(context(d.url), {credentials: client()})
    const f = primary(report, 'token_signature_rejected')
    assert.equal(f.guessed, false)
    assert.match(f.summary, /no key with this kid/)
  })

  it('token_signature_rejected, guessed: a bare 401 while every claim matches the metadata', async () => {
    const stranger = await startFakeAs()
    stops.push(() => stranger.stop())
    const d = await deploy({verify: {jwks: stranger.jwks}, challenge: 'bare'})
    const report = await doctor(context(d.url), {credentials: client()})
    const f = primary(report, 'token_signature_rejected')
    assert.equal(f.guessed, true)
    assert.match(f.summary, /what is left is its signature/)
  })

  it('token_expired: the authorization server\'s clock is 2 h behind (its tokens are born expired)', async () => {
    const late = await startFakeAs({clockOffsetSeconds: -7200})
    stops.push(() => late.stop())
    const d = await deploy({authorizationServers: [late.issuer], verify: {jwks: late.jwksUrl}})
    const report = await doctor(context(d.url), {credentials: flagClient(late.client.id, late.client.secret)})
    const f = primary(report, 'token_expired')
    assert.match(f.summary, /the authorization server's clock is behind this machine's by about 2 h, and the MCP server agrees with this machine/)
    assert.match(f.fix!, /authorization server's clock right \(NTP\): it is 2 h behind/)
  })

  it('token_expired: the MCP server\'s clock is 2 h ahead (its Date header says so)', async () => {
    const d = await deploy({clockOffsetSeconds: 7200})
    const report = await doctor(context(d.url), {credentials: client()})
    const f = primary(report, 'token_expired')
    assert.match(f.summary, /the MCP server's clock is ahead of this machine's by about 2 h, and the authorization server agrees/)
    assert.match(f.evidence.join('\n'), /MCP server Date: .* GMT/)
  })

  it('protocol_version_unsupported: the server speaks only 2026-07-28 and --protocol pins 2025-11-25', async () => {
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}})
    stops.push(() => stack.stop())
    const peer = await startV2Peer({eras: 'modern', issuer: stack.issuer})
    stops.push(() => peer.stop())
    const adminCtx = context(peer.url, stack.issuer, stack.adminKey, stack.adminUrl)
    await ensureResource(adminCtx, {slug: 'peer', uri: peer.url, displayName: 'Peer', scopes: [{name: 'mcp:echo'}]})
    await ensureClient(adminCtx, {name: 'peer-agent', scope: 'mcp:echo'})
    const report = await doctor(adminCtx, {protocol: '2025-11-25'})
    const f = primary(report, 'protocol_version_unsupported')
    assert.match(f.fix!, /--protocol 2026-07-28/)
    assert.equal(primary(await doctor(adminCtx), 'ok').severity, 'ok', 'negotiating, it works')
  })

  it('dpop_required: the server takes only DPoP-bound tokens; with --dpop the call works', async () => {
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, mcpDpop: 'required', rateLimit: {enabled: false}})
    stops.push(() => stack.stop())
    const ctx = context(stack.mcpUrl, stack.issuer, stack.adminKey, stack.adminUrl)
    await ensureResource(ctx, {slug: 'demo-mcp', uri: stack.resource, displayName: 'Demo', scopes: [{name: 'mcp:echo'}]})
    await ensureClient(ctx, {name: 'dpop-agent', scope: 'mcp:echo'})
    const f = primary(await doctor(ctx), 'dpop_required')
    assert.match(f.summary, /wants DPoP-bound tokens/)
    assert.match(f.fix!, /--dpop/)
    primary(await doctor(ctx, {dpop: true}), 'ok')
  })

  it('dpop_required: a server that reads only Bearer (with the proof beside it) refuses the DPoP scheme; auto follows its challenge', async () => {
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}})
    stops.push(() => stack.stop())
    const peer = await startV2Peer({eras: 'dual', issuer: stack.issuer, dpop: 'bearer-proof'})
    stops.push(() => peer.stop())
    const ctx = context(peer.url, stack.issuer, stack.adminKey, stack.adminUrl)
    await ensureResource(ctx, {slug: 'bearer-proof', uri: peer.url, displayName: 'Bearer and proof', scopes: [{name: 'mcp:echo'}]})
    await ensureClient(ctx, {name: 'bearer-proof-agent', scope: 'mcp:echo'})
    const f = primary(await doctor(ctx, {dpop: true, dpopScheme: 'dpop'}), 'dpop_required')
    assert.match(f.summary, /offers only the bearer scheme and refused the DPoP-bound token sent as "Authorization: DPoP"/)
    assert.match(f.fix!, /--dpop-scheme auto .* or --dpop-scheme bearer/)
    const report = await doctor(ctx, {dpop: true})
    primary(report, 'ok')
    assert.match(report.steps[3]!.detail, /^DPoP-bound, aud/)
  })

  it('ok: the metadata names the issuer with a trailing slash (as Authplane\'s Python adapters do)', async () => {
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}})
    stops.push(() => stack.stop())
    const d = await deploy({authorizationServers: [`${stack.issuer}/`], verify: {issuer: stack.issuer, jwks: `${stack.issuer}/.well-known/jwks.json`}})
    const ctx = context(d.url, stack.issuer, stack.adminKey, stack.adminUrl)
    await ensureResource(ctx, {slug: 'slash', uri: d.url, displayName: 'Slash', scopes: [{name: 'mcp:echo'}]})
    await ensureClient(ctx, {name: 'slash-agent', scope: 'mcp:echo'})
    const report = await doctor(ctx)
    primary(report, 'ok')
    assert.match(noticed(report, 'as_issuer_mismatch')[0]!.summary, /a trailing slash alone is not a difference/)
  })

  it('ok: a CDN answers 403 (or 401) on the path-based well-known URL; the root document is good', async () => {
    for (const status of [403, 401]) {
      const d = await deploy({prmAt: 'root', pathStatus: status, challenge: 'none'})
      const report = await doctor(context(d.url), {credentials: client()})
      primary(report, 'ok')
      const cdn = noticed(report, 'no_resource_metadata').find((n) => n.summary.includes(`answers ${status}`))
      assert.ok(cdn, JSON.stringify(report.findings))
      assert.equal(cdn.severity, 'warning')
    }
  })

  it('ok: the metadata names two authorization servers; the configured client\'s is the second', async () => {
    const d = await deploy({authorizationServers: ['https://other-as.example', as.issuer], verify: {issuer: as.issuer, jwks: as.jwksUrl}})
    const ctx = context(d.url, as.issuer)
    ctx.store.updateProfile('doctor', (p) => ({...p, client: {id: as.client.id, name: 'fake', scope: 'mcp:echo', secret: as.client.secret, authMethod: 'client_secret_basic', adminUrl: 'http://127.0.0.1:9', createdAt: new Date().toISOString()}}))
    primary(await doctor(ctx), 'ok')
  })

  it('ok: picks a read-only tool, never one whose name or annotations say it changes things', async () => {
    const d = await deploy({tools: [{name: 'delete_everything', annotations: {destructiveHint: true}}, {name: 'resetCache'}, {name: 'status', annotations: {readOnlyHint: true}}, {name: 'list_items'}]})
    const report = await doctor(context(d.url), {credentials: client()})
    const f = primary(report, 'ok')
    assert.deepEqual(d.calls, ['status'])
    assert.match(f.evidence.join('\n'), /tools\/call status \{\} \(chosen: annotated readOnlyHint\)/)
    assert.match(f.evidence.join('\n'), /not called: delete_everything \(annotated destructiveHint\)/)
    assert.match(f.evidence.join('\n'), /not called: resetCache \(its name says "reset"\)/)
  })

  it('ok: stops after tools/list when no tool is safe to call, and says so', async () => {
    const d = await deploy({tools: [{name: 'drop_table', annotations: {destructiveHint: true}}, {name: 'send_email', requiredText: ['to']}, {name: 'lookup', requiredText: ['query']}]})
    const report = await doctor(context(d.url), {credentials: client()})
    const f = primary(report, 'ok')
    assert.deepEqual(d.calls, [])
    assert.match(f.summary, /no tool is safe to call, so doctor stopped after tools\/list/)
    assert.equal(report.steps.at(-1)!.skipped, true)
  })
})
