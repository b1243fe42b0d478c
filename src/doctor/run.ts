// `ap-demo doctor`: from an MCP URL to a working call, the way an agent gets there (MCP
// authorization: 401, RFC 9728 resource metadata, RFC 8414 authorization server metadata, a
// client_credentials token with RFC 8707 resource, the call), one step at a time. It stops at the
// first step that breaks and names it with one finding id (./findings.ts, docs/doctor.md). It only
// reads and mints: it never registers a client nor changes anything on a server.
import {discoveryUrl} from '../authplane/index.js'
import {AuthplaneConfigError, AuthplaneError, AuthplaneIssuerMismatchError} from '../authplane/errors.js'
import {DpopNonceError, DpopTokenTypeError} from '../authplane/dpop-errors.js'
import {findIssuer, sameIssuer} from '../authplane/issuer.js'
import {DryRunStop, HttpRedirectError, HttpUnreachableError, readText, send} from '../http/request.js'
import {McpAuthRejectedError, McpDiscoveryError, McpProtocolError, McpProtocolVersionError, McpUnreachableError, type McpRejection} from '../mcp/errors.js'
import {MODERN_REVISION} from '../mcp/protocol.js'
import {findResourceMetadata, wellKnownCandidates, type FoundResourceMetadata} from '../mcp/resource-metadata.js'
import type {WalkthroughContext} from '../walkthrough/context.js'
import {TokenRequestRefused} from '../walkthrough/errors.js'
import {mintToken, noClientError, scopesOf, type ClientCredentials, type MintResult} from '../walkthrough/token.js'
import {probeMcp} from '../walkthrough/mcp-probe.js'
import type {CallOutcome, StepHooks} from './call.js'
import {DOCTOR_STEPS, type DoctorReport, type DoctorStep, type Finding, type FindingId} from './findings.js'
import {claimsLine, explainRefusal, howTheyDiffer, list} from './refusal.js'
import {Witness} from './witness.js'

export interface DoctorOptions {
  /** --client-id / --client-secret: used with whatever authorization server the metadata names. */
  credentials?: ClientCredentials
  /** The configured client (environment, ./.env, profile): only for the configured issuer (ctx.issuer). */
  configuredCredentials?: ClientCredentials
  /** --issuer: the authorization server the client belongs to; the metadata must name it. */
  expectedIssuer?: string
  /** --scope; otherwise the challenge's scope, else the metadata's scopes_supported. */
  scopes?: string[]
  /** The CLI's words for an error (its hint), so that a fix reads like the rest of ap-demo. */
  describeError: (error: unknown) => {code: string; message: string; hint: string | null}
  onStart?: (step: number, name: string) => void
  onStep?: (step: DoctorStep) => void
}

/** Ends the walk: the finding of the step that broke (thrown inside, caught by runDoctor). */
class Stop extends Error {
  constructor(readonly finding: Finding) {
    super(finding.summary)
  }
}

/** A finding that ends the walk at this step. */
function broken(id: FindingId, summary: string, evidence: string[], fix: string, extra: Partial<Finding> = {}): Stop {
  return new Stop({id, severity: 'error', summary, evidence, fix, ...extra})
}

class Walk implements StepHooks {
  readonly steps: DoctorStep[] = []
  readonly noticed: Finding[] = []
  /** The step under way: the one a failure belongs to. */
  current: string = DOCTOR_STEPS[0]
  private started = 0

  constructor(private readonly options: DoctorOptions) {}

  start(name: string): void {
    this.current = name
    this.started = performance.now()
    this.options.onStart?.(DOCTOR_STEPS.indexOf(name as (typeof DOCTOR_STEPS)[number]) + 1, name)
  }

  private record(name: string, ok: boolean, detail: string, extra: {skipped?: boolean; ms?: number} = {}): void {
    const index = DOCTOR_STEPS.indexOf(name as (typeof DOCTOR_STEPS)[number]) + 1
    const step: DoctorStep = {step: index, name, ok, detail, ms: extra.ms ?? Math.round(performance.now() - this.started), ...(extra.skipped ? {skipped: true} : {})}
    this.steps.push(step)
    this.options.onStep?.(step)
  }

  pass(name: string, detail: string, ms?: number): void {
    this.record(name, true, detail, {ms})
  }

