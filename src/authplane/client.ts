import * as oauth from 'oauth4webapi'
import {httpFetch} from '../http/fetch.js'
import {CircuitBreaker} from './breaker.js'
import {
  CACHE_EXPIRY_MARGIN_SECONDS,
  MemoryTokenCache,
  normaliseResources,
  normaliseScopes,
  tokenCacheKey,
  type TokenCache,
} from './cache.js'
import {
  AuthplaneConfigError,
  AuthplaneConsentRequiredError,
  AuthplaneError,
  AuthplaneIssuerMismatchError,
  AuthplaneNetworkError,
  AuthplaneOAuthError,
  AuthplaneProtocolError,
  AuthplaneServerError,
  AuthplaneTimeoutError,
  CONSENT_ERROR_CODES,
  countsTowardBreaker,
} from './errors.js'
import {DpopNonceError, DpopTokenTypeError} from './dpop-errors.js'
import {sameIssuer} from './issuer.js'
import type {
  AuthorizationServerMetadata,
  AuthplaneClientOptions,
  ClientAuthMethod,
  ClientCredentialsOptions,
  ObservedRequest,
  TokenResult,
} from './types.js'

/** Contract §4: 10 s per request, no retries. */
export const DEFAULT_TIMEOUT_MS = 10_000

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

/**
 * RFC 8414 §3.1: the well-known segment is inserted between the host and the issuer's path, and a
 * terminating slash of the path is removed. `https://as.example/tenant/` ->
 * `https://as.example/.well-known/oauth-authorization-server/tenant`.
 */
export function discoveryUrl(issuer: string | URL): string {
  const url = typeof issuer === 'string' ? new URL(issuer) : issuer
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return `${url.origin}/.well-known/oauth-authorization-server${path}`
}

/**
 * Contract §3 "Token endpoint" / RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
 * Authplane decodes with Go's URL unescaping, so `encodeURIComponent` is what it expects; oauth4webapi's
 * ClientSecretBasic uses form-urlencoding instead (space as `+`, `!'()*` escaped), hence this function.
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`
}

/** An exception thrown by the caller's `onRequest` observer: passed through untouched, never counted. */
class ObserverFailure extends Error {}

interface RequestContext {
  what: string
  url: string
  timeoutMs: number
}

type ParsedBody = {ok: true; value: unknown} | {ok: false}

export class AuthplaneClient {
  readonly metadata: AuthorizationServerMetadata
  readonly issuer: string
  readonly clientId: string
  readonly authMethod: ClientAuthMethod
  readonly allowInsecureHttp: boolean
  readonly timeoutMs: number
  readonly cache: TokenCache
  readonly breaker: CircuitBreaker
  private readonly clientSecret: string
  private readonly now: () => number
  private readonly onRequest: ((req: ObservedRequest) => void) | undefined
  private readonly dpop: AuthplaneClientOptions['dpop']

  private constructor(settings: ResolvedSettings, metadata: AuthorizationServerMetadata) {
    this.metadata = metadata
    this.issuer = settings.issuer
    this.clientId = settings.clientId
    this.clientSecret = settings.clientSecret
    this.authMethod = settings.authMethod
    this.allowInsecureHttp = settings.allowInsecureHttp
    this.timeoutMs = settings.timeoutMs
    this.cache = settings.cache
    this.breaker = settings.breaker
    this.now = settings.now
    this.onRequest = settings.onRequest
    this.dpop = settings.dpop
  }

  /** The thumbprint of the DPoP key tokens are bound to, when the client sends proofs. */
  get dpopThumbprint(): string | undefined {
    return this.dpop?.key.thumbprint
  }

  /** Validates the options and discovers the issuer's RFC 8414 metadata (contract §4). */
  static async create(options: AuthplaneClientOptions): Promise<AuthplaneClient> {
    const settings = resolveSettings(options)
    const metadata = await discover(settings)
    return new AuthplaneClient(settings, metadata)
  }

