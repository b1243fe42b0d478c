import {CheckFailedError, ConfigError} from '../errors.js'
import {DryRunStop} from '../http/request.js'
import {ensureClient} from './client.js'
import {serversStartedByApDemo, type WalkthroughContext} from './context.js'
import {VERIFY_DEFAULTS} from './defaults.js'
import {waitForDiscovery} from './discovery.js'
import type {ClientDpop} from './dpop.js'
import {describeConnection, MODERN_REVISION, type McpEra} from '../mcp/protocol.js'
import {shellArg} from '../shell.js'
import {probeMcp, waitForMcpServer, type ProbeOptions} from './mcp-probe.js'
import {ensureResourceFor} from './resource.js'
import {mintToken, type ClientCredentials} from './token.js'
import {runTool} from './tool.js'
import {VerifyFailed, type StepReport, type VerifyReport} from './verify-failed.js'
import type {WaitState} from './wait.js'

export {VerifyFailed, type StepReport, type VerifyReport} from './verify-failed.js'
export {VERIFY_DEFAULTS} from './defaults.js'

export const DEFAULT_ECHO_TEXT = 'hello from tier 02'

export const VERIFY_STEPS = [
  'discovery ready',
  'MCP server ready (401 without a token)',
  'resource registered',
  'client registered',
  'token minted (aud = resource)',
  'MCP connect',
  'echo tool',
  'refused: no token',
  'refused: token without resource',
  'refused: tampered token',
] as const

/** `verify --dpop`: the walkthrough with a DPoP-bound token, then the proofs that the binding holds. */
export const DPOP_VERIFY_STEPS = [
  ...VERIFY_STEPS.slice(0, 4),
  'token minted (DPoP, cnf.jkt = key)',
  'MCP connect (DPoP proof)',
  'echo tool',
  ...VERIFY_STEPS.slice(7),
  'refused: bound token as plain Bearer',
  'refused: proof from another key',
  'refused: replayed proof',
  'refused: proof for another URL',
  'refused: proof for another method',
] as const

/** The steps `runVerify` runs for a context: with a DPoP key, the binding proofs as well. */
export function verifySteps(ctx: Pick<WalkthroughContext, 'dpop'>): readonly string[] {
  return ctx.dpop ? DPOP_VERIFY_STEPS : VERIFY_STEPS
}

/** What verify registers: the resource and client of the walkthrough. */
export interface VerifyTargets {
  slug: string
  /** The walkthrough's slug, not one the profile knows for this audience: another may be found or made (ensureResourceFor). */
  slugIsDefault?: boolean
  displayName: string
  clientName: string
  scope: string
}

export interface VerifyOptions extends VerifyTargets {
  waitMs: number
  /** Steps 1 and 2 end at once when nothing listens (servers verify did not start, no --timeout given). */
  failFastWhenRefused?: boolean
  /** Where the wait of steps 1 and 2 stands: what it polls and why it still waits. */
  onWait?: (state: WaitState) => void
  echoText: string
  onStep?: (report: StepReport) => void
  /** Called when a step starts, for a live display. */
  onStart?: (step: number, name: string) => void
  /** How a failed step's error reads in the report (the CLI's error map). */
  describeError?: (error: unknown) => NonNullable<StepReport['error']>
  /** verify --embedded: the servers are ap-demo's own. Default: what the profile says (Profile.startedStack). */
  serversStartedByApDemo?: boolean
}

/**
 * The `ap-demo doctor` line for the context's MCP server, with what the run pinned (profile,
 * protocol, DPoP): what verify suggests when a deployment that is not ap-demo's own fails.
 */
export function doctorCommandLine(ctx: WalkthroughContext): string {
  const args = ['ap-demo', 'doctor', '--mcp-url', shellArg(ctx.mcpUrl)]
  if (ctx.profile !== ctx.store.activeProfileName()) args.push('--profile', shellArg(ctx.profile))
  if (ctx.mcpProtocol && ctx.mcpProtocol !== 'auto') args.push('--protocol', ctx.mcpProtocol)
  if (ctx.dpop) args.push(...(ctx.dpop.source === 'file' && ctx.dpop.key.file ? ['--dpop-key', shellArg(ctx.dpop.key.file)] : ['--dpop']))
  return args.join(' ')
}

