// `ap-demo login` as steps that `login`, the step-up of `mcp call`/`mcp tools` and `verify --user`
// share: find the authorization server from the MCP server (RFC 9728 then RFC 8414 / OpenID
// Connect, or the 2025-03-26 fallbacks), pick the client (pre-registered, Client ID Metadata
// Document, dynamic registration), authorize in a browser through a loopback listener, exchange
// the code and keep the tokens in the profile.
import {ENV, type Environment} from '../config/settings.js'
import type {LoginClientRecord, LoginRecord, LoginServerRecord} from '../config/store.js'
import {findIssuer} from '../authplane/issuer.js'
import {CheckFailedError, ConfigError, InputError} from '../errors.js'
import {
  awaitAuthorizationResponse,
  checkAuthorizationResponse,
  exchangeCode,
  preflightAuthorization,
  prepareAuthorization,
  type AuthorizationTarget,
  type PreparedAuthorization,
  type UserTokenSet,
} from '../login/authorize.js'
import {openBrowser} from '../login/browser.js'
import {driveAuthorization, type DriverEvent} from '../login/form-driver.js'
import {listenForCallback, type CallbackListener} from '../login/loopback.js'
import {discoverAuthorizationServer, insecureAllowed, legacyAuthorizationServer, type AuthorizationServerInfo} from '../login/metadata.js'
import {checkClientMetadataUrl, chooseClient, registerClient, type RegistrationOutcome} from '../login/registration.js'
import {fromServer} from '../login/server-text.js'
import {forgetClient, saveClient, saveLogin, storedClient} from '../login/sessions.js'
import {McpDiscoveryError, type McpRejection} from '../mcp/errors.js'
import {findResourceMetadata} from '../mcp/resource-metadata.js'
import type {WalkthroughContext} from './context.js'
import {scopesOf} from './token.js'
import {tokenSubject} from './user-session.js'

/** Where the authorization URL goes: a browser, the terminal only, or the form driver (a known password). */
export interface BrowserOptions {
  /** --no-browser: print the address and wait (SSH sessions, CI). */
  noBrowser?: boolean
  /** --callback-port; undefined: the port of the stored client's redirect URI if free, else any. */
  callbackPort?: number
  /** How long to wait for the browser to come back (ms). */
  timeoutMs: number
  /** `verify --user` with AP_DEMO_USER_PASSWORD: ap-demo fills the sign-in and consent forms itself. */
  driver?: {email: string; password: string; decision?: 'allow' | 'deny'; onEvent?: (event: DriverEvent) => void}
  /** A terminal to read a pasted callback address from, when the browser is elsewhere. */
  paste?: NodeJS.ReadableStream
  /** Told the address to open, and whether a browser was started for it. */
  onAuthorizationUrl?: (url: string, browser: {opened: true; how: string} | {opened: false; why: string}) => void
}

export interface SignInRequest {
  /** --client-id; the secret comes from --client-secret or AUTHPLANE_CLIENT_SECRET. */
  clientId?: string
  clientSecret?: string
  /** --client-metadata-url (else AP_DEMO_CLIENT_METADATA_URL, else the profile's). */
  clientMetadataUrl?: string
  /** --issuer as given on the command line: it must be one the MCP server lists. */
  issuerFlag?: string
  /** --scope; else the challenge's, else the resource metadata's scopes_supported, else none. */
  scopes?: string[]
  env: Environment
  browser: BrowserOptions
  onStep?: (line: string) => void
}

/** What discovery found: the resource, its authorization server, and the scopes to ask for. */
export interface SignInTarget {
  mcpUrl: string
  resource: string
  server: AuthorizationServerInfo
  /** How the protected resource metadata was found, or `none` (2025-03-26: the server has none). */
  resourceMetadata: {url: string; via: 'challenge' | 'well-known'} | {via: 'none'}
  scopes: string[]
  scopeSource: 'flag' | 'challenge' | 'metadata' | 'none'
}

export interface SignInResult {
  login: LoginRecord
  target: SignInTarget
  client: LoginClientRecord
  registration: RegistrationOutcome['action']
  /** The client was registered again because the server no longer accepted the stored one. */
  reregistered: boolean
}

export const CLIENT_METADATA_URL_ENV = 'AP_DEMO_CLIENT_METADATA_URL'