  /**
   * RFC 6749 §4.4 client_credentials grant with RFC 8707 resource indicators, through the token cache
   * and the circuit breaker (contract §4).
   */
  async clientCredentials(
    scopes: string[],
    resources: string[],
    options: ClientCredentialsOptions = {},
  ): Promise<TokenResult> {
    const scopeValues = normaliseScopes(scopes)
    const resourceValues = normaliseResources(resources)
    const key = tokenCacheKey(this.issuer, this.clientId, scopeValues, resourceValues, this.dpop?.key.thumbprint)

    // Like the SDK: the breaker is asserted closed before the cache is consulted, so an open
    // breaker blocks cached tokens too.
    this.breaker.acquire()
    if (!options.noCache) {
      const hit = await this.cache.get(key)
      if (hit !== undefined) {
        if (hit.expiresAt > this.now()) return {...hit.result, fromCache: true}
        await this.cache.delete(key)
      }
    }

    const result = await this.requestToken(scopeValues, resourceValues)

    // Contract §4: lifetime `expires_in - 30 s`; nothing cached when that is <= 0 or unknown.
    if (!options.noCache && result.expiresIn !== undefined) {
      const lifetimeSeconds = result.expiresIn - CACHE_EXPIRY_MARGIN_SECONDS
      if (lifetimeSeconds > 0) await this.cache.set(key, {result, expiresAt: this.now() + lifetimeSeconds * 1000})
    }
    return {...result, fromCache: false}
  }

  private async requestToken(scopes: string[], resources: string[]): Promise<Omit<TokenResult, 'fromCache'>> {
    const tokenEndpoint = this.metadata.token_endpoint
    const ctx: RequestContext = {what: 'Token request', url: tokenEndpoint, timeoutMs: this.timeoutMs}
    const as = this.metadata as unknown as oauth.AuthorizationServer
    const client: oauth.Client = {client_id: this.clientId}

    // grant_type first so the body reads naturally; oauth4webapi `set`s it in place.
    const parameters = new URLSearchParams()
    parameters.append('grant_type', 'client_credentials')
    // RFC 6749 §3.3: scope is a list of space-delimited values (contract §4: one space, omitted when empty).
    if (scopes.length > 0) parameters.append('scope', scopes.join(' '))
    // RFC 8707 §2: the resource parameter may be repeated, one value each.
    for (const resource of resources) parameters.append('resource', resource)

    return guarded(this.breaker, ctx, async () => {
      const signal = AbortSignal.timeout(this.timeoutMs)
      for (let attempt = 1; ; attempt++) {
        const response = await oauth.clientCredentialsGrantRequest(as, client, this.clientAuth(), new URLSearchParams(parameters), {
          signal,
          [oauth.customFetch]: observingFetch(this.onRequest),
          [oauth.allowInsecureRequests]: this.allowInsecureHttp,
          ...(this.dpop ? {DPoP: this.dpop.handle} : {}),
        })
        const text = await response.text()
        if (response.status !== 200) {
          const error = errorFromResponse(ctx, response, text)
          // RFC 9449 §8: the server wants its nonce in the proof. oauth4webapi's handle has already
          // kept the DPoP-Nonce of this response, so the second proof carries it. Once, as the SDK does.
          // (oauth.isDPoPNonceError reads only application/json bodies; Authplane answers problem+json.)
          if (this.dpop && error instanceof AuthplaneOAuthError && error.oauthError === 'use_dpop_nonce') {
            const nonceReceived = response.headers.has('dpop-nonce')
            if (attempt >= 2 || !nonceReceived) throw new DpopNonceError(tokenEndpoint, 'token_endpoint', nonceReceived)
            continue
          }
          throw error
        }
        const result = await parseTokenResponse(ctx, as, client, text, response.headers.get('content-type'))
        if (this.dpop && result.tokenType !== 'DPoP') throw new DpopTokenTypeError(tokenEndpoint, result.tokenType)
        return result
      }
    })
  }

  private clientAuth(): oauth.ClientAuth {
    // RFC 6749 §2.3.1 client_secret_post: id and secret in the form body.
    if (this.authMethod === 'client_secret_post') return oauth.ClientSecretPost(this.clientSecret)
    const authorization = basicAuthorization(this.clientId, this.clientSecret)
    return (_as, _client, _body, headers) => {
      headers.set('authorization', authorization)
    }
  }
}