  skip(name: string, detail: string): void {
    this.start(name)
    this.record(name, true, detail, {skipped: true, ms: 0})
  }

  fail(finding: Finding): void {
    this.record(this.current, false, finding.summary)
  }

  notice(finding: Omit<Finding, 'fix'> & {fix?: string | null}): void {
    this.noticed.push({fix: null, ...finding})
  }
}

/** Keeps the steps of a call made without a token until it is known whether the server wanted one. */
class Held implements StepHooks {
  readonly passed: Array<{name: string; detail: string; ms: number; skipped?: boolean}> = []
  private started = performance.now()

  start(): void {
    this.started = performance.now()
  }

  pass(name: string, detail: string): void {
    this.passed.push({name, detail, ms: Math.round(performance.now() - this.started)})
  }

  skip(name: string, detail: string): void {
    this.passed.push({name, detail, ms: 0, skipped: true})
  }

  replay(walk: Walk): void {
    for (const p of this.passed) {
      if (p.skipped) {
        walk.skip(p.name, p.detail)
      } else {
        walk.start(p.name)
        walk.pass(p.name, p.detail, p.ms)
      }
    }
  }
}

/**
 * Step 1's request: the connection's first request without a token (`initialize`, or
 * `server/discover` when --protocol pins 2026-07-28). A 401 is returned; an answer that is no
 * MCP server's ends the walk; anything else (200, or a 400 for another protocol revision) is left
 * to the SDK's own connection.
 */
async function challenge(ctx: WalkthroughContext, options: DoctorOptions): Promise<McpRejection | undefined> {
  let probe
  try {
    probe = await probeMcp(ctx.mcpUrl, undefined, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, era: ctx.mcpProtocol === MODERN_REVISION ? 'modern' : 'legacy'})
  } catch (error) {
    throw error instanceof DryRunStop ? error : mcpFailure(error, ctx, options.describeError, false)
  }
  const rejection: McpRejection = {status: probe.status, wwwAuthenticate: probe.wwwAuthenticate, body: probe.body}
  if (probe.status === 401) return rejection
  if (probe.status === 403) throw mcpFailure(new McpAuthRejectedError(ctx.mcpUrl, rejection), ctx, options.describeError, false)
  if (probe.status === 404 || probe.status === 405 || probe.status >= 500) {
    throw mcpFailure(new McpProtocolError(ctx.mcpUrl, probe.status, typeof probe.body === 'string' ? probe.body : JSON.stringify(probe.body ?? '')), ctx, options.describeError, false)
  }
  return undefined
}

/** The finding for an MCP connection that failed for a reason other than the token. */
function mcpFailure(error: unknown, ctx: WalkthroughContext, describe: DoctorOptions['describeError'], withToken: boolean): Stop {
  const described = describe(error)
  if (error instanceof McpProtocolVersionError) {
    return broken('protocol_version_unsupported', `the MCP server and ap-demo share no protocol revision: ${error.message}`, [`asked for: ${error.choice}${error.requested ? ` (sent ${error.requested})` : ''}`, `the server supports: ${error.supported ? error.supported.join(', ') : 'not said'}`], described.hint ?? 'Use --protocol auto.')
  }
  if (error instanceof DpopNonceError) {
    return broken('dpop_required', `the MCP server keeps demanding a DPoP nonce: ${error.message}`, [`DPoP-Nonce received: ${error.nonceReceived ? 'yes' : 'no'}`], described.hint ?? 'Check the server.')
  }
  const when = withToken ? 'with the token' : 'without a token'
  if (error instanceof McpUnreachableError || error instanceof HttpUnreachableError) {
    return broken('mcp_unreachable', `the MCP URL does not answer (${error.message})`, [`POST ${ctx.mcpUrl} ${when}: no answer`], 'Check --mcp-url (scheme, host, port and path) and that the server runs; for tier 01: ap-demo stack up, or ap-demo stack mcp.')
  }
  if (error instanceof HttpRedirectError) {
    return broken('mcp_unreachable', `the MCP URL answers with a redirect (HTTP ${error.status}), which an agent must not follow with its token`, [error.message], `Point --mcp-url at where the server really answers${error.location ? ` (${error.location}?)` : ''}.`)
  }
  if (error instanceof McpAuthRejectedError) {
    // A 403 before any token: something in front of the server refuses this client.
    return broken('mcp_unreachable', `the MCP server answers ${error.rejection.status} to a request without a token: something refuses this client before any token matters`, [`${error.rejection.status} ${when}: ${error.rejection.wwwAuthenticate ? `WWW-Authenticate: ${error.rejection.wwwAuthenticate}` : 'no WWW-Authenticate'}`], 'A proxy, a WAF or the server\'s DNS-rebinding guard refuses the request: check that the host name in --mcp-url is one the server accepts (tier 01: --allowed-host) and that nothing in between blocks it.')
  }
  if (error instanceof McpProtocolError) {
    const status = error.status
    const what = status === 404 || status === 405 ? `answers ${status}: nothing speaks MCP at this URL` : status !== undefined && status >= 500 ? `fails with HTTP ${status}` : `does not answer as an MCP server: ${error.message.split('\n')[0]}`
    const fix = status !== undefined && status >= 500 ? 'Check the MCP server\'s logs (tier 01 answers 503 while it cannot read its issuer\'s metadata or JWKS).' : 'Check --mcp-url: it must be the MCP endpoint itself (tier 01: http://localhost:8080/mcp).'
    return broken('mcp_unreachable', `the MCP URL ${what}`, [`POST ${ctx.mcpUrl} ${when}: ${status ?? 'no HTTP status'}`], fix)
  }
  throw error
}

