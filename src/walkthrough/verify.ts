import {ApDemoError, ExitCode} from '../errors.js'
import {toApDemoError} from '../error-map.js'
import {callTool, resultText, withMcpSession} from '../mcp/client.js'
import {ensureClient} from './client.js'
import type {WalkthroughContext} from './context.js'
import {waitForDiscovery} from './discovery.js'
import type {ClientDpop} from './dpop.js'
import {probeInitialize, waitForMcpServer, type ProbeOptions} from './mcp-probe.js'
import {ensureResource} from './resource.js'
import {mintToken, type ClientCredentials} from './token.js'
import {explainMcpError} from './tool.js'

export const DEFAULT_ECHO_TEXT = 'hello from tier 02'

export const VERIFY_STEPS = [
  'discovery ready',
  'MCP server ready (401 without a token)',
  'resource registered',
  'client registered',
  'token minted (aud = resource)',
  'MCP initialize',
  'echo tool',
  'refused: no token',
  'refused: token without resource',
  'refused: tampered token',
] as const

/** `verify --dpop`: the walkthrough with a DPoP-bound token, then the proofs that the binding holds. */
export const DPOP_VERIFY_STEPS = [
  ...VERIFY_STEPS.slice(0, 4),
  'DPoP token minted (aud = resource, cnf.jkt = key)',
  'MCP initialize (DPoP proof)',
  'echo tool',
  ...VERIFY_STEPS.slice(7),
  'refused: bound token as plain Bearer',
  'refused: proof from another key',
  'refused: replayed proof',
  'refused: proof for another URL',
  'refused: proof for another method',
] as const

/** The steps `runVerify` will run with these options. */
export function verifySteps(options: {dpop?: boolean}): readonly string[] {
  return options.dpop ? DPOP_VERIFY_STEPS : VERIFY_STEPS
}

export interface StepReport {
  step: number
  name: string
  ok: boolean
  ms: number
  detail?: string
  error?: {code: string; message: string; hint: string | null; exitCode: number; [key: string]: unknown}
}

export interface VerifyOptions {
  waitMs: number
  echoText: string
  slug: string
  displayName: string
  clientName: string
  scope: string
  onStep?: (report: StepReport) => void
  /** Called when a step starts, for a live display. */
  onStart?: (step: number, name: string) => void
}

export interface VerifyReport {
  passed: boolean
  issuer: string
  adminUrl: string
  mcpUrl: string
  resource: string
  steps: StepReport[]
  echoed?: string
  failedStep?: string
}

/** Flips one character of the JWT payload, keeping the signature: the server must refuse it. */
export function tamper(token: string): string {
  const [header, payload, signature] = token.split('.')
  if (!header || !payload || signature === undefined) return `${token}x`
  const i = Math.floor(payload.length / 2)
  const flipped = payload[i] === 'A' ? 'B' : 'A'
  return `${header}.${payload.slice(0, i)}${flipped}${payload.slice(i + 1)}.${signature}`
}

/**
 * The tier-02 walkthrough (contract §6), step by step, plus the audience-binding proofs. Runs
 * the same step functions as `setup resource`, `setup client`, `token mint` and `mcp call`.
 * Stops at the first failing step; the report says which and why.
 */