interface ResolvedSettings {
  issuer: string
  issuerUrl: URL
  clientId: string
  clientSecret: string
  authMethod: ClientAuthMethod
  allowInsecureHttp: boolean
  timeoutMs: number
  cache: TokenCache
  breaker: CircuitBreaker
  now: () => number
  onRequest: ((req: ObservedRequest) => void) | undefined
  requireJwksUri: boolean
  dpop: AuthplaneClientOptions['dpop']
}

function resolveSettings(options: AuthplaneClientOptions): ResolvedSettings {
  const issuer = options.issuer
  if (typeof issuer !== 'string' || issuer === '') throw new AuthplaneConfigError('issuer is required')
  let issuerUrl: URL
  try {
    issuerUrl = new URL(issuer)
  } catch (cause) {
    throw new AuthplaneConfigError(`issuer ${JSON.stringify(issuer)} is not an absolute URL`, cause)
  }
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') {
    throw new AuthplaneConfigError(`issuer ${JSON.stringify(issuer)} must be an http(s) URL`)
  }
  // RFC 8414 §2: the issuer has no query or fragment component.
  if (issuerUrl.search !== '' || issuerUrl.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    throw new AuthplaneConfigError(`issuer ${JSON.stringify(issuer)} must not contain a query or fragment`)
  }
  const allowInsecureHttp = options.allowInsecureHttp ?? LOOPBACK_HOSTS.has(issuerUrl.hostname)
  // RFC 8414 §2 requires https; plain http is a development-mode convenience only (contract §4).
  if (issuerUrl.protocol === 'http:' && !allowInsecureHttp) {
    throw new AuthplaneConfigError(
      `issuer ${JSON.stringify(issuer)} uses http://, which is only allowed in development mode ` +
        `(a localhost issuer, or allowInsecureHttp: true)`,
    )
  }
  const {clientId, clientSecret} = options.auth ?? {}
  if (typeof clientId !== 'string' || clientId === '') throw new AuthplaneConfigError('auth.clientId is required')
  if (typeof clientSecret !== 'string' || clientSecret === '') {
    throw new AuthplaneConfigError(
      'auth.clientSecret is required for client_credentials (a client registered with ' +
        'token_endpoint_auth_method "none" has no secret and gets invalid_client)',
    )
  }
  const authMethod = options.auth.method ?? 'client_secret_basic'
  if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') {
    throw new AuthplaneConfigError(`unsupported auth.method ${JSON.stringify(authMethod)}`)
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new AuthplaneConfigError('timeoutMs must be a positive number')
  const now = options.now ?? Date.now
  return {
    issuer,
    issuerUrl,
    clientId,
    clientSecret,
    authMethod,
    allowInsecureHttp,
    timeoutMs,
    cache: options.cache ?? new MemoryTokenCache(),
    breaker: options.breaker ?? new CircuitBreaker({now}),
    now,
    onRequest: options.onRequest,
    requireJwksUri: options.requireJwksUri ?? true,
    dpop: options.dpop,
  }
}

