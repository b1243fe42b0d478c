import type {IncomingMessage, ServerResponse} from 'node:http'
import {GRANT_JWT_BEARER, GRANT_TOKEN_EXCHANGE, goQuote} from './client-rules.js'
import type {ServerContext} from './context.js'
import {DpopError, verifyDpopProof} from './dpop.js'
import {BodyTooLargeError, formDecode, goJson, mediaType, methodMatches, parseForm, pathOf, readBody, send, sendGoMethodNotAllowed, sendGoNotFound, sendJson, statusText, type Headers} from './http.js'
import {clientIp} from './ratelimit.js'
import {register, RegistrationError} from './register.js'
import {browserRoute} from './browser.js'
import {applyCors} from './cors.js'
import {userGrant} from './grants.js'
import type {Client} from './store.js'

const TOKEN_BODY_LIMIT = 64 * 1024
export const NO_STORE: Headers = {'Cache-Control': 'no-store', Pragma: 'no-cache'}
const METADATA_CACHE: Headers = {'Cache-Control': 'public, max-age=3600'}
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/
// Grants the real server knows but serves only when switched on (off by default, as here).
const DISABLED_GRANTS: Record<string, string> = {
  [GRANT_TOKEN_EXCHANGE]: 'feature token_exchange is disabled (set token_exchange.enabled=true to enable)',
  [GRANT_JWT_BEARER]: 'feature jwt_bearer is disabled (set xaa.enabled=true to enable)',
}

/** An RFC 6749 §5.2 error, which the real server wraps in problem+json (both member sets present). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Headers = {},
  ) {
    super(description)
  }
}

function sendOAuthError(res: ServerResponse, e: OAuthError): void {
  const body = {
    error: e.error,
    error_description: e.description,
    type: `https://docs.authplane.ai/errors/${e.error}`,
    title: statusText(e.status),
    detail: e.description,
    status: e.status,
  }
  // Like the real server's WriteOAuthError: no Cache-Control on errors (only successes are no-store).
  send(res, e.status, 'application/problem+json', goJson(body), e.headers)
}

export function invalidRequest(description: string): OAuthError {
  return new OAuthError(400, 'invalid_request', description)
}

// RFC 6749 §5.2: a failed client authentication is 401 with a challenge naming the scheme the
// client should use; the realm is the real server's.
export function invalidClient(description = 'client authentication failed'): OAuthError {
  return new OAuthError(401, 'invalid_client', description, {'WWW-Authenticate': 'Basic realm="authserver"'})
}

export function first(form: Map<string, string[]>, name: string): string | undefined {
  return form.get(name)?.[0]
}

/**
 * The request's parameters as Go's `r.ParseForm()` + `r.FormValue()` see them in the real
 * server: the body counts only when it is application/x-www-form-urlencoded (any other or no
 * content type leaves it unread, without an error); the URL query is merged after the body, so a
 * body value wins; a malformed or oversized (> 64 KiB) body is 400 "invalid form body".
 */
async function readForm(req: IncomingMessage): Promise<Map<string, string[]>> {
  const form = new Map<string, string[]>()
  if (mediaType(req.headers['content-type']) === 'application/x-www-form-urlencoded') {
    let raw: Buffer
    try {
      raw = await readBody(req, TOKEN_BODY_LIMIT)
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw invalidRequest('invalid form body')
      throw err
    }
    const body = parseForm(raw.toString('utf8'))
    if (body === undefined) throw invalidRequest('invalid form body')
    for (const [k, v] of body) form.set(k, [...v])
  } else {
    req.resume()
  }
  const url = req.url ?? ''
  const q = url.indexOf('?')
  if (q !== -1) {
    const query = parseForm(url.slice(q + 1))
    if (query === undefined) throw invalidRequest('invalid form body')
    for (const [k, v] of query) form.set(k, [...(form.get(k) ?? []), ...v])
  }
  return form
}

/**
 * The client's credentials as the real server extracts them (api/public/oauth/handlers.go
 * ExtractClientAuth): an `Authorization: Basic` header that decodes to `id:secret` wins (each
 * half form-unescaped, `+` is a space; a bad escape yields no credentials at all); otherwise the
 * `client_id`/`client_secret` form parameters.
 */