/** Step 2: the RFC 9728 metadata, with what each place answered when it is missing. */
async function resourceMetadata(ctx: WalkthroughContext, rejection: McpRejection, witness: Witness, walk: Walk): Promise<FoundResourceMetadata> {
  const challenge = rejection.wwwAuthenticate
  const asked = `401 challenge: ${challenge ? `WWW-Authenticate: ${challenge}` : 'no WWW-Authenticate header'}`
  let found: FoundResourceMetadata
  try {
    found = await findResourceMetadata(ctx.mcpUrl, rejection, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
  } catch (error) {
    if (error instanceof DryRunStop) throw error
    const tried = witness.exchanges.filter((e) => e.method === 'GET' && e.url.includes('/.well-known/oauth-protected-resource')).map((e) => `GET ${e.url}: ${e.status ?? e.failure ?? 'no answer'}`)
    if (error instanceof McpDiscoveryError && error.problem === 'resource_mismatch') {
      throw broken('prm_resource_mismatch', `the resource metadata names another resource than this MCP URL: ${error.message.replace(/^the resource metadata at \S+ /, '')}`, [asked, ...tried], `The metadata's "resource" must designate ${ctx.mcpUrl} (same origin; the same path or a parent of it, RFC 9728 §3.3). Fix the server's metadata, or check --mcp-url: tokens for another resource must not be sent here.`)
    }
    if (error instanceof McpDiscoveryError || error instanceof HttpRedirectError) {
      const named = /resource_metadata="?([^",\s]+)/.exec(challenge ?? '')?.[1]
      const elsewhere = named ? await usableWellKnown(ctx) : undefined
      const fix = elsewhere
        ? `The challenge names ${named}, which does not serve it, but ${elsewhere} does: make the challenge's resource_metadata point there.`
        : 'Serve RFC 9728 protected resource metadata ({"resource": "<the MCP URL>", "authorization_servers": ["<issuer>"]}) at the URL the 401 names in resource_metadata, or at /.well-known/oauth-protected-resource plus the MCP path (MCP authorization spec).'
      const why = error instanceof McpDiscoveryError && error.problem === 'resource_metadata_missing' ? error.message : `the MCP server asks for a token but offers no usable resource metadata: ${error.message}`
      throw broken('no_resource_metadata', why, [asked, ...tried, ...(elsewhere ? [`GET ${elsewhere}: usable metadata`] : [])], fix)
    }
    throw error
  }
  const m = found.metadata
  for (const miss of found.skipped.filter((s) => s.status !== 404)) {
    walk.notice({id: 'no_resource_metadata', severity: 'warning', summary: `the path-based well-known URL answers ${miss.status} instead of the metadata or 404 (a CDN or gateway?); found at the root instead`, evidence: [`GET ${miss.url}: ${miss.status}`, `GET ${found.url}: 200`], fix: 'Clients that stop at the first well-known URL fail here: let the path-based URL through to the server, or have it answer 404.'})
  }
  if (found.via === 'well-known') {
    walk.notice({id: 'no_resource_metadata', severity: 'warning', summary: 'the 401 challenge names no resource_metadata; the metadata was found only at a well-known URL', evidence: [asked, `GET ${found.url}: 200`], fix: 'Add resource_metadata="<metadata URL>" to the WWW-Authenticate challenge (RFC 9728 §5.1): older clients read only the header.'})
  }
  if (m.resource !== ctx.mcpUrl) {
    walk.notice({
      id: 'prm_resource_mismatch',
      severity: 'warning',
      summary: `the metadata's resource "${m.resource}" is not the MCP URL itself (${howTheyDiffer(m.resource, ctx.mcpUrl)}), though it covers it`,
      evidence: [`resource ${JSON.stringify(m.resource)}`, `MCP URL ${JSON.stringify(ctx.mcpUrl)}`],
      fix: `Tokens are minted for "${m.resource}", byte for byte: the authorization server must have exactly that string registered, and the MCP server must expect it as the audience.`,
    })
  }
  walk.pass(DOCTOR_STEPS[1], `resource ${m.resource} (${found.via === 'challenge' ? 'the 401 names the document' : 'at the well-known URL'})`)
  return found
}