async function discover(settings: ResolvedSettings): Promise<AuthorizationServerMetadata> {
  const metadataUrl = discoveryUrl(settings.issuerUrl)
  const ctx: RequestContext = {what: 'Discovery', url: metadataUrl, timeoutMs: settings.timeoutMs}
  // Discovery is not breaker-guarded in the SDK: it neither waits for nor feeds the breaker.
  return unguarded(ctx, async () => {
    // RFC 8414 §3.1 path insertion ('oauth2'); no OpenID Connect fallback (contract §4), and
    // oauth4webapi sends `redirect: 'manual'`, so a 3xx arrives here as a response, not followed.
    const response = await oauth.discoveryRequest(settings.issuerUrl, {
      algorithm: 'oauth2',
      signal: AbortSignal.timeout(settings.timeoutMs),
      [oauth.customFetch]: observingFetch(settings.onRequest),
      [oauth.allowInsecureRequests]: settings.allowInsecureHttp,
    })
    const text = await response.text()
    if (response.status !== 200) {
      if (response.status >= 300 && response.status < 400) throw redirectError(ctx, response)
      if (response.status >= 500) throw errorFromResponse(ctx, response, text)
      const parsed = parseJson(text)
      const {description} = parsed.ok ? oauthFields(parsed.value) : {description: undefined}
      throw new AuthplaneProtocolError(
        `${ctx.what} failed: GET ${metadataUrl} answered HTTP ${response.status}` +
          (description ? `: ${description}` : '') +
          `. Authplane serves RFC 8414 metadata at exactly this URL; OpenID discovery is not tried. ` +
          `Check the issuer URL.`,
        {statusCode: response.status, description},
      )
    }
    const parsed = parseJson(text)
    if (!parsed.ok || !isJsonObject(parsed.value)) {
      throw new AuthplaneProtocolError(
        `${ctx.what} failed: ${metadataUrl} did not return a JSON object (content-type ` +
          `${JSON.stringify(response.headers.get('content-type'))})`,
        {statusCode: 200},
      )
    }
    const document = parsed.value
    // RFC 8414 §3.3 + contract §4: the issuer must be the configured string, as Authplane's SDKs
    // compare it: one trailing slash is not a difference, anything else is (./issuer.ts).
    // oauth4webapi compares normalised URLs (`http://h:1` and `http://h:1/` alike, but not
    // `/x` and `/x/`), so our rule decides and oauth4webapi checks the rest against the
    // document's own issuer.
    if (!sameIssuer(document['issuer'], settings.issuer)) {
      throw new AuthplaneIssuerMismatchError(settings.issuer, document['issuer'], metadataUrl)
    }
    try {
      await oauth.processDiscoveryResponse(new URL(document['issuer'] as string), jsonResponse(text))
    } catch (cause) {
      throw new AuthplaneProtocolError(`${ctx.what} failed: ${describe(cause)}`, {statusCode: 200, cause})
    }
    // RFC 8414 §2: token_endpoint (required for this grant) and jwks_uri are absolute URLs.
    checkEndpoint(document, 'token_endpoint', settings.allowInsecureHttp, metadataUrl)
    if (settings.requireJwksUri || document['jwks_uri'] !== undefined) {
      checkEndpoint(document, 'jwks_uri', settings.allowInsecureHttp, metadataUrl)
    }
    return document as AuthorizationServerMetadata
  })
}

function checkEndpoint(
  document: Record<string, unknown>,
  name: 'token_endpoint' | 'jwks_uri',
  allowInsecureHttp: boolean,
  metadataUrl: string,
): void {
  const value = document[name]
  if (typeof value !== 'string' || value === '') {
    throw new AuthplaneProtocolError(`The metadata at ${metadataUrl} has no "${name}" (RFC 8414 §2)`, {statusCode: 200})
  }
  let url: URL
  try {
    url = new URL(value)
  } catch (cause) {
    throw new AuthplaneProtocolError(
      `The metadata at ${metadataUrl} has "${name}" ${JSON.stringify(value)}, which is not an absolute URL (RFC 8414 §2)`,
      {statusCode: 200, cause},
    )
  }
  if (url.protocol === 'https:') return
  if (url.protocol === 'http:') {
    if (allowInsecureHttp) return
    throw new AuthplaneProtocolError(
      `The metadata at ${metadataUrl} has an http:// "${name}" (${value}); http is only allowed in development mode`,
      {statusCode: 200},
    )
  }
  throw new AuthplaneProtocolError(
    `The metadata at ${metadataUrl} has "${name}" ${JSON.stringify(value)} with an unsupported scheme`,
    {statusCode: 200},
  )
}