export async function runVerify(ctx: WalkthroughContext, options: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = {passed: false, issuer: ctx.issuer, adminUrl: ctx.adminUrl, mcpUrl: ctx.mcpUrl, resource: ctx.resource, steps: []}
  const names = verifySteps({dpop: ctx.dpop !== undefined})
  let index = 0
  const step = async <T>(name: string, run: () => Promise<{value: T; detail?: string}>): Promise<T> => {
    index++
    options.onStart?.(index, name)
    const started = performance.now()
    try {
      const {value, detail} = await run()
      const entry: StepReport = {step: index, name, ok: true, ms: Math.round(performance.now() - started), detail}
      report.steps.push(entry)
      options.onStep?.(entry)
      return value
    } catch (error) {
      const e = toApDemoError(error)
      const entry: StepReport = {
        step: index,
        name,
        ok: false,
        ms: Math.round(performance.now() - started),
        detail: e.message,
        error: {code: e.code, message: e.message, hint: e.hint ?? null, exitCode: e.exitCode, ...e.details},
      }
      report.steps.push(entry)
      report.failedStep = name
      options.onStep?.(entry)
      throw new VerifyFailed(report, e)
    }
  }
  // With DPoP, a token is presented the way the client presents it: `DPoP <token>` and a fresh proof.
  const present = async (token: string | undefined): Promise<Partial<ProbeOptions>> => {
    const dpop = ctx.dpop
    if (!dpop || token === undefined) return {}
    const {dpopRequestHeaders} = await import('../authplane/dpop.js')
    return {authHeaders: await dpopRequestHeaders(dpop.handle, token, 'POST', ctx.mcpUrl), closeHeaders: () => dpopRequestHeaders(dpop.handle, token, 'DELETE', ctx.mcpUrl)}
  }
  const expect401 = async (token: string | undefined, what: string, presented?: Partial<ProbeOptions>) => {
    const probe = await probeInitialize(ctx.mcpUrl, token, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, ...(presented ?? (await present(token)))})
    if (probe.status !== 401) {
      throw new ApDemoError('not_refused', `${what}: expected 401, the MCP server answered ${probe.status}`, {
        exitCode: ExitCode.CHECK_FAILED,
        hint: 'The MCP server must check the token\'s signature and audience; this one does not.',
        details: {httpStatus: probe.status, body: probe.body},
      })
    }
    return {value: undefined, detail: `401 ${(probe.body as {error_description?: string})?.error_description ?? ''}`.trim()}
  }

  const wait = {waitMs: options.waitMs, requestTimeoutMs: ctx.requestTimeoutMs, observer: ctx.observer}
  await step(names[0]!, async () => {
    const d = await waitForDiscovery(ctx.issuer, wait)
    return {value: d, detail: `issuer ${d.metadata.issuer}`}
  })
  await step(names[1]!, async () => {
    const r = await waitForMcpServer(ctx.mcpUrl, wait)
    if (r.resourceMetadata.resource && r.resourceMetadata.resource !== ctx.resource) {
      throw new ApDemoError('audience_mismatch', `the MCP server expects the audience "${r.resourceMetadata.resource}" but ap-demo would bind tokens to "${ctx.resource}"`, {
        exitCode: ExitCode.CONFIG,
        hint: `Use --resource ${r.resourceMetadata.resource} (AUTHPLANE_RESOURCE): the resource uri, the resource= parameter and the server's expected audience must agree byte for byte.`,
        details: {expected: r.resourceMetadata.resource, configured: ctx.resource},
      })
    }
    return {value: r, detail: `${r.status}, metadata ${r.resourceMetadataUrl}`}
  })
  await step(names[2]!, async () => {
    const r = await ensureResource(ctx, {slug: options.slug, uri: ctx.resource, displayName: options.displayName, scopes: [{name: options.scope, description: 'echo tool'}]})
    return {value: r, detail: `${r.action === 'created' ? 'created' : 'already there (409), reused'} ${r.resource.slug} -> ${r.resource.uri}`}
  })
  const registered = await step(names[3]!, async () => {
    const r = await ensureClient(ctx, {name: options.clientName, scope: options.scope})
    return {value: r, detail: `${r.action} ${r.client.id}`}
  })
  // The client of step 4, never AUTHPLANE_CLIENT_ID/SECRET: verify checks what it registered.
  const credentials: ClientCredentials = {clientId: registered.client.id, clientSecret: registered.client.secret, authMethod: registered.client.authMethod, source: 'profile'}
  const minted = await step(names[4]!, async () => {
    const m = await mintToken(ctx, credentials, {scopes: [options.scope], resources: [ctx.resource], noCache: true})
    const aud = m.claims.aud
    if (!Array.isArray(aud) || aud.length !== 1 || aud[0] !== ctx.resource) {
      throw new ApDemoError('wrong_audience', `the token's aud is ${JSON.stringify(aud)}, expected ["${ctx.resource}"]`, {exitCode: ExitCode.CHECK_FAILED, hint: 'The authorization server did not bind the token to the resource (RFC 8707).'})
    }
    const detail = `aud ${JSON.stringify(aud)}, scope "${m.claims.scope ?? ''}", expires in ${m.token.expiresIn ?? '?'} s`
    if (!ctx.dpop) return {value: m, detail}
    // RFC 9449 §6.1: the token names the key it is bound to by its thumbprint.
    const jkt = (m.claims.cnf as {jkt?: unknown} | undefined)?.jkt
    if (m.token.tokenType !== 'DPoP' || jkt !== ctx.dpop.key.thumbprint) {
      throw new ApDemoError('not_bound', `the token is not bound to the key: token_type ${m.token.tokenType}, cnf.jkt ${JSON.stringify(jkt ?? null)}, key thumbprint ${ctx.dpop.key.thumbprint}`, {exitCode: ExitCode.CHECK_FAILED, hint: 'The authorization server ignored the DPoP proof; it must issue DPoP-bound tokens (RFC 9449 §5).'})
    }
    return {value: m, detail: `token_type DPoP, cnf.jkt ${jkt} = key (${ctx.dpop.key.alg}), ${detail}`}
  })

  // Steps 6 and 7 share one MCP session, as the agent does.
  index++
  options.onStart?.(index, names[5]!)
  const initStarted = performance.now()
  let initialized = false
  try {
    await withMcpSession({url: ctx.mcpUrl, accessToken: minted.token.accessToken, timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, dpop: ctx.dpop?.handle}, async (session) => {
      initialized = true
      const entry: StepReport = {step: index, name: names[5]!, ok: true, ms: Math.round(performance.now() - initStarted), detail: `${session.serverInfo?.name ?? '?'} ${session.serverInfo?.version ?? ''}, protocol ${session.protocolVersion ?? '?'}, session ${session.sessionId ?? 'none'}`}
      report.steps.push(entry)
      options.onStep?.(entry)
      report.echoed = await step(names[6]!, async () => {
        const result = await callTool(session, 'echo', {text: options.echoText}, ctx.requestTimeoutMs)
        const text = resultText(result)
        if (result.isError || !text.includes(options.echoText)) {
          throw new ApDemoError('echo_mismatch', `echo returned ${JSON.stringify(text)}${result.isError ? ' (isError)' : ''}, expected the text ${JSON.stringify(options.echoText)}`, {exitCode: ExitCode.CHECK_FAILED, details: {result}})
        }
        return {value: text, detail: JSON.stringify(text)}
      })
    })
  } catch (error) {
    if (error instanceof VerifyFailed) throw error
    if (!initialized) {
      index-- // re-run the bookkeeping through step() so the failure is reported like any other
      const explained = await explainMcpError(ctx, minted.token.accessToken, error)
      await step(names[5]!, async () => {
        throw explained
      })
    }
    throw error
  }

  await step(names[7]!, () => expect401(undefined, 'a request without a token'))
  await step(names[8]!, async () => {
    const m = await mintToken(ctx, credentials, {scopes: [options.scope], resources: [], noCache: true})
    return expect401(m.token.accessToken, `a token minted without resource (aud ${JSON.stringify(m.claims.aud)})`)
  })
  await step(names[9]!, () => expect401(tamper(minted.token.accessToken), 'a tampered token'))
  if (ctx.dpop) await verifyBinding(ctx, ctx.dpop, minted.token.accessToken, names, step, expect401)
  report.passed = true
  return report
}

