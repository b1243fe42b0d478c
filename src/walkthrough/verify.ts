import {ApDemoError, ExitCode} from '../errors.js'
import {toApDemoError} from '../error-map.js'
import {callTool, resultText, withMcpSession} from '../mcp/client.js'
import {ensureClient} from './client.js'
import type {WalkthroughContext} from './context.js'
import {waitForDiscovery} from './discovery.js'
import {probeInitialize, waitForMcpServer} from './mcp-probe.js'
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

/**
 * The tier-02 walkthrough (contract §6), step by step, plus the audience-binding proofs. Runs
 * the same step functions as `setup resource`, `setup client`, `token mint` and `mcp call`.
 * Stops at the first failing step; the report says which and why.
 */
export async function runVerify(ctx: WalkthroughContext, options: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = {passed: false, issuer: ctx.issuer, adminUrl: ctx.adminUrl, mcpUrl: ctx.mcpUrl, resource: ctx.resource, steps: []}
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
  const expect401 = async (token: string | undefined, what: string) => {
    const probe = await probeInitialize(ctx.mcpUrl, token, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
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
  await step(VERIFY_STEPS[0], async () => {
    const d = await waitForDiscovery(ctx.issuer, wait)
    return {value: d, detail: `issuer ${d.metadata.issuer}`}
  })
  await step(VERIFY_STEPS[1], async () => {
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
  await step(VERIFY_STEPS[2], async () => {
    const r = await ensureResource(ctx, {slug: options.slug, uri: ctx.resource, displayName: options.displayName, scopes: [{name: options.scope, description: 'echo tool'}]})
    return {value: r, detail: `${r.action === 'created' ? 'created' : 'already there (409), reused'} ${r.resource.slug} -> ${r.resource.uri}`}
  })
  const registered = await step(VERIFY_STEPS[3], async () => {
    const r = await ensureClient(ctx, {name: options.clientName, scope: options.scope})
    return {value: r, detail: `${r.action} ${r.client.id}`}
  })
  // The client of step 4, never AUTHPLANE_CLIENT_ID/SECRET: verify checks what it registered.
  const credentials: ClientCredentials = {clientId: registered.client.id, clientSecret: registered.client.secret, authMethod: registered.client.authMethod, source: 'profile'}
  const minted = await step(VERIFY_STEPS[4], async () => {
    const m = await mintToken(ctx, credentials, {scopes: [options.scope], resources: [ctx.resource], noCache: true})
    const aud = m.claims.aud
    if (!Array.isArray(aud) || aud.length !== 1 || aud[0] !== ctx.resource) {
      throw new ApDemoError('wrong_audience', `the token's aud is ${JSON.stringify(aud)}, expected ["${ctx.resource}"]`, {exitCode: ExitCode.CHECK_FAILED, hint: 'The authorization server did not bind the token to the resource (RFC 8707).'})
    }
    return {value: m, detail: `aud ${JSON.stringify(aud)}, scope "${m.claims.scope ?? ''}", expires in ${m.token.expiresIn ?? '?'} s`}
  })

  // Steps 6 and 7 share one MCP session, as the agent does.
  index++
  options.onStart?.(index, VERIFY_STEPS[5])
  const initStarted = performance.now()
  let initialized = false
  try {
    await withMcpSession({url: ctx.mcpUrl, accessToken: minted.token.accessToken, timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer}, async (session) => {
      initialized = true
      const entry: StepReport = {step: index, name: VERIFY_STEPS[5], ok: true, ms: Math.round(performance.now() - initStarted), detail: `${session.serverInfo?.name ?? '?'} ${session.serverInfo?.version ?? ''}, protocol ${session.protocolVersion ?? '?'}, session ${session.sessionId ?? 'none'}`}
      report.steps.push(entry)
      options.onStep?.(entry)
      report.echoed = await step(VERIFY_STEPS[6], async () => {
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
      await step(VERIFY_STEPS[5], async () => {
        throw explained
      })
    }
    throw error
  }

  await step(VERIFY_STEPS[7], () => expect401(undefined, 'a request without a token'))
  await step(VERIFY_STEPS[8], async () => {
    const m = await mintToken(ctx, credentials, {scopes: [options.scope], resources: [], noCache: true})
    return expect401(m.token.accessToken, `a token minted without resource (aud ${JSON.stringify(m.claims.aud)})`)
  })
  await step(VERIFY_STEPS[9], () => expect401(tamper(minted.token.accessToken), 'a tampered token'))
  report.passed = true
  return report
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