/** Seconds a sign-in waits for the browser by default. */
export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 300

const NO_CHALLENGE: McpRejection = {status: 401, wwwAuthenticate: null, body: null}

/**
 * Step 1: the MCP server's protected resource metadata (from its 401 challenge, else the
 * path-based then the root well-known URL), the authorization server it names (or --issuer, which
 * it must list), that server's metadata, and the scopes to ask for. A server with no resource
 * metadata at all is an MCP 2025-03-26 server: its origin is the authorization server.
 */
export async function discoverSignIn(ctx: WalkthroughContext, request: Pick<SignInRequest, 'issuerFlag' | 'scopes' | 'onStep'>): Promise<SignInTarget> {
  const step = request.onStep ?? (() => {})
  const opts = {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer}
  let rejection: McpRejection = NO_CHALLENGE
  let challenged = true
  // The MCP SDK is loaded only here: the rest of the sign-in never speaks MCP.
  const {fetchTools, tokenDemanded} = await import('./tool.js')
  try {
    await fetchTools(ctx, undefined)
    challenged = false
  } catch (error) {
    const demanded = tokenDemanded(error)
    if (!demanded) throw error
    rejection = demanded.rejection
  }
  step(challenged ? `401 from ${ctx.mcpUrl}${rejection.wwwAuthenticate ? '' : ' (its challenge names no resource metadata)'}` : `${ctx.mcpUrl} answered without a token; looking for its resource metadata anyway`)

  let found
  try {
    found = await findResourceMetadata(ctx.mcpUrl, rejection, opts)
  } catch (error) {
    if (!(error instanceof McpDiscoveryError) || error.problem !== 'resource_metadata_missing') throw error
    if (!challenged) {
      throw new CheckFailedError('nothing_to_sign_in', `${ctx.mcpUrl} asks for no token and publishes no protected resource metadata: there is nothing to sign in to`, {
        hint: 'Check --mcp-url; `ap-demo mcp tools --mcp-url <url>` shows that the server answers without a token.',
        details: {mcpUrl: ctx.mcpUrl},
      })
    }
    // MCP 2025-03-26: no resource metadata; the MCP server's origin is the authorization server.
    const server = await legacyAuthorizationServer(ctx.mcpUrl, opts)
    step(`no protected resource metadata at the well-known URLs; MCP 2025-03-26 fallback: ${server.metadataUrl ? `metadata at ${server.metadataUrl}` : `the default endpoints of ${new URL(ctx.mcpUrl).origin} (no metadata there: ${server.misses.join(', ')})`}`)
    const {scopes, scopeSource} = selectScopes(request.scopes, scopesOf(undefined), undefined, server)
    return {mcpUrl: ctx.mcpUrl, resource: ctx.mcpUrl, server, resourceMetadata: {via: 'none'}, scopes, scopeSource}
  }
  // URIs are ASCII (RFC 3986 §2): anything else in what a server named is refused before it is shown or used.
  for (const value of [found.metadata.resource, ...found.metadata.authorization_servers]) {
    if (!/^[\x21-\x7e]+$/.test(value)) {
      throw new CheckFailedError('resource_metadata_invalid', `the resource metadata at ${found.url} names "${fromServer(value, 120)}", which is not a URI (RFC 3986: visible ASCII only)`, {
        hint: 'The MCP server\'s resource metadata is malformed; nothing was sent to any authorization server.',
        details: {url: found.url},
      })
    }
  }
  step(`resource metadata ${found.url} (${found.via === 'challenge' ? 'named by the challenge' : 'well-known location'}): resource ${found.metadata.resource}`)

  const servers = found.metadata.authorization_servers
  let issuer = servers[0]!
  if (request.issuerFlag !== undefined) {
    // As everywhere the resource metadata is checked: one trailing slash is not a difference (src/authplane/issuer.ts).
    const listed = findIssuer(servers, request.issuerFlag)
    if (listed === undefined) {
      throw new ConfigError('issuer_not_listed', `the MCP server trusts ${servers.map((s) => `"${s}"`).join(', ')}, not "${request.issuerFlag}"`, {
        hint: 'Drop --issuer to use the server\'s choice; the strings must match but for one trailing slash.',
        details: {authorizationServers: servers, expectedIssuer: request.issuerFlag},
      })
    }
    issuer = listed
  }
  const server = await discoverAuthorizationServer(issuer, opts)
  step(`authorization server ${issuer}: metadata ${server.metadataUrl}${server.misses.length > 0 ? ` (after ${server.misses.join(', ')})` : ''}`)
  const {scopes, scopeSource} = selectScopes(request.scopes, scopesOf(found.challengeScope), found.metadata.scopes_supported, server)
  return {mcpUrl: ctx.mcpUrl, resource: found.metadata.resource, server, resourceMetadata: {url: found.url, via: found.via}, scopes, scopeSource}
}