export function extractClientAuth(req: IncomingMessage, form: Map<string, string[]>): {id: string; secret: string} {
  const auth = req.headers.authorization
  if (auth !== undefined && auth.startsWith('Basic ')) {
    const b64 = auth.slice(6)
    // Go's StdEncoding is strict: padded, canonical alphabet.
    if (b64.length % 4 === 0 && BASE64_RE.test(b64)) {
      const decoded = Buffer.from(b64, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon !== -1) {
        try {
          return {id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1))}
        } catch {
          return {id: '', secret: ''}
        }
      }
    }
  }
  return {id: first(form, 'client_id') ?? '', secret: first(form, 'client_secret') ?? ''}
}

/**
 * Client authentication in the real server's order (internal/services/client_credentials.go):
 * missing id or secret, unknown id, then status (a suspended or revoked client is told so even
 * with a wrong secret), then public client, then the secret. All are 401 invalid_client.
 */
function authenticateClient(ctx: ServerContext, req: IncomingMessage, form: Map<string, string[]>): Client {
  const {id, secret} = extractClientAuth(req, form)
  if (id === '' || secret === '') throw invalidClient()
  const client = ctx.store.clientById(id)
  if (client === undefined) throw invalidClient()
  if (client.status !== 'active') throw invalidClient('client is suspended or revoked')
  if (client.secret_hash === null || !ctx.hasher.verify(secret, client.secret_hash)) throw invalidClient()
  return client
}

const INVALID_SCOPE_TEXT = 'the requested scope is invalid or not allowed'

/** The real server's reason for a request beyond the ceiling; it depends on how the client came to be (svc/client_credentials.go). */
function scopeDenial(client: Client, ceiling: ReadonlySet<string>): string {
  if (ceiling.size > 0) return `${INVALID_SCOPE_TEXT}: the requested scope exceeds the client's registered scopes`
  const delegatedOnly = client.grant_types.every((g) => g === 'authorization_code' || g === 'refresh_token')
  if (client.registration_source === 'dcr' && !delegatedOnly) {
    return `${INVALID_SCOPE_TEXT}: this client was created through dynamic registration, which issues user-delegated clients only; machine-to-machine clients must be pre-registered through the admin API`
  }
  if (client.registration_source === 'dcr') {
    return `${INVALID_SCOPE_TEXT}: this client has no registered scopes; dynamically registered clients are assigned oauth.default_client_scope when they register, so re-register the client or grant scopes with PATCH /admin/clients/{client_id}`
  }
  return `${INVALID_SCOPE_TEXT}: the client has no registered scopes; grant them with PATCH /admin/clients/{id}`
}

function grantScopes(client: Client, requestedRaw: string | undefined, catalog: readonly string[] | undefined): string[] {
  const ceiling = new Set(client.scope.split(' ').filter((s) => s !== ''))
  const requested = [...new Set((requestedRaw ?? '').split(' ').filter((s) => s !== ''))]
  let granted: string[]
  if (requested.length > 0) {
    if (requested.some((s) => !ceiling.has(s))) throw new OAuthError(400, 'invalid_scope', scopeDenial(client, ceiling))
    if (catalog !== undefined) {
      for (const s of requested) {
        if (!catalog.includes(s)) throw new OAuthError(400, 'invalid_scope', `scope "${s}" is not declared by the target resource`)
      }
    }
    granted = requested
  } else if (catalog !== undefined) {
    granted = catalog.filter((s) => ceiling.has(s))
    if (granted.length === 0) {
      throw new OAuthError(400, 'invalid_scope', "no scope requested and none of the client's registered scopes is declared by the target resource")
    }
  } else {
    granted = [...ceiling]
  }
  return granted.sort()
}