type StepRunner = <T>(name: string, run: () => Promise<{value: T; detail?: string}>) => Promise<T>
type Expect401 = (token: string | undefined, what: string, presented?: Partial<ProbeOptions>) => Promise<{value: undefined; detail: string}>

/**
 * RFC 9449 §7: what makes a DPoP-bound token useless to anyone without the key. Each request below
 * carries the valid bound token; only the proof (or its absence) is wrong, so a 401 can only come
 * from the binding.
 */
async function verifyBinding(ctx: WalkthroughContext, dpop: ClientDpop, token: string, names: readonly string[], step: StepRunner, expect401: Expect401): Promise<void> {
  const {adoptDpopNonce, dpopHandle, dpopRequestHeaders, generateDpopKey} = await import('../authplane/dpop.js')
  const url = ctx.mcpUrl
  const close = () => dpopRequestHeaders(dpop.handle, token, 'DELETE', url)
  const withProof = (headers: {authorization: string; dpop: string}): Partial<ProbeOptions> => ({authHeaders: headers, closeHeaders: close})
  await step(names[10]!, () => expect401(token, 'the bound token sent as a plain Bearer token', {authHeaders: {Authorization: `Bearer ${token}`}}))
  await step(names[11]!, async () => {
    const stranger = dpopHandle(await generateDpopKey())
    // A server that demands nonces would refuse the stranger's first proof for lacking one; the
    // key must be what is refused, so the stranger first learns the nonce, as any client would.
    const first = await probeInitialize(url, token, {timeoutMs: ctx.requestTimeoutMs, ...withProof(await dpopRequestHeaders(stranger, token, 'POST', url))})
    if ((first.body as {error?: unknown} | undefined)?.error === 'use_dpop_nonce' && first.dpopNonce) await adoptDpopNonce(stranger, url, first.dpopNonce)
    return expect401(token, 'the bound token with a proof from another key', withProof(await dpopRequestHeaders(stranger, token, 'POST', url)))
  })
  await step(names[12]!, async () => {
    const once = await dpopRequestHeaders(dpop.handle, token, 'POST', url)
    const first = await probeInitialize(url, token, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, ...withProof(once)})
    if (first.status !== 200) {
      throw new ApDemoError('proof_refused', `the first use of the proof got ${first.status}, expected 200`, {exitCode: ExitCode.CHECK_FAILED, details: {httpStatus: first.status, body: first.body}})
    }
    return expect401(token, 'the same proof sent a second time', withProof(once))
  })
  const elsewhere = new URL(url)
  elsewhere.pathname = `${elsewhere.pathname.replace(/\/$/, '')}/elsewhere`
  await step(names[13]!, async () => expect401(token, `a proof made for ${elsewhere.href}`, withProof(await dpopRequestHeaders(dpop.handle, token, 'POST', elsewhere.href))))
  await step(names[14]!, async () => expect401(token, 'a proof made for GET sent with POST', withProof(await dpopRequestHeaders(dpop.handle, token, 'GET', url))))
}

export class VerifyFailed extends Error {
  constructor(
    readonly report: VerifyReport,
    readonly failure: ApDemoError,
  ) {
    super(failure.message)
    this.name = 'VerifyFailed'
  }
}

export {VERIFY_DEFAULTS} from './defaults.js'