/** Contract §4 response checks, on the raw JSON (oauth4webapi lower-cases token_type and parses string expires_in). */
async function parseTokenResponse(
  ctx: RequestContext,
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  text: string,
  contentType: string | null,
): Promise<Omit<TokenResult, 'fromCache'>> {
  const parsed = parseJson(text)
  if (!parsed.ok || !isJsonObject(parsed.value)) {
    throw new AuthplaneProtocolError(
      `${ctx.what} failed: ${ctx.url} answered 200 with a body that is not a JSON object ` +
        `(content-type ${JSON.stringify(contentType)}, RFC 6749 §5.1)`,
      {statusCode: 200},
    )
  }
  const raw = parsed.value
  const fail = (detail: string): never => {
    throw new AuthplaneProtocolError(`${ctx.what} failed: invalid token response from ${ctx.url}: ${detail}`, {
      statusCode: 200,
    })
  }
  const accessToken = raw['access_token']
  const tokenType = raw['token_type']
  const expiresIn = raw['expires_in']
  const scope = raw['scope']
  // RFC 6749 §5.1: access_token and token_type are required.
  if (typeof accessToken !== 'string' || accessToken === '') fail('"access_token" must be a non-empty string')
  if (typeof tokenType !== 'string' || tokenType === '') fail('"token_type" must be a non-empty string')
  // Contract §4: exactly "Bearer" (RFC 6750) or "DPoP" (RFC 9449), case-sensitive.
  if (tokenType !== 'Bearer' && tokenType !== 'DPoP') fail(`"token_type" is ${JSON.stringify(tokenType)}, expected "Bearer" or "DPoP"`)
  // RFC 6749 §5.1 / contract §4: expires_in, when present, is a non-negative JSON integer.
  if (expiresIn !== undefined && !(typeof expiresIn === 'number' && Number.isSafeInteger(expiresIn) && expiresIn >= 0)) {
    fail(`"expires_in" is ${JSON.stringify(expiresIn)}, expected a non-negative integer number of seconds`)
  }
  // RFC 6749 §5.1: scope is a space-delimited string.
  if (scope !== undefined && typeof scope !== 'string') fail('"scope" must be a string')

  // oauth4webapi's own RFC 6749 §5.1 processing as a second line of checks (on a copy of the body).
  try {
    await oauth.processClientCredentialsResponse(as, client, jsonResponse(text))
  } catch (cause) {
    throw new AuthplaneProtocolError(`${ctx.what} failed: ${describe(cause)}`, {statusCode: 200, cause})
  }

  const result: Omit<TokenResult, 'fromCache'> = {
    accessToken: accessToken as string,
    tokenType: tokenType as 'Bearer' | 'DPoP',
    raw,
  }
  if (expiresIn !== undefined) result.expiresIn = expiresIn as number
  if (scope !== undefined) result.scope = scope as string
  return result
}

/**
 * RFC 6749 §5.2 error responses. Authplane sends `application/problem+json` carrying `error` and
 * `error_description` (contract §3); plain `application/json` is parsed the same way.
 */
function errorFromResponse(ctx: RequestContext, response: Response, text: string): AuthplaneError {
  const status = response.status
  if (status >= 300 && status < 400) return redirectError(ctx, response)
  const parsed = parseJson(text)
  const {error, description, consentUrl} = parsed.ok ? oauthFields(parsed.value) : {error: undefined, description: undefined, consentUrl: undefined}
  const summary =
    `${ctx.what} to ${ctx.url} failed with HTTP ${status}` +
    (error ? ` ${error}` : '') +
    (description ? `: ${description}` : '')
  if (status >= 500) {
    return new AuthplaneServerError(summary, {statusCode: status, description, oauthError: error})
  }
  if (error !== undefined) {
    if ((CONSENT_ERROR_CODES as readonly string[]).includes(error)) {
      return new AuthplaneConsentRequiredError(summary + (consentUrl ? ` (consent at ${consentUrl})` : ''), {
        statusCode: status,
        description,
        oauthError: error,
        consentUrl,
      })
    }
    return new AuthplaneOAuthError(summary, {statusCode: status, description, oauthError: error})
  }
  const snippet = text.length > 200 ? `${text.slice(0, 200)}...` : text
  return new AuthplaneProtocolError(
    `${summary} and no OAuth "error" in the body (content-type ${JSON.stringify(response.headers.get('content-type'))}` +
      (snippet ? `, body ${JSON.stringify(snippet)}` : '') +
      ')',
    {statusCode: status},
  )
}

function redirectError(ctx: RequestContext, response: Response): AuthplaneProtocolError {
  const location = response.headers.get('location')
  return new AuthplaneProtocolError(
    `${ctx.what} failed: ${ctx.url} answered HTTP ${response.status} redirect` +
      (location ? ` to ${location}` : '') +
      '; redirects are not followed (use the exact issuer URL the server announces)',
    {statusCode: response.status},
  )
}