async function token(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ctx.stats.tokenRequests++
  // RFC 9449 §8: every token-endpoint answer, success or error, offers a fresh nonce.
  res.setHeader('DPoP-Nonce', ctx.dpop.issueNonce())
  const form = await readForm(req)
  const grantType = first(form, 'grant_type') ?? ''
  const disabled = DISABLED_GRANTS[grantType]
  if (disabled !== undefined) throw new OAuthError(400, 'unsupported_grant_type', disabled)
  if (grantType === 'authorization_code' || grantType === 'refresh_token') return userGrant(ctx, req, res, form, grantType)
  if (grantType !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${goQuote(grantType)} is not supported`)
  }
  const client = authenticateClient(ctx, req, form)
  if (!client.grant_types.includes('client_credentials')) {
    throw new OAuthError(400, 'unauthorized_client', 'client is not authorized for this grant type')
  }
  // RFC 8707 §2: exact string match against registered resource URIs; only the first value is
  // used (the real server ignores the rest). Without a resource the token is audience-bound to
  // the issuer itself, which resource servers reject: that is the point.
  // The real server checks the requested scopes against the client's ceiling before it looks at
  // the resource, so a request wrong on both counts is invalid_scope.
  grantScopes(client, first(form, 'scope'), undefined)
  const resource = first(form, 'resource')
  let audience = ctx.issuer
  let catalog: string[] | undefined
  if (resource !== undefined) {
    const r = ctx.store.resourceScopesByUri(resource)
    if (r === undefined) throw new OAuthError(400, 'invalid_target', `resource "${resource}" is not a registered resource`)
    audience = resource
    catalog = r.scopeNames
  }
  const scopes = grantScopes(client, first(form, 'scope'), catalog)

  const jkt = await dpopThumbprint(ctx, req)
  const minted = ctx.minter.mint({clientId: client.id, audience, scopes, jkt})
  ctx.store.recordToken({jti: minted.jti, client_id: client.id, aud: audience, scope: scopes.join(' '), iat: minted.iat, exp: minted.exp, cnf_jkt: jkt ?? null, revoked: 0})
  ctx.stats.tokensIssued++
  const body = goJson({access_token: minted.jwt, token_type: jkt === undefined ? 'Bearer' : 'DPoP', expires_in: ctx.tokenTtlSeconds, scope: scopes.join(' ')})
  send(res, 200, 'application/json', body, NO_STORE)
}

/**
 * RFC 9449: the thumbprint of the key a valid DPoP proof at the token endpoint binds the token to
 * (`cnf.jkt`), or undefined when the request carries no proof. Every grant goes through here.
 */
export async function dpopThumbprint(ctx: ServerContext, req: IncomingMessage): Promise<string | undefined> {
  // Like Go's Header.Get: the first DPoP header counts.
  const proof = req.headersDistinct.dpop?.[0]
  if (proof === undefined || proof === '') return undefined
  try {
    const verified = await verifyDpopProof(proof, [`${ctx.issuer}/oauth/token`, `${ctx.publicUrl}/oauth/token`], ctx.dpop.settings.proofLifetimeSeconds)
    ctx.dpop.accept(verified)
    return verified.jkt
  } catch (err) {
    if (err instanceof DpopError) throw new OAuthError(400, err.error, err.message)
    throw err
  }
}

/** RFC 7662 view of a token for `caller`, or undefined when the caller may not see it as active. */
function inspect(ctx: ServerContext, tokenValue: string, caller: Client): Record<string, unknown> | undefined {
  const verified = ctx.signer.verify(tokenValue)
  if (verified === undefined) return undefined
  const c = verified.payload
  const nowS = Math.floor(Date.now() / 1000)
  if (c.iss !== ctx.issuer || typeof c.jti !== 'string' || typeof c.exp !== 'number' || c.exp <= nowS) return undefined
  if (typeof c.nbf === 'number' && c.nbf > nowS + 30) return undefined
  const row = ctx.store.tokenByJti(c.jti)
  if (row === undefined || row.revoked !== 0) return undefined
  const owner = ctx.store.clientById(row.client_id)
  if (owner === undefined || owner.status !== 'active') return undefined
  if (caller.id !== row.client_id && !ctx.store.runtimeAllowed(row.aud, caller.id)) return undefined
  // The real server's IntrospectResponse: `aud` a single string, empty members omitted, no nbf.
  const view: Record<string, unknown> = {active: true}
  if (row.scope !== '') view.scope = row.scope
  Object.assign(view, {client_id: row.client_id, sub: c.sub, aud: row.aud, iss: c.iss, exp: c.exp, iat: c.iat, jti: c.jti,
    // RFC 9449 §6.2: a DPoP-bound token introspects with token_type DPoP and its cnf.
    token_type: row.cnf_jkt === null ? 'Bearer' : 'DPoP'})
  if (row.cnf_jkt !== null) view.cnf = {jkt: row.cnf_jkt}
  return view
}

async function introspect(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req)
  // The real handler wants the token before it looks at the client.
  const value = first(form, 'token')
  if (value === undefined || value === '') throw invalidRequest('token parameter is required')
  let caller: Client
  try {
    caller = authenticateClient(ctx, req, form)
  } catch {
    throw invalidClient()
  }
  // RFC 7662 §2.2: anything the caller may not see is simply inactive, with no reason given.
  sendJson(res, 200, inspect(ctx, value, caller) ?? {active: false})
}

async function revoke(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req)
  const value = first(form, 'token')
  if (value === undefined || value === '') throw invalidRequest('token parameter is required')
  const caller = authenticateClient(ctx, req, form)
  // RFC 7009 §2.2: unknown, invalid or foreign tokens still get 200, so the endpoint cannot be
  // used to probe which tokens exist. Only the client the token was issued to can revoke it.
  const verified = ctx.signer.verify(value)
  const jti = verified?.payload.jti
  if (typeof jti === 'string') {
    const row = ctx.store.tokenByJti(jti)
    if (row !== undefined && row.client_id === caller.id) ctx.store.revokeToken(jti)
  }
  res.writeHead(200, {'Content-Length': 0})
  res.end()
}

/** RFC 8414 metadata, member for member in the order of the real server's asMetadata. */
function metadata(ctx: ServerContext): Record<string, unknown> {
  const iss = ctx.issuer
  const doc: Record<string, unknown> = {
    issuer: iss,
    authorization_endpoint: `${iss}/oauth/authorize`,
    token_endpoint: `${iss}/oauth/token`,
    registration_endpoint: `${iss}/oauth/register`,
    revocation_endpoint: `${iss}/oauth/revoke`,
    introspection_endpoint: `${iss}/oauth/introspect`,
    jwks_uri: `${iss}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    // Only what this server really does at the token endpoint is announced, in the real
    // server's order.
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
  }
  // Union of every resource's scope names in registration order, omitted when empty.
  const scopes = ctx.store.allScopeNames()
  if (scopes.length > 0) doc.scopes_supported = scopes
  doc.resource_indicators_supported = true
  // client_id_metadata_document_supported is left out: the embedded server has no CIMD.
  doc.dpop_signing_alg_values_supported = ['ES256', 'RS256', 'PS256']
  return doc
}