/** The steps whose failure doctor can explain: they talk to the authorization server or the MCP server. */
const SERVER_FACING_STEPS = new Set([0, 1, 4, 5, 6])

/**
 * The resource and client verify works with: the ones the profile already holds (the wizard may
 * have registered another slug), else the tier-02 walkthrough's demo-mcp and demo-agent-ts. So a
 * verify after the wizard checks what the wizard made instead of registering a second resource.
 */
export function verifyTargets(ctx: WalkthroughContext): VerifyTargets {
  const profile = ctx.store.getProfile(ctx.profile)
  // The profile's resource for this audience: its current one, or one it registered for another server.
  const resource = [profile.resource, ...(profile.otherResources ?? [])].find((r) => r?.uri === ctx.resource)
  const resourceScopes = resource?.scopes.map((s) => s.name) ?? []
  const declared = (s: string) => resourceScopes.length === 0 || resourceScopes.includes(s)
  // The echo tool's scope when the resource has it (whatever else the client may request), else
  // the scope the wizard gave both (a resource registered with other scope names).
  const clientScope = profile.client?.scope.split(' ').find(declared)
  return {
    slug: resource?.slug ?? VERIFY_DEFAULTS.slug,
    slugIsDefault: resource === undefined,
    displayName: resource?.displayName ?? VERIFY_DEFAULTS.displayName,
    clientName: profile.client?.name ?? VERIFY_DEFAULTS.clientName,
    scope: declared(VERIFY_DEFAULTS.scope) ? VERIFY_DEFAULTS.scope : (clientScope ?? resourceScopes[0] ?? VERIFY_DEFAULTS.scope),
  }
}

/**
 * The token an attacker would forge from a real one: the payload is re-encoded with a later `exp`
 * (an hour more), the header and signature are kept. It stays well-formed JSON with the same
 * `aud`, so a server that decodes claims without checking the signature accepts it, and only a
 * signature check refuses it. A token that is not a JWT gets one character flipped instead.
 */