/**
 * MCP scope selection: --scope, else the challenge's `scope`, else the resource metadata's
 * scopes_supported, else none (no `scope` parameter). SEP-2207: a client that wants a refresh token
 * adds `offline_access` when the authorization server lists it, and only then.
 */
export function selectScopes(flag: string[] | undefined, challenge: string[], supported: string[] | undefined, server: AuthorizationServerInfo): {scopes: string[]; scopeSource: SignInTarget['scopeSource']} {
  const [scopes, scopeSource]: [string[], SignInTarget['scopeSource']] =
    flag && flag.length > 0 ? [flag, 'flag'] : challenge.length > 0 ? [challenge, 'challenge'] : supported && supported.length > 0 ? [supported, 'metadata'] : [[], 'none']
  const asScopes = server.metadata.scopes_supported
  if (scopeSource !== 'flag' && scopes.length > 0 && Array.isArray(asScopes) && asScopes.includes('offline_access') && !scopes.includes('offline_access')) {
    return {scopes: [...scopes, 'offline_access'], scopeSource}
  }
  return {scopes: [...scopes], scopeSource}
}

/** The authorization server must offer the code grant with S256 PKCE (MCP: refuse to proceed otherwise). */
export function checkCodeFlowSupport(server: AuthorizationServerInfo): void {
  const m = server.metadata
  for (const name of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint'] as const) {
    const value = m[name]
    const required = name === 'authorization_endpoint' || name === 'token_endpoint'
    if (value === undefined && !required) continue
    if (typeof value !== 'string' || value === '') {
      throw new CheckFailedError('no_code_flow', `${m.issuer} has no ${name} in its metadata, so no user can sign in there`, {hint: 'The authorization server must offer the authorization code grant (RFC 8414 §2).', details: {issuer: m.issuer}})
    }
    let url: URL | undefined
    try {
      url = /^[\x21-\x7e]+$/.test(value) ? new URL(value) : undefined
    } catch {
      url = undefined
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new CheckFailedError('as_metadata_invalid', `${m.issuer} announces ${name} "${fromServer(value, 120)}", which is not an absolute http(s) URL`, {hint: 'RFC 8414 §2: the endpoints are absolute URLs.', details: {issuer: m.issuer}})
    }
    if (!insecureAllowed(url)) {
      throw new ConfigError('insecure_endpoint', `${m.issuer} announces ${name} ${value}, which is not https (plain http only on loopback hosts)`, {hint: 'OAuth endpoints must be https (OAuth 2.1 §1.5).', details: {issuer: m.issuer, [name]: value}})
    }
  }
  // The 2025-03-26 default endpoints come with no metadata to read this from.
  if (server.source === '2025-03-26 default endpoints') return
  const methods = m.code_challenge_methods_supported
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw new CheckFailedError('no_pkce', `${m.issuer} does not announce PKCE with S256 (code_challenge_methods_supported: ${methods ? JSON.stringify(methods) : 'absent'})`, {
      hint: 'The MCP authorization spec has a client refuse to proceed without S256 PKCE support: the authorization code could be stolen and used.',
      details: {issuer: m.issuer, code_challenge_methods_supported: methods ?? null},
    })
  }
}