/** RFC 3339 in whole seconds, UTC, as Go's time.RFC3339 prints it. */
function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function health(ctx: ServerContext, res: ServerResponse, okWord: string, badWord: string): void {
  let ok: boolean
  try {
    ok = ctx.store.ping()
  } catch {
    ok = false
  }
  sendJson(res, ok ? 200 : 503, {status: ok ? okWord : badWord, time: rfc3339(), db: ok ? 'ok' : 'error'})
}

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = pathOf(req.url)
  const method = req.method ?? 'GET'
  // Like the real server's Go ServeMux: each route has one method; others get a plain-text 405.
  const post = POST_ROUTES[path]
  if (post !== undefined) {
    if (method !== 'POST') return sendGoMethodNotAllowed(res, ['POST'])
    return post(ctx, req, res)
  }
  const readOnly = (): boolean => {
    if (methodMatches(method, ['GET'])) return true
    sendGoMethodNotAllowed(res, ['GET'])
    return false
  }
  switch (path) {
    case '/.well-known/oauth-authorization-server':
    case '/.well-known/openid-configuration':
      if (readOnly()) sendJson(res, 200, metadata(ctx), METADATA_CACHE)
      return
    case '/.well-known/jwks.json':
      if (readOnly()) sendJson(res, 200, {keys: [ctx.signer.key.publicJwk]}, {'Cache-Control': 'public, max-age=3600'})
      return
    case '/livez':
      if (readOnly()) sendJson(res, 200, {status: 'alive', time: rfc3339()})
      return
    case '/health':
      if (readOnly()) health(ctx, res, 'ok', 'degraded')
      return
    case '/ready':
      if (readOnly()) health(ctx, res, 'ready', 'not_ready')
      return
  }
  if (await browserRoute(ctx, req, res, path)) return
  sendGoNotFound(res)
}

const POST_ROUTES: Record<string, (ctx: ServerContext, req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
  '/oauth/token': token,
  '/oauth/introspect': introspect,
  '/oauth/revoke': revoke,
  '/oauth/register': register,
}

// Set on every public response by the real server's SecurityHeaders middleware.
const SECURITY_HEADERS: Headers = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

export function publicHandler(ctx: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
    // Throughput limit per client address, ahead of every route (discovery and health included).
    if (ctx.limits.public !== undefined && !ctx.limits.public.allow(clientIp(req))) {
      req.resume()
      return sendOAuthError(res, new OAuthError(429, 'slow_down', 'rate limit exceeded', {'Retry-After': '1'}))
    }
    if (applyCors(ctx.corsOrigins, pathOf(req.url), req, res)) return
    route(ctx, req, res).catch((err: unknown) => {
      if (err instanceof OAuthError) return sendOAuthError(res, err)
      if (err instanceof RegistrationError) return sendOAuthError(res, new OAuthError(err.status, err.error, err.description))
      console.error('[authserver] request failed:', err)
      sendOAuthError(res, new OAuthError(500, 'server_error', 'internal error'))
    })
  }
}