export function tamper(token: string): string {
  const [header, payload, signature, ...rest] = token.split('.')
  if (header && payload && signature !== undefined && rest.length === 0) {
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
      if (typeof claims === 'object' && claims !== null && !Array.isArray(claims)) {
        const c = claims as Record<string, unknown>
        const forged = {...c, exp: typeof c.exp === 'number' ? c.exp + 3600 : Math.floor(Date.now() / 1000) + 3600}
        return `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`
      }
    } catch {
      // not JSON: flip a character below
    }
  }
  const i = Math.floor(token.length / 2)
  return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`
}

function basicDescription(error: unknown): NonNullable<StepReport['error']> {
  const e = error as {code?: string; message?: string; hint?: string}
  return {code: typeof e?.code === 'string' ? e.code : 'error', message: e?.message ?? String(error), hint: e?.hint ?? null}
}

/** The step bookkeeping: numbering, timing, the report, and the failure that ends the run. */
export class StepRecorder {
  index = 0
  private started = 0

  constructor(
    readonly report: VerifyReport,
    private readonly options: Pick<VerifyOptions, 'onStart' | 'onStep' | 'describeError'>,
    /** The doctor line to suggest when a server-facing step fails; undefined for ap-demo's own servers. */
    private readonly doctor?: string,
  ) {}

  start(name: string): void {
    this.index++
    this.started = performance.now()
    this.options.onStart?.(this.index, name)
  }

  pass(name: string, detail?: string): void {
    const entry: StepReport = {step: this.index, name, ok: true, ms: Math.round(performance.now() - this.started), detail}
    this.report.steps.push(entry)
    this.options.onStep?.(entry)
  }

  fail(name: string, error: unknown): never {
    // A --dry-run stop is not a failure: the command ends there and says what it held back.
    if (error instanceof DryRunStop) throw error
    if (this.doctor && SERVER_FACING_STEPS.has(this.index - 1)) this.report.doctor = this.doctor
    const described = (this.options.describeError ?? basicDescription)(error)
    const entry: StepReport = {step: this.index, name, ok: false, ms: Math.round(performance.now() - this.started), detail: described.message, error: described}
    this.report.steps.push(entry)
    this.report.failedStep = name
    this.options.onStep?.(entry)
    throw new VerifyFailed(this.report, error)
  }

  async run<T>(name: string, run: () => Promise<{value: T; detail?: string}>): Promise<T> {
    this.start(name)
    try {
      const {value, detail} = await run()
      this.pass(name, detail)
      return value
    } catch (error) {
      return this.fail(name, error)
    }
  }
}

/**
 * The tier-02 walkthrough (contract §6), step by step, plus the audience-binding proofs. Runs
 * the same step functions as `setup resource`, `setup client`, `token mint` and `mcp call`.
 * Stops at the first failing step with VerifyFailed: the report says which and why.
 */
export async function runVerify(ctx: WalkthroughContext, options: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = {passed: false, issuer: ctx.issuer, adminUrl: ctx.adminUrl, mcpUrl: ctx.mcpUrl, resource: ctx.resource, slug: options.slug, steps: []}
  const steps = new StepRecorder(report, options, (options.serversStartedByApDemo ?? serversStartedByApDemo(ctx)) ? undefined : doctorCommandLine(ctx))
  const names = verifySteps(ctx)
  const choice = ctx.mcpProtocol ?? 'auto'
  // The era of the raw probes: what step 6 negotiated; before it, what --protocol pins (a protected
  // server refuses an unauthenticated request before it reads the protocol, whatever the era).
  let era: McpEra = choice === MODERN_REVISION ? 'modern' : 'legacy'
  // With DPoP, a token is presented the way the client presents it: `DPoP <token>` and a fresh proof.
  const present = async (token: string | undefined): Promise<Partial<ProbeOptions>> => {
    const dpop = ctx.dpop
    if (!dpop || token === undefined) return {}
    const {dpopRequestHeaders} = await import('../authplane/dpop.js')
    // Under the scheme the MCP connection settled on (DPoP, or Bearer for servers that read only Bearer).
    const scheme = dpop.schemes.schemeFor(ctx.mcpUrl)
    return {authHeaders: await dpopRequestHeaders(dpop.handle, token, 'POST', ctx.mcpUrl, scheme), closeHeaders: () => dpopRequestHeaders(dpop.handle, token, 'DELETE', ctx.mcpUrl, scheme)}
  }
  const expect401: Expect401 = async (token, what, presented) => {
    const probe = await probeMcp(ctx.mcpUrl, token, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, era, ...(presented ?? (await present(token)))})
    if (probe.status !== 401) {
      throw new CheckFailedError('not_refused', `${what}: expected 401, the MCP server answered ${probe.status}`, {
        hint: 'The MCP server must check the token\'s signature and audience; this one does not.',
        details: {httpStatus: probe.status, body: probe.body},
      })
    }
    return {value: undefined, detail: `401 ${(probe.body as {error_description?: string})?.error_description ?? ''}`.trim()}
  }

  const wait = {waitMs: options.waitMs, requestTimeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, failFastWhenRefused: options.failFastWhenRefused, onWait: options.onWait}
  await steps.run(names[0]!, async () => {
    const d = await waitForDiscovery(ctx.issuer, wait)
    return {value: d, detail: `issuer ${d.metadata.issuer}`}
  })
  await steps.run(names[1]!, async () => {
    const r = await waitForMcpServer(ctx.mcpUrl, {...wait, era, negotiate: choice === 'auto'})
    if (r.resourceMetadata.resource && r.resourceMetadata.resource !== ctx.resource) {
      throw new ConfigError('audience_mismatch', `the MCP server expects the audience "${r.resourceMetadata.resource}" but ap-demo would bind tokens to "${ctx.resource}"`, {
        hint: `Use --resource ${r.resourceMetadata.resource} (AUTHPLANE_RESOURCE): the resource uri, the resource= parameter and the server's expected audience must agree byte for byte.`,
        details: {expected: r.resourceMetadata.resource, configured: ctx.resource},
      })
    }
    return {value: r, detail: `${r.status}, metadata ${r.resourceMetadataUrl}`}
  })
  await steps.run(names[2]!, async () => {
    const profile = ctx.store.getProfile(ctx.profile)
    const saved = [profile.resource, ...(profile.otherResources ?? [])].find((r) => r?.slug === options.slug && r.uri === ctx.resource)
    const scopes = saved ? saved.scopes : [{name: options.scope, description: 'echo tool'}]
    const r = await ensureResourceFor(ctx, {slug: options.slug, slugIsDefault: options.slugIsDefault ?? false, uri: ctx.resource, displayName: options.displayName, scopes})
    return {value: r, detail: `${r.action === 'created' ? 'created' : 'reused'} ${r.resource.slug}${r.current ? '' : ` (for ${r.resource.uri}; the profile's walkthrough stays on ${r.walkthrough.resource?.uri ?? r.walkthrough.mcpUrl ?? 'its own server'})`}`}
  })
  const registered = await steps.run(names[3]!, async () => {
    // Any client that may request the scope will do: the profile's, even with a wider ceiling (R3-11).
    const r = await ensureClient(ctx, {name: options.clientName, covering: [options.scope]})
    const why = r.action === 'created' && r.reason ? `${r.reason}; the new client may request "${r.client.scope}"` : undefined
    if (why) ctx.onNote?.(`verify registered a new client: ${why}`)
    return {value: r, detail: `${r.action} ${r.client.id}${why ? ` (${why})` : ''}`}
  })
  // The client of step 4, never AUTHPLANE_CLIENT_ID/SECRET: verify checks what it registered.
  const credentials: ClientCredentials = {clientId: registered.client.id, clientSecret: registered.client.secret, authMethod: registered.client.authMethod, source: 'profile'}
  const minted = await steps.run(names[4]!, async () => {
    const m = await mintToken(ctx, credentials, {scopes: [options.scope], resources: [ctx.resource], noCache: true})
    if (m.opaque) throw new CheckFailedError('opaque_token', 'the access token is not a JWT', {hint: 'Authplane issues RFC 9068 JWT access tokens; is --issuer an Authplane server?'})
    const aud = m.claims.aud
    if (!Array.isArray(aud) || aud.length !== 1 || aud[0] !== ctx.resource) {
      throw new CheckFailedError('wrong_audience', `the token's aud is ${JSON.stringify(aud)}, expected ["${ctx.resource}"]`, {hint: 'The authorization server did not bind the token to the resource (RFC 8707).'})
    }
    const detail = `scope "${m.claims.scope ?? ''}", expires in ${m.token.expiresIn ?? '?'} s`
    if (!ctx.dpop) return {value: m, detail}
    // RFC 9449 §6.1: the token names the key it is bound to by its thumbprint.
    const jkt = (m.claims.cnf as {jkt?: unknown} | undefined)?.jkt
    if (m.token.tokenType !== 'DPoP' || jkt !== ctx.dpop.key.thumbprint) {
      throw new CheckFailedError('not_bound', `the token is not bound to the key: token_type ${m.token.tokenType}, cnf.jkt ${JSON.stringify(jkt ?? null)}, key thumbprint ${ctx.dpop.key.thumbprint}`, {hint: 'The authorization server ignored the DPoP proof; it must issue DPoP-bound tokens (RFC 9449 §5).'})
    }
    return {value: m, detail: `token_type DPoP, cnf.jkt = key (${ctx.dpop.key.alg} ${jkt}), ${detail}`}
  })

  // Steps 6 and 7 are one `mcp call echo`, as the agent does it: the connection (server/discover in
  // the 2026-07-28 era, initialize in the 2025 one, as negotiated), then tools/call.
  steps.start(names[5]!)
  let initialized = false
  try {
    const outcome = await runTool(ctx, minted.token.accessToken, 'echo', {pairs: [['text', options.echoText]]}, {
      onSession: (session) => {
        initialized = true
        era = session.era ?? 'legacy'
        report.protocol = {choice, era, version: session.protocolVersion ?? null}
        const presented = ctx.dpop ? `, token under ${ctx.dpop.schemes.schemeFor(ctx.mcpUrl)} + proof` : ''
        steps.pass(names[5]!, `${describeConnection({era: session.era, protocolVersion: session.protocolVersion})}, ${`${session.serverInfo?.name ?? '?'} ${session.serverInfo?.version ?? ''}`.trim()}${presented}`)
        steps.start(names[6]!)
      },
    })
    if (outcome.result.isError || !outcome.text.includes(options.echoText)) {
      throw new CheckFailedError('echo_mismatch', `echo returned ${JSON.stringify(outcome.text)}${outcome.result.isError ? ' (isError)' : ''}, expected the text ${JSON.stringify(options.echoText)}`, {details: {result: outcome.result}})
    }
    report.echoed = outcome.text
    steps.pass(names[6]!, JSON.stringify(outcome.text))
  } catch (error) {
    steps.fail(initialized ? names[6]! : names[5]!, error)
  }

  await steps.run(names[7]!, () => expect401(undefined, 'a request without a token'))
  await steps.run(names[8]!, async () => {
    const m = await mintToken(ctx, credentials, {scopes: [options.scope], resources: [], noCache: true})
    return expect401(m.token.accessToken, `a token minted without resource (aud ${JSON.stringify(m.claims.aud)})`)
  })
  await steps.run(names[9]!, () => expect401(tamper(minted.token.accessToken), 'a tampered token'))
  if (ctx.dpop) await verifyBinding(ctx, ctx.dpop, minted.token.accessToken, names, steps, expect401)
  report.passed = true
  return report
}

type Expect401 = (token: string | undefined, what: string, presented?: Partial<ProbeOptions>) => Promise<{value: undefined; detail: string}>

/**
 * RFC 9449 §7: what makes a DPoP-bound token useless to anyone without the key. Each request below
 * carries the valid bound token; only the proof (or its absence) is wrong, so a 401 can only come
 * from the binding.
 */
async function verifyBinding(ctx: WalkthroughContext, dpop: ClientDpop, token: string, names: readonly string[], steps: StepRecorder, expect401: Expect401): Promise<void> {
  const {adoptDpopNonce, dpopHandle, dpopRequestHeaders, generateDpopKey} = await import('../authplane/dpop.js')
  const url = ctx.mcpUrl
  // Every proof below goes under the scheme the connection of step 6 settled on.
  const scheme = dpop.schemes.schemeFor(url)
  const close = () => dpopRequestHeaders(dpop.handle, token, 'DELETE', url, scheme)
  const withProof = (headers: {authorization: string; dpop: string}): Partial<ProbeOptions> => ({authHeaders: headers, closeHeaders: close})
  const era = steps.report.protocol?.era
  await steps.run(names[10]!, () => expect401(token, 'the bound token sent as a plain Bearer token', {authHeaders: {Authorization: `Bearer ${token}`}}))
  await steps.run(names[11]!, async () => {
    const stranger = dpopHandle(await generateDpopKey())
    // A server that demands nonces would refuse the stranger's first proof for lacking one; the
    // key must be what is refused, so the stranger first learns the nonce, as any client would.
    const first = await probeMcp(url, token, {timeoutMs: ctx.requestTimeoutMs, era, ...withProof(await dpopRequestHeaders(stranger, token, 'POST', url, scheme))})
    if ((first.body as {error?: unknown} | undefined)?.error === 'use_dpop_nonce' && first.dpopNonce) await adoptDpopNonce(stranger, url, first.dpopNonce)
    return expect401(token, 'the bound token with a proof from another key', withProof(await dpopRequestHeaders(stranger, token, 'POST', url, scheme)))
  })
  await steps.run(names[12]!, async () => {
    const once = await dpopRequestHeaders(dpop.handle, token, 'POST', url, scheme)
    const first = await probeMcp(url, token, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, era, ...withProof(once)})
    if (first.status !== 200) {
      throw new CheckFailedError('proof_refused', `the first use of the proof got ${first.status}, expected 200`, {details: {httpStatus: first.status, body: first.body}})
    }
    return expect401(token, 'the same proof sent a second time', withProof(once))
  })
  const elsewhere = new URL(url)
  elsewhere.pathname = `${elsewhere.pathname.replace(/\/$/, '')}/elsewhere`
  await steps.run(names[13]!, async () => expect401(token, `a proof made for ${elsewhere.href}`, withProof(await dpopRequestHeaders(dpop.handle, token, 'POST', elsewhere.href, scheme))))
  await steps.run(names[14]!, async () => expect401(token, 'a proof made for GET sent with POST', withProof(await dpopRequestHeaders(dpop.handle, token, 'GET', url, scheme))))
}