function oauthFields(body: unknown): {error?: string; description?: string; consentUrl?: string} {
  if (!isJsonObject(body)) return {}
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
  return {
    error: str(body['error']),
    // problem+json (RFC 9457) carries `detail`; prefer the OAuth field when both exist.
    description: str(body['error_description']) ?? str(body['detail']),
    consentUrl: str(body['consent_url']),
  }
}

/** Runs one HTTP exchange under the error mapping of contract §4 only (no breaker). */
async function unguarded<T>(ctx: RequestContext, op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (thrown) {
    if (thrown instanceof ObserverFailure) throw thrown.cause
    throw mapThrown(ctx, thrown)
  }
}

/** Runs one HTTP exchange under the breaker and the error mapping of contract §4. */
async function guarded<T>(breaker: CircuitBreaker, ctx: RequestContext, op: () => Promise<T>): Promise<T> {
  breaker.acquire()
  let result: T
  try {
    result = await op()
  } catch (thrown) {
    if (thrown instanceof ObserverFailure) {
      breaker.recordNeutral()
      throw thrown.cause
    }
    const err = mapThrown(ctx, thrown)
    if (countsTowardBreaker(err)) breaker.recordFailure()
    else breaker.recordNeutral()
    throw err
  }
  breaker.recordSuccess()
  return result
}

function mapThrown(ctx: RequestContext, thrown: unknown): AuthplaneError {
  if (thrown instanceof AuthplaneError) return thrown
  if (isTimeout(thrown)) {
    return new AuthplaneTimeoutError(
      `${ctx.what} to ${ctx.url} timed out after ${ctx.timeoutMs} ms`,
      ctx.timeoutMs,
      thrown,
    )
  }
  if (thrown instanceof oauth.OperationProcessingError || thrown instanceof oauth.UnsupportedOperationError) {
    return new AuthplaneProtocolError(`${ctx.what} failed: ${thrown.message}`, {cause: thrown})
  }
  return new AuthplaneNetworkError(`${ctx.what} could not reach ${ctx.url}: ${describe(thrown)}`, thrown)
}

function isTimeout(err: unknown): boolean {
  const name = (e: unknown) => (typeof e === 'object' && e !== null ? (e as {name?: unknown}).name : undefined)
  const n = name(err)
  const c = typeof err === 'object' && err !== null ? name((err as {cause?: unknown}).cause) : undefined
  return n === 'TimeoutError' || n === 'AbortError' || c === 'TimeoutError'
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause as {code?: unknown; message?: unknown} | undefined
  if (cause && typeof cause === 'object') {
    const code = typeof cause.code === 'string' ? cause.code : undefined
    const message = typeof cause.message === 'string' ? cause.message : undefined
    if (code || message) return `${err.message} (${[code, message].filter(Boolean).join(': ')})`
  }
  return err.message
}

/** The `customFetch` given to oauth4webapi: shows the exact request to the observer, then sends it. */
function observingFetch(onRequest: ((req: ObservedRequest) => void) | undefined) {
  return async (url: string, init: oauth.CustomFetchOptions<string, unknown>): Promise<Response> => {
    const body = init.body instanceof URLSearchParams ? init.body.toString() : (init.body as string | undefined)
    if (onRequest) {
      const observed: ObservedRequest = {method: init.method, url, headers: {...init.headers}}
      if (body !== undefined) observed.body = body
      try {
        onRequest(observed)
      } catch (cause) {
        throw new ObserverFailure('onRequest observer failed', {cause})
      }
    }
    const requestInit: RequestInit = {method: init.method, headers: init.headers, redirect: init.redirect}
    if (body !== undefined) requestInit.body = body
    if (init.signal !== undefined) requestInit.signal = init.signal
    return httpFetch(url, requestInit)
  }
}

function parseJson(text: string): ParsedBody {
  try {
    return {ok: true, value: JSON.parse(text) as unknown}
  } catch {
    return {ok: false}
  }
}

function jsonResponse(text: string): Response {
  return new Response(text, {status: 200, headers: {'content-type': 'application/json'}})
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