/** When the URL a challenge names fails: does a well-known one serve usable metadata? (Read-only.) */
async function usableWellKnown(ctx: WalkthroughContext): Promise<string | undefined> {
  for (const url of wellKnownCandidates(ctx.mcpUrl)) {
    try {
      const response = await send(url, {headers: {Accept: 'application/json'}, timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
      if (response.status !== 200) continue
      const doc = JSON.parse(await readText(response, url)) as {resource?: unknown; authorization_servers?: unknown}
      if (typeof doc.resource === 'string' && Array.isArray(doc.authorization_servers) && doc.authorization_servers.length > 0) return url
    } catch (error) {
      if (error instanceof DryRunStop) throw error
    }
  }
  return undefined
}

/** Step 3: which authorization server, its RFC 8414 metadata, and a client for it. */
async function authorizationServer(ctx: WalkthroughContext, found: FoundResourceMetadata, options: DoctorOptions, walk: Walk): Promise<{issuer: string; metadata: Record<string, unknown>; credentials: ClientCredentials}> {
  const servers = found.metadata.authorization_servers
  // The first one the metadata names, unless the configured client's issuer is among them: an
  // agent with a pre-registered client goes where that client is registered.
  let issuer = (options.credentials === undefined && options.configuredCredentials !== undefined ? findIssuer(servers, ctx.issuer) : undefined) ?? servers[0]!
  if (options.expectedIssuer !== undefined) {
    const listed = findIssuer(servers, options.expectedIssuer)
    if (listed === undefined) {
      throw broken('as_issuer_mismatch', `the MCP server trusts ${servers.map((s) => `"${s}"`).join(', ')}, not the issuer given, "${options.expectedIssuer}"`, [`resource metadata authorization_servers: ${list(servers)}`, `--issuer ${options.expectedIssuer}: ${howTheyDiffer(options.expectedIssuer, servers[0]!)}`], `Tokens of "${options.expectedIssuer}" would be refused. Drop --issuer to use the server's choice, or configure the MCP server to trust that issuer (one trailing slash alone is not a difference; anything else is).`)
    }
    issuer = listed
  }
  let url: string
  try {
    url = discoveryUrl(issuer)
    if (!/^https?:$/.test(new URL(url).protocol)) throw new TypeError('not http(s)')
  } catch {
    throw broken('as_unreachable', `the resource metadata names an authorization server that is not an http(s) URL: ${JSON.stringify(issuer)}`, [`resource metadata authorization_servers: ${list(servers)}`], 'authorization_servers lists issuer identifiers: absolute https URLs (http on localhost for development), as the authorization server announces itself.')
  }
  let response: Response
  let text: string
  try {
    response = await send(url, {headers: {Accept: 'application/json'}, timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
    text = await readText(response, url)
  } catch (error) {
    if (error instanceof HttpUnreachableError || error instanceof HttpRedirectError) {
      throw broken('as_unreachable', `the authorization server ${issuer} does not answer its metadata: ${error.message}`, [`GET ${url}: ${error instanceof HttpRedirectError ? `${error.status} redirect` : 'no answer'}`], error instanceof HttpRedirectError ? 'Serve the RFC 8414 metadata at this URL itself (ap-demo and Authplane\'s SDK follow no redirects).' : `Start the authorization server, or fix the issuer the MCP server's metadata names (${issuer}): it must be reachable from where the agent runs.`)
    }
    throw error
  }
  let metadata: Record<string, unknown> | undefined
  try {
    const parsed = JSON.parse(text) as unknown
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) metadata = parsed as Record<string, unknown>
  } catch {}
  if (response.status !== 200 || !metadata) {
    throw broken('as_unreachable', `the authorization server ${issuer} does not serve its metadata: GET ${url} answered ${response.status}${metadata ? '' : ' without a JSON object'}`, [`GET ${url}: ${response.status} ${(response.headers.get('content-type') ?? '').split(';')[0]}`.trim()], `Serve RFC 8414 metadata at ${url} (Authplane does; no OpenID Connect fallback is tried), or fix the issuer the MCP server's metadata names.`)
  }
  const announced = metadata.issuer
  if (!sameIssuer(announced, issuer)) {
    throw broken('as_issuer_mismatch', `the authorization server announces issuer ${JSON.stringify(announced)}, but the MCP server's metadata names "${issuer}"`, [`GET ${url}: issuer ${JSON.stringify(announced)}`, `resource metadata authorization_servers: ${list(servers)}`, typeof announced === 'string' ? howTheyDiffer(announced, issuer) : 'no issuer string'], `Make them one string (RFC 8414 §3.3; only a single trailing slash is not a difference): set the MCP server's issuer (AUTHPLANE_ISSUER for tier 01) to ${JSON.stringify(announced)}, or the authorization server's to "${issuer}". Tokens carry the announced one in iss.`)
  }
  if (announced !== issuer) {
    walk.notice({id: 'as_issuer_mismatch', severity: 'info', summary: `the MCP server names "${issuer}" and the authorization server announces "${String(announced)}": a trailing slash alone is not a difference (Authplane's SDKs strip one)`, evidence: [`resource metadata authorization_servers: ${list(servers)}`, `GET ${url}: issuer ${JSON.stringify(announced)}`], fix: 'Nothing to fix for Authplane\'s SDKs; a client that compares byte for byte (RFC 8414 §3.3) would refuse it.'})
  }
  if (typeof metadata.token_endpoint !== 'string' || metadata.token_endpoint === '') {
    throw broken('as_unreachable', `the authorization server's metadata names no token_endpoint`, [`GET ${url}: ${Object.keys(metadata).join(', ')}`], 'RFC 8414 §2: the token_endpoint is required for the client_credentials grant.')
  }
  const grants = metadata.grant_types_supported
  if (Array.isArray(grants) && !grants.includes('client_credentials')) {
    throw broken('grant_not_supported', `the authorization server does not offer the client_credentials grant (it lists ${list(grants)})`, [`GET ${url}: grant_types_supported ${list(grants)}`], 'An agent without a user needs client_credentials: enable it at the authorization server (Authplane offers it to clients registered with grant_types ["client_credentials"]), or use an interactive client (authorization_code) instead.')
  }
  if (!Array.isArray(grants)) {
    walk.notice({id: 'grant_not_supported', severity: 'warning', guessed: true, summary: 'the authorization server lists no grant_types_supported (RFC 8414\'s default is authorization_code and implicit); client_credentials was tried anyway', evidence: [`GET ${url}: no grant_types_supported`], fix: 'Announce grant_types_supported, including client_credentials, so that clients need not guess.'})
  }
  if (ctx.dpop && !Array.isArray(metadata.dpop_signing_alg_values_supported)) {
    walk.notice({id: 'dpop_required', severity: 'warning', summary: 'the authorization server does not announce DPoP (no dpop_signing_alg_values_supported); it may ignore the proof', evidence: [`GET ${url}: no dpop_signing_alg_values_supported`]})
  }

  // A configured client belongs to the configured issuer: its secret never goes to an authorization
  // server that an MCP server merely pointed at (as in discovery, docs/discovery.md).
  const configured = options.configuredCredentials
  const credentials = options.credentials ?? (configured && sameIssuer(issuer, ctx.issuer) ? configured : undefined)
  if (!credentials) {
    if (!configured) throw noClientError(ctx, {tokenDemandedBy: ctx.mcpUrl})
    throw broken('as_issuer_mismatch', `the MCP server trusts "${issuer}", but the configured client belongs to "${ctx.issuer}"`, [`resource metadata authorization_servers: ${list(servers)}`, `configured issuer: ${ctx.issuer} (${howTheyDiffer(ctx.issuer, issuer)})`, `client ${configured.clientId} from ${configured.source}`], `If both name one server, make the MCP server trust "${ctx.issuer}" (AUTHPLANE_ISSUER for tier 01) or configure --issuer ${issuer}. If it is another server, name a client registered there: --client-id <id> with AUTHPLANE_CLIENT_SECRET. The configured client's secret is not sent to it.`)
  }
  walk.pass(DOCTOR_STEPS[2], `${String(announced)}, client_credentials ${Array.isArray(grants) ? 'offered' : 'not listed'}; client ${credentials.clientId}`)
  return {issuer, metadata, credentials}
}

/** Step 4's failure, from the token endpoint's own answer. */
function tokenFailure(error: unknown, request: {issuer: string; credentials: ClientCredentials; scopes: string[]; resource: string; tokenEndpoint: string}, describe: DoctorOptions['describeError']): Stop {
  const sent = `POST ${request.tokenEndpoint}: grant_type=client_credentials, ${request.scopes.length > 0 ? `scope="${request.scopes.join(' ')}"` : 'no scope'}, resource="${request.resource}", client ${request.credentials.clientId} (${request.credentials.source})`
  const hint = describe(error).hint
  if (error instanceof TokenRequestRefused) {
    const oauth = error.cause
    const answered = `${oauth.statusCode} ${oauth.oauthError}${oauth.description ? `: ${oauth.description}` : ''}`
    const evidence = [sent, `answered ${answered}`]
    switch (oauth.code) {
      case 'invalid_client':
      case 'access_denied':
        return broken('client_rejected', `the authorization server refuses the client (${oauth.code})`, evidence, `${request.issuer} does not accept client "${request.credentials.clientId}" with this secret: it must be a client_credentials client registered there, active, with its current secret (Authplane shows a secret once; rotate it if lost). A client registered with token_endpoint_auth_method "none" has no secret at all.`)
      case 'invalid_scope':
        return broken('scope_not_allowed', `the authorization server refuses the scope ${request.scopes.length > 0 ? `"${request.scopes.join(' ')}"` : '(none asked: it has nothing to grant)'}${oauth.description ? `: ${oauth.description}` : ''}`, evidence, `A scope is granted only when it is in the client's scope ceiling and the resource declares it (at ${request.issuer}). Ask for one that is with --scope, or register the client (Authplane: ap-demo setup client --new --scope <scope>) and the resource with it.`)
      case 'invalid_target':
        return broken('resource_not_registered', `the authorization server does not know the resource "${request.resource}" (invalid_target)`, evidence, `Register exactly "${request.resource}" (the MCP server's metadata names it; byte for byte, a trailing slash counts) as a resource at ${request.issuer}: for Authplane, ap-demo setup resource --uri ${request.resource}.`)
      case 'invalid_dpop_proof':
      case 'use_dpop_nonce':
        return broken('dpop_required', `the authorization server refuses the DPoP proof (${oauth.code})`, evidence, hint ?? 'Check this machine\'s clock: proofs carry its time.')
      default:
        return broken('grant_not_supported', `the authorization server refuses the client_credentials request (${oauth.code})`, evidence, hint ?? `${request.issuer} must allow this client the client_credentials grant.`)
    }
  }
  if (error instanceof DpopTokenTypeError || error instanceof DpopNonceError) {
    return broken('dpop_required', `the DPoP-bound token could not be had: ${error.message}`, [sent], hint ?? 'The authorization server must support DPoP (RFC 9449).')
  }
  if (error instanceof AuthplaneIssuerMismatchError) {
    return broken('as_issuer_mismatch', error.message, [sent], hint ?? 'Use the issuer the server announces.')
  }
  if (error instanceof AuthplaneConfigError) {
    return broken('as_unreachable', `ap-demo will not use ${request.issuer}: ${error.message}`, [sent], 'Client secrets go only to https authorization servers, or to plain http on this machine (development mode).')
  }
  if (error instanceof AuthplaneError) {
    return broken('as_unreachable', `the token endpoint does not answer properly: ${error.message}`, [sent], hint ?? 'Check the authorization server\'s logs.')
  }
  throw error
}

/** Step 4: a client_credentials token for exactly the metadata's resource, never from the cache. */
async function token(ctx: WalkthroughContext, found: FoundResourceMetadata, as: {issuer: string; metadata: Record<string, unknown>; credentials: ClientCredentials}, options: DoctorOptions, walk: Walk): Promise<{minted: MintResult; at: number; scopes: string[]}> {
  const challengeScopes = scopesOf(found.challengeScope)
  const supported = found.metadata.scopes_supported ?? []
  const [scopes, from] =
    options.scopes && options.scopes.length > 0 ? [options.scopes, '--scope'] : challengeScopes.length > 0 ? [challengeScopes, 'the 401'] : supported.length > 0 ? [supported, 'scopes_supported'] : [[], 'nowhere']
  if (from === 'nowhere') {
    walk.notice({id: 'scope_not_allowed', severity: 'info', guessed: true, summary: 'neither the 401 challenge nor the metadata names a scope; the token was requested without one (a guess: the server takes what the client is granted by default)', evidence: [`challenge scope: none; scopes_supported: none`]})
  }
  const resource = found.metadata.resource
  const discovered: WalkthroughContext = {...ctx, issuer: as.issuer, resource}
  let minted: MintResult
  try {
    minted = await mintToken(discovered, as.credentials, {scopes, resources: [resource], noCache: true, discovered: true})
  } catch (error) {
    if (error instanceof DryRunStop) throw error
    throw tokenFailure(error, {issuer: as.issuer, credentials: as.credentials, scopes, resource, tokenEndpoint: String(as.metadata.token_endpoint)}, options.describeError)
  }
  const at = Date.now()
  if (minted.audienceWarning && !minted.opaque) {
    walk.notice({id: 'token_audience_rejected', severity: 'warning', summary: minted.audienceWarning, evidence: [claimsLine(minted.claims), `requested resource: ${resource}`], fix: `${as.issuer} must put the requested resource into aud (RFC 8707): register "${resource}" there exactly.`})
  }
  const left = typeof minted.claims.exp === 'number' ? minted.claims.exp - Math.floor(at / 1000) : minted.token.expiresIn
  const exp = left === undefined ? '' : left > 0 ? ` expires in ${left} s` : ` expired ${-left} s ago by this machine's clock`
  const kind = minted.token.tokenType === 'DPoP' ? 'DPoP-bound, ' : ''
  walk.pass(DOCTOR_STEPS[3], minted.opaque ? `${kind}opaque token, scope from ${from},${exp}` : `${kind}aud ${list(Array.isArray(minted.claims.aud) ? minted.claims.aud : [minted.claims.aud])}, scope "${String(minted.claims.scope ?? '')}" (from ${from}),${exp}`)
  return {minted, at, scopes}
}

/** The walk's last finding when the call works: a token (or none needed), tools listed, one call. */
function success(id: 'ok' | 'no_auth_required', outcome: CallOutcome, how: string[]): Finding {
  const evidence = [...how, `tools/list: ${outcome.tools.length} tool${outcome.tools.length === 1 ? '' : 's'}${outcome.tools.length > 0 ? ` (${outcome.tools.map((t) => t.name).join(', ')})` : ''}`]
  const c = outcome.called
  if (c) {
    evidence.push(`tools/call ${c.name} ${JSON.stringify(c.arguments)} (chosen: ${c.reason}): ${c.mcpError ? `MCP error: ${c.mcpError}` : `${c.isError ? 'tool error: ' : ''}${JSON.stringify(c.text.length > 80 ? `${c.text.slice(0, 79)}…` : c.text)}`}`)
  }
  for (const r of outcome.refused) evidence.push(`not called: ${r.name} (${r.why})`)
  const call = c ? `tools/call ${c.name} was answered` : 'no tool is safe to call, so doctor stopped after tools/list'
  return id === 'ok'
    ? {id, severity: 'ok', summary: `a token was minted and accepted: tools/list answered and ${call}`, evidence, fix: null}
    : {id, severity: 'info', summary: `the MCP server answers without a token: no authorization is needed (tools/list answered and ${call})`, evidence, fix: 'Nothing to fix to call it. If it should be protected, it must answer 401 with a WWW-Authenticate challenge naming its resource metadata (tier 01 does).'}
}

/**
 * The walk. Throws only when doctor itself cannot go on (no client at all for a server that wants
 * a token, a --dry-run stop, a bug); every broken step of the servers is a finding in the report.
 */
export async function runDoctor(ctx: WalkthroughContext, options: DoctorOptions): Promise<DoctorReport> {
  const walk = new Walk(options)
  const witness = new Witness().start()
  const report = (primary: Finding, token?: MintResult): DoctorReport => ({
    primary: primary.id,
    findings: [primary, ...walk.noticed],
    steps: walk.steps,
    mcpUrl: ctx.mcpUrl,
    ...(token && !token.opaque ? {token: {header: token.header, claims: token.claims}} : {}),
  })
  let minted: MintResult | undefined
  try {
    // 1. The MCP server without a token, one request as curl would send it: a 401 is the server
    // asking for a token; an answer is tried again with the SDK, as an agent would call it.
    walk.start(DOCTOR_STEPS[0])
    let rejection = await challenge(ctx, options)
    // A server answered: the MCP SDK (./call.ts) loads while the next requests are in flight.
    const calling = import('./call.js')
    calling.catch(() => {})
    if (!rejection) {
      const held = new Held()
      try {
        const outcome = await (await calling).connectAndCall(ctx, undefined, held)
        walk.pass(DOCTOR_STEPS[0], 'answers without a token')
        for (const skipped of DOCTOR_STEPS.slice(1, 4)) walk.skip(skipped, 'no token needed')
        held.replay(walk)
        return report(success('no_auth_required', outcome, [`${ctx.mcpUrl} answered without a token`]))
      } catch (error) {
        // Any 401 before a token is the server asking for one, whichever request met it.
        if (!(error instanceof McpAuthRejectedError && error.rejection.status === 401)) throw error instanceof Stop ? error : mcpFailure(error, ctx, options.describeError, false)
        rejection = error.rejection
      }
    }
    const scheme = /^\s*(\S+)/.exec(rejection.wwwAuthenticate ?? '')?.[1]
    walk.pass(DOCTOR_STEPS[0], `401${scheme ? ` ${scheme} challenge` : ', no challenge'}: a token is needed`)

    // 2. Its RFC 9728 metadata. 3. The authorization server it names. 4. A token.
    walk.start(DOCTOR_STEPS[1])
    const found = await resourceMetadata(ctx, rejection, witness, walk)
    walk.start(DOCTOR_STEPS[2])
    const as = await authorizationServer(ctx, found, options, walk)
    walk.start(DOCTOR_STEPS[3])
    const got = await token(ctx, found, as, options, walk)
    minted = got.minted

    // 5-7. The call with the token.
    walk.start(DOCTOR_STEPS[4])
    const authorized: WalkthroughContext = {...ctx, issuer: as.issuer, resource: found.metadata.resource}
    let outcome: CallOutcome
    try {
      outcome = await (await calling).connectAndCall(authorized, minted.token.accessToken, walk)
    } catch (error) {
      if (!(error instanceof McpAuthRejectedError)) throw error instanceof Stop ? error : mcpFailure(error, authorized, options.describeError, true)
      throw new Stop(
        explainRefusal({
          rejection: error.rejection,
          answer: witness.lastAnswer(ctx.mcpUrl, error.rejection.status),
          claims: minted.opaque ? undefined : minted.claims,
          mintedAt: got.at,
          metadata: found.metadata,
          issuer: String(as.metadata.issuer),
          jwksUri: typeof as.metadata.jwks_uri === 'string' ? as.metadata.jwks_uri : undefined,
          scopes: got.scopes,
          dpop: Boolean(ctx.dpop),
        }),
      )
    }
    return report(
      success('ok', outcome, [
        `resource metadata ${found.url}: resource ${JSON.stringify(found.metadata.resource)}, authorization_servers ${list(found.metadata.authorization_servers)}`,
        `authorization server ${String(as.metadata.issuer)}: client ${as.credentials.clientId} (${as.credentials.source})`,
        `${claimsLine(minted.opaque ? undefined : minted.claims)}: accepted`,
      ]),
      minted,
    )
  } catch (error) {
    if (!(error instanceof Stop)) throw error
    walk.fail(error.finding)
    return report(error.finding, minted)
  } finally {
    witness.stop()
  }
}