/** The --client-id of a sign-in, with its secret from --client-secret or AUTHPLANE_CLIENT_SECRET (none: a public client). */
export function preRegisteredClient(request: Pick<SignInRequest, 'clientId' | 'clientSecret' | 'env'>): {clientId: string; clientSecret?: string} | undefined {
  if (request.clientId === undefined) {
    if (request.clientSecret !== undefined) throw new InputError('usage', '--client-secret needs --client-id', {hint: 'Pass both, or neither to let ap-demo register a client.'})
    return undefined
  }
  if (!request.clientId.trim()) throw new InputError('usage', '--client-id is empty', {hint: 'Pass the client_id of a client registered at the authorization server.'})
  const secret = request.clientSecret ?? request.env.lookup(ENV.clientSecret)?.value
  return secret ? {clientId: request.clientId, clientSecret: secret} : {clientId: request.clientId}
}

/** --client-metadata-url, else AP_DEMO_CLIENT_METADATA_URL, else the profile's setting. */
export function clientMetadataUrl(ctx: WalkthroughContext, request: Pick<SignInRequest, 'clientMetadataUrl' | 'env'>): string | undefined {
  if (request.clientMetadataUrl !== undefined) return checkClientMetadataUrl(request.clientMetadataUrl, '--client-metadata-url')
  const fromEnv = request.env.lookup(CLIENT_METADATA_URL_ENV)
  if (fromEnv) return checkClientMetadataUrl(fromEnv.value, CLIENT_METADATA_URL_ENV)
  return ctx.store.getProfile(ctx.profile).clientMetadataUrl
}

/**
 * The loopback listener: --callback-port, else the port the stored client was registered with
 * (a server that matches redirect URIs exactly then still accepts it), else any free port.
 */
export async function openListener(ctx: WalkthroughContext, issuer: string, callbackPort: number | undefined): Promise<CallbackListener> {
  if (callbackPort !== undefined) return listenForCallback(callbackPort)
  // The URIs are the server's registration answer: one that is not a URL names no port.
  const registered = storedClient(ctx.store, ctx.profile, issuer)?.redirectUris.map((u) => (URL.canParse(u) ? Number(new URL(u).port) : 0)).find((p) => p > 0)
  if (registered !== undefined) {
    try {
      return await listenForCallback(registered)
    } catch {
      // Taken now: any port will do, and the authorization request is checked before a browser opens.
    }
  }
  return listenForCallback(0)
}

/** Step 2: the client to sign in as (see chooseClient), remembered for the next sign-in and for refreshes. */
export async function signInClient(ctx: WalkthroughContext, target: SignInTarget, request: Pick<SignInRequest, 'clientId' | 'clientSecret' | 'clientMetadataUrl' | 'env'>, redirectUri: string): Promise<RegistrationOutcome> {
  const issuer = target.server.metadata.issuer
  const cimdUrl = clientMetadataUrl(ctx, request)
  const outcome = await chooseClient({
    server: target.server,
    redirectUri,
    preRegistered: preRegisteredClient(request),
    clientMetadataUrl: cimdUrl,
    stored: storedClient(ctx.store, ctx.profile, issuer),
    timeoutMs: ctx.requestTimeoutMs,
    observer: ctx.observer,
  })
  saveClient(ctx.store, ctx.profile, outcome.client)
  if (request.clientMetadataUrl !== undefined && cimdUrl !== undefined) {
    ctx.store.updateProfile(ctx.profile, (p) => {
      p.clientMetadataUrl = cimdUrl
    })
  }
  return outcome
}

export interface Authorized {
  client: LoginClientRecord
  prepared: PreparedAuthorization
  params: URLSearchParams
  reregistered: boolean
}

/**
 * Step 3: the authorization request, answered by the user in a browser (or by the form driver).
 * A client kept from before is checked against the authorization endpoint first: when the server
 * no longer accepts it (forgotten, or a redirect port it does not match), ap-demo registers a new
 * one, once, and never loops.
 */
export async function authorizeInBrowser(
  ctx: WalkthroughContext,
  target: Omit<AuthorizationTarget, 'client'>,
  registration: RegistrationOutcome,
  listener: CallbackListener,
  browser: BrowserOptions,
  onStep: (line: string) => void = () => {},
): Promise<Authorized> {
  let client = registration.client
  const fresh = registration.action === 'registered'
  let reregistered = false
  for (;;) {
    const full: AuthorizationTarget = {...target, client}
    const prepared = await prepareAuthorization(full, listener.redirectUri)
    if (!fresh || reregistered) {
      const verdict = await preflightAuthorization(prepared, {timeoutMs: ctx.requestTimeoutMs})
      if (verdict.kind === 'answered') {
        onStep(`${target.server.issuer} answered the authorization request at once (no sign-in asked)`)
        return {client, prepared, params: checkAuthorizationResponse(full, prepared, verdict.callback), reregistered}
      }
      if (verdict.kind === 'refused') {
        const why = `${verdict.status}${verdict.page ? ` "${verdict.page}"` : ''}`
        if (client.via === 'dcr' && !reregistered) {
          onStep(`${target.server.issuer} refuses the client registered before (${client.clientId}: ${why}); registering a new one for ${listener.redirectUri}`)
          forgetClient(ctx.store, ctx.profile, client.issuer, client.clientId)
          client = await registerClient({server: {...emptyInfo, metadata: target.server}, redirectUri: listener.redirectUri, timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
          saveClient(ctx.store, ctx.profile, client)
          // The new client is asked about too: a server that refuses it as well ends here, once.
          reregistered = true
          continue
        }
        throw refusedAuthorization(target.server.issuer, client, why, listener.redirectUri, reregistered)
      }
    }
    const params = await inBrowser(full, prepared, listener, browser)
    return {client, prepared, params, reregistered}
  }
}

const emptyInfo: Omit<AuthorizationServerInfo, 'metadata'> = {source: 'oauth-authorization-server', issuerChecked: true, misses: []}

function refusedAuthorization(issuer: string, client: LoginClientRecord, why: string, redirectUri: string, reregistered: boolean): CheckFailedError {
  const hint = reregistered
    ? `Even a client registered just now for ${redirectUri} is refused; the server's dynamic registration and its authorization endpoint disagree. Check the server's logs; ap-demo stops here rather than register again.`
    : client.via === 'pre-registered'
      ? `Check --client-id: it must be registered at ${issuer} with the redirect URI ${redirectUri} (or http://127.0.0.1/callback, if the server allows any loopback port as RFC 8252 §7.3 asks).`
      : client.via === 'cimd'
        ? `The server could not use the Client ID Metadata Document at ${client.clientId}: check that it is reachable over https and lists the redirect URI http://127.0.0.1/callback.`
        : 'Check the server\'s logs.'
  return new CheckFailedError('authorization_refused_page', `${issuer} refuses the authorization request for client ${client.clientId}: ${why}`, {hint, details: {issuer, clientId: client.clientId, via: client.via, redirectUri}})
}

/** Opens the browser (or prints the address, or drives the forms) and waits for the redirect back. */
async function inBrowser(target: AuthorizationTarget, prepared: PreparedAuthorization, listener: CallbackListener, browser: BrowserOptions): Promise<URLSearchParams> {
  const waiting = awaitAuthorizationResponse(target, prepared, listener, {timeoutMs: browser.timeoutMs, paste: browser.paste})
  if (browser.driver) {
    const driver = browser.driver
    const driven = driveAuthorization(prepared.url, prepared.redirectUri, {email: driver.email, password: driver.password, decision: driver.decision, timeoutMs: browser.timeoutMs, onEvent: driver.onEvent})
    // The driver fails first when a page stops it (a refused sign-in, a denied consent); the
    // listener when the redirect it delivered is refused (state, iss, error).
    waiting.catch(() => {})
    await driven
    return waiting
  }
  const verdict = browser.noBrowser ? ({opened: false, why: '--no-browser'} as const) : await openBrowser(prepared.url)
  browser.onAuthorizationUrl?.(prepared.url, verdict)
  return waiting
}

/** Step 4: the code exchanged for tokens (with the resource), kept in the profile. */
export async function completeSignIn(ctx: WalkthroughContext, target: SignInTarget, authorized: Authorized): Promise<LoginRecord> {
  const full: AuthorizationTarget = {server: target.server.metadata, client: authorized.client, resource: target.resource, scopes: target.scopes}
  const tokens = await exchangeCode(full, authorized.prepared.redirectUri, authorized.params, authorized.prepared.codeVerifier, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
  const login = loginRecord(target, authorized.client, tokens)
  keepLogin(ctx, login)
  return login
}

/** The login as kept: replaces any earlier sign-in for the same server and resource. */
export function keepLogin(ctx: WalkthroughContext, login: LoginRecord): void {
  ctx.store.updateProfile(ctx.profile, (p) => {
    for (const [key, other] of Object.entries(p.logins ?? {})) {
      if (other.issuer === login.issuer && other.resource === login.resource && other.clientId !== login.clientId) delete p.logins![key]
    }
  })
  saveLogin(ctx.store, ctx.profile, login)
}

export function serverRecord(server: AuthorizationServerInfo): LoginServerRecord {
  const m = server.metadata
  const record: LoginServerRecord = {issuer: m.issuer, authorization_endpoint: m.authorization_endpoint!, token_endpoint: m.token_endpoint!, source: server.source}
  if (m.revocation_endpoint) record.revocation_endpoint = m.revocation_endpoint
  if (m.registration_endpoint) record.registration_endpoint = m.registration_endpoint
  if (m.authorization_response_iss_parameter_supported !== undefined) record.authorization_response_iss_parameter_supported = m.authorization_response_iss_parameter_supported
  if (Array.isArray(m.token_endpoint_auth_methods_supported)) record.token_endpoint_auth_methods_supported = m.token_endpoint_auth_methods_supported
  if (Array.isArray(m.scopes_supported)) record.scopes_supported = m.scopes_supported
  if (server.metadataUrl) record.metadataUrl = server.metadataUrl
  return record
}

export function loginRecord(target: Pick<SignInTarget, 'mcpUrl' | 'resource' | 'server' | 'scopes'>, client: LoginClientRecord, tokens: UserTokenSet, now = Date.now()): LoginRecord {
  const login: LoginRecord = {
    mcpUrl: target.mcpUrl,
    resource: target.resource,
    issuer: target.server.metadata.issuer,
    clientId: client.clientId,
    client,
    server: serverRecord(target.server),
    requestedScopes: target.scopes,
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    obtainedAt: new Date(now).toISOString(),
  }
  if (tokens.scope !== undefined) login.scope = tokens.scope
  if (tokens.expiresIn !== undefined) login.expiresAt = now + tokens.expiresIn * 1000
  if (tokens.refreshToken) login.refreshToken = tokens.refreshToken
  const sub = tokenSubject(tokens.accessToken)
  if (sub !== undefined) login.sub = sub
  return login
}

/**
 * `ap-demo login`: discovery, the client, the browser, the code exchange; the tokens kept in the
 * profile for `mcp call`, `mcp tools` and `token mint --user-token`.
 */
export async function signIn(ctx: WalkthroughContext, request: SignInRequest): Promise<SignInResult> {
  const step = request.onStep ?? (() => {})
  const target = await discoverSignIn(ctx, request)
  checkCodeFlowSupport(target.server)
  const listener = await openListener(ctx, target.server.metadata.issuer, request.browser.callbackPort)
  try {
    const registration = await signInClient(ctx, target, request, listener.redirectUri)
    step(registrationLine(registration))
    step(`asking for ${target.scopes.length > 0 ? `scope "${target.scopes.join(' ')}" (${target.scopeSource === 'flag' ? '--scope' : target.scopeSource === 'challenge' ? 'from the 401 challenge' : 'the resource metadata\'s scopes_supported'})` : 'no scope (none named by the server)'} for resource ${target.resource}`)
    const authorized = await authorizeInBrowser(ctx, {server: target.server.metadata, resource: target.resource, scopes: target.scopes}, registration, listener, request.browser, step)
    const login = await completeSignIn(ctx, target, authorized)
    return {login, target, client: authorized.client, registration: registration.action, reregistered: authorized.reregistered}
  } finally {
    await listener.close()
  }
}

export function registrationLine(r: RegistrationOutcome): string {
  const c = r.client
  const auth = c.authMethod === 'none' ? 'public client' : c.authMethod
  switch (r.action) {
    case 'given':
      return `client ${c.clientId} (--client-id, ${auth})`
    case 'cimd':
      return `client ${c.clientId} (Client ID Metadata Document, ${auth})`
    case 'reused':
      return `client ${c.clientId} (${c.via === 'dcr' ? 'registered' : c.via === 'cimd' ? 'metadata document' : 'given'} ${c.registeredAt.slice(0, 10)}, ${auth})`
    default:
      return `client ${c.clientId} registered (RFC 7591 dynamic client registration, native, ${auth}, redirect ${c.redirectUris[0]})`
  }
}
