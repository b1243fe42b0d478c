import {randomBytes} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {BrowserSessions, LOGIN_NONCE_COOKIE, SESSION_COOKIE} from './browser-session.js'
import type {ServerContext} from './context.js'
import {CODE_TTL_SECONDS, newOpaqueToken, sha256} from './grants.js'
import {consentPage, escapeHtml, loginPage, sendErrorPage, sendPage} from './html.js'
import {BodyTooLargeError, mediaType, methodMatches, parseForm, readBody, sendGoMethodNotAllowed, type Headers} from './http.js'
import {verifyPassword} from './passwords.js'
import {clientIp, MAX_IDENTITY_LENGTH, retryAfterSeconds} from './ratelimit.js'
import type {Client, Resource} from './store.js'
import type {AuthSession, User} from './user-store.js'

// The interactive half of the authorization server: GET /oauth/authorize (RFC 6749 §4.1.1 with
// PKCE and RFC 8707 resources), the login and consent pages, and logout. Status codes, page
// titles and messages are the real server's.

const FORM_LIMIT = 64 * 1024

function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, {Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0, ...headers})
  res.end()
}

/** A same-origin path to continue to after login; anything else (`//host`, `https:`) becomes `/`. */
export function safeRedirect(target: string | undefined, fallback = '/'): string {
  if (target === undefined) return fallback
  const t = target.trim()
  if (!t.startsWith('/') || t.startsWith('//') || t.startsWith('/\\') || /[\r\n]/.test(t)) return fallback
  return t
}

async function readBrowserForm(req: IncomingMessage): Promise<Map<string, string[]> | undefined> {
  if (mediaType(req.headers['content-type']) !== 'application/x-www-form-urlencoded') return undefined
  try {
    return parseForm((await readBody(req, FORM_LIMIT)).toString('utf8'))
  } catch (err) {
    if (err instanceof BodyTooLargeError) return undefined
    throw err
  }
}

function value(form: Map<string, string[]>, name: string): string | undefined {
  return form.get(name)?.[0]
}

/** The signed-in user (the cookie is valid and the user still exists), with the raw cookie. */
function currentUser(ctx: ServerContext, req: IncomingMessage): {user: User; cookie: string} | undefined {
  const s = ctx.browser.session(req)
  if (s === undefined) return undefined
  const user = ctx.users.userById(s.userId)
  return user === undefined ? undefined : {user, cookie: s.cookie}
}

/** Like the real server's Go ServeMux: a route's other methods get its plain-text 405. */
function allowed(req: IncomingMessage, res: ServerResponse, methods: string[]): boolean {
  if (methodMatches(req.method ?? 'GET', methods)) return true
  sendGoMethodNotAllowed(res, methods)
  return false
}

// --- redirect_uri matching ---------------------------------------------------------------------

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Exact string match (RFC 9700 §4.1.3), except that a registered loopback redirect matches any
 * port (RFC 8252 §7.3: native apps listen on an ephemeral port). Scheme, host, path and query must
 * still be identical.
 */
export function redirectUriRegistered(client: Client, uri: string): boolean {
  if (client.redirect_uris.includes(uri)) return true
  let u: URL
  try {
    u = new URL(uri)
  } catch {
    return false
  }
  if (!LOOPBACK.has(u.hostname) || u.username !== '' || u.password !== '' || u.hash !== '') return false
  return client.redirect_uris.some((r) => {
    try {
      const x = new URL(r)
      return LOOPBACK.has(x.hostname) && x.protocol === u.protocol && x.hostname === u.hostname && x.pathname === u.pathname && x.search === u.search
    } catch {
      return false
    }
  })
}

function withParams(redirectUri: string, params: Record<string, string>): string {
  const u = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== '') u.searchParams.set(k, v)
  return u.toString()
}

// --- resources and scopes ------------------------------------------------------------------------

type Resolved = {resource: Resource} | {error: 'Unknown Resource' | 'Ambiguous Resource'}

/** RFC 8707 `resource` as the real server resolves it: a registered URI (unique), else a slug. */
function resolveResource(ctx: ServerContext, given: string): Resolved {
  const byUri = ctx.store.resourcesByUri(given)
  if (byUri.length > 1) return {error: 'Ambiguous Resource'}
  const r = byUri[0] ?? ctx.store.resourceBySlug(given.toLowerCase())
  return r === undefined ? {error: 'Unknown Resource'} : {resource: r}
}

const RESOURCE_PAGES = {
  'Unknown Resource': 'The requested resource is not registered with this authorization server.',
  'Ambiguous Resource': 'The resource identifier matches more than one resource. Use the resource slug to disambiguate.',
} as const

class ScopeError extends Error {}

function words(s: string): string[] {
  return [...new Set(s.split(' ').filter((w) => w !== ''))]
}

/**
 * The scope of an authorization request. Omitted: the resource's scopes (all resources' without
 * one) narrowed to the client's ceiling, because MCP clients commonly omit it. Present: within
 * the ceiling (when the client has one) and within the resource's catalog.
 */
function authorizeScope(ctx: ServerContext, client: Client, requested: string, resource: Resource | undefined): string {
  const ceiling = words(client.scope)
  let scope = words(requested)
  if (scope.length === 0) {
    const catalog = resource !== undefined ? resource.scopes.map((s) => s.name) : ctx.store.allScopeNames()
    scope = ceiling.length > 0 ? catalog.filter((s) => ceiling.includes(s)) : catalog
    if (scope.length === 0) {
      const reason = ceiling.length > 0
        ? "the client's registered scopes and the resource's scopes do not overlap"
        : resource === undefined ? 'no registered resource declares any scope' : 'the requested resource declares no scopes'
      throw new ScopeError(`no scope is available to this client on the requested resource: ${reason}`)
    }
  }
  if (ceiling.length > 0) {
    // The real server's scopeDenialError text, as at the token endpoint.
    if (scope.some((s) => !ceiling.includes(s))) throw new ScopeError("the requested scope exceeds the client's registered scopes")
  }
  if (resource !== undefined) {
    const names = resource.scopes.map((s) => s.name)
    if (names.length === 0) throw new ScopeError(`no scopes registered for resource "${resource.uri}"`)
    for (const s of scope) if (!names.includes(s)) throw new ScopeError(`scope "${s}" not allowed for resource "${resource.uri}"`)
  }
  return scope.join(' ')
}

function grantCovers(ctx: ServerContext, userId: string, clientId: string, resourceId: string, scope: string): boolean {
  const grant = ctx.users.liveGrant(userId, clientId, resourceId)
  return grant !== undefined && words(scope).every((s) => grant.scopes.includes(s))
}

/** Attaches a fresh code to the session and sends the browser back to the client with it. */
function completeAuthorization(ctx: ServerContext, res: ServerResponse, session: AuthSession, scope: string, userId: string): boolean {
  const code = newOpaqueToken()
  if (!ctx.users.issueCode(session.id, sha256(code), scope, userId)) return false
  redirect(res, withParams(session.redirect_uri, {code, state: session.state}))
  return true
}

// --- GET /oauth/authorize ------------------------------------------------------------------------

function authorize(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  if (!allowed(req, res, ['GET'])) return
  const q = new URL(req.url ?? '/', 'http://authorize.invalid').searchParams
  const param = (name: string): string => q.get(name) ?? ''

  // Until client and redirect_uri are known good, errors are shown here and never sent to the
  // redirect_uri, which could be an attacker's (RFC 6749 §4.1.2.1).
  if (param('response_type') !== 'code') {
    return sendErrorPage(res, 400, 'Authorization Error', 'The requested grant type or response type is not supported.')
  }
  const client = ctx.store.clientById(param('client_id'))
  if (client === undefined) return sendErrorPage(res, 400, 'Invalid Client', 'The client_id is not recognized.')
  if (client.status !== 'active') return sendErrorPage(res, 403, 'Client Suspended', 'This client has been suspended.')
  const redirectUri = param('redirect_uri')
  if (!redirectUriRegistered(client, redirectUri)) {
    return sendErrorPage(res, 400, 'Invalid Redirect URI', 'The redirect_uri does not match the client registration.')
  }
  const state = param('state')
  const toClient = (error: string, description: string): void => redirect(res, withParams(redirectUri, {error, error_description: description, state}))

  // OAuth 2.1 §4.1.1: PKCE is required, and only S256 (plain would leak the verifier).
  const challenge = param('code_challenge')
  if (challenge === '') return toClient('invalid_grant', 'PKCE verification failed: code_challenge is required')
  if (param('code_challenge_method') !== 'S256') {
    return toClient('invalid_grant', `PKCE verification failed: code_challenge_method must be S256 (got "${param('code_challenge_method')}")`)
  }

  let resource: Resource | undefined
  if (param('resource') !== '') {
    const resolved = resolveResource(ctx, param('resource'))
    if ('error' in resolved) return sendErrorPage(res, 400, resolved.error, RESOURCE_PAGES[resolved.error])
    resource = resolved.resource
  }
  let scope: string
  try {
    scope = authorizeScope(ctx, client, param('scope'), resource)
  } catch (err) {
    if (err instanceof ScopeError) return toClient('invalid_scope', `the requested scope is invalid or not allowed: ${err.message}`)
    throw err
  }

  const signedIn = currentUser(ctx, req)
  const nowS = Math.floor(Date.now() / 1000)
  const session: AuthSession = {
    id: randomBytes(16).toString('base64url'), client_id: client.id, user_id: signedIn?.user.id ?? '', redirect_uri: redirectUri, scope,
    // The canonical URI, not the slug the client may have sent: it becomes the token's audience.
    resource: resource?.uri ?? '', resource_id: resource?.id ?? '', state, code_challenge: challenge,
    code_hash: null, expires_at: nowS + CODE_TTL_SECONDS, consumed_at: null, created_at: nowS,
  }
  ctx.users.insertSession(session)
  if (signedIn === undefined) return redirect(res, `/login?redirect=${encodeURIComponent(req.url ?? '/')}`)
  // Consent is remembered per user, client and resource, and covers the scopes it named.
  if (resource === undefined || !grantCovers(ctx, signedIn.user.id, client.id, resource.id, scope)) {
    return redirect(res, `/consent?session_id=${encodeURIComponent(session.id)}`)
  }
  if (!completeAuthorization(ctx, res, session, scope, signedIn.user.id)) toClient('server_error', 'authorization failed')
}

// --- login and logout ----------------------------------------------------------------------------

function renderLogin(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, status: number, redirectTo: string, error?: string, email?: string, extra: Headers = {}): void {
  const {nonce, setCookie} = ctx.browser.ensureLoginNonce(req)
  const headers: Record<string, string> = {...extra}
  if (setCookie !== undefined) headers['Set-Cookie'] = setCookie
  sendPage(res, status, 'Sign in', loginPage({csrfToken: ctx.browser.loginCsrf(nonce), redirect: redirectTo, error, email}), headers)
}

const INVALID_REQUEST = 'Invalid request. Please try again.'
const INVALID_CREDENTIALS = 'Invalid email or password'

async function login(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowed(req, res, ['GET', 'POST'])) return
  if (req.method !== 'POST') {
    const redirectTo = new URL(req.url ?? '/', 'http://login.invalid').searchParams.get('redirect') ?? ''
    return renderLogin(ctx, req, res, 200, redirectTo)
  }
  const form = await readBrowserForm(req)
  // Every rejected submission is 422 with the form again: the caller is a browser, not an OAuth client.
  if (form === undefined) return renderLogin(ctx, req, res, 422, '', 'Invalid form data')
  const redirectTo = value(form, 'redirect') ?? ''
  const email = value(form, 'email') ?? ''
  // CSRF before a session exists: the form's token must be the one derived from this browser's
  // nonce cookie, which another site can neither read nor set.
  const nonce = ctx.browser.loginNonce(req)
  if (nonce === undefined || !ctx.browser.checkLoginCsrf(nonce, value(form, 'csrf_token'))) {
    return renderLogin(ctx, req, res, 422, redirectTo, INVALID_REQUEST)
  }
  if (email.length > MAX_IDENTITY_LENGTH) return renderLogin(ctx, req, res, 422, redirectTo, INVALID_CREDENTIALS)
  // A locked identity is refused before bcrypt, so blocked guesses cost the server nothing.
  const ip = clientIp(req)
  const lockedUntil = ctx.limits.lockout.lockedUntil(email, ip)
  if (lockedUntil !== undefined) {
    return renderLogin(ctx, req, res, 429, redirectTo, 'Too many failed attempts. Please try again later.', email, {'Retry-After': retryAfterSeconds(lockedUntil)})
  }
  const user = ctx.users.userByEmail(email)
  const passwordOk = await verifyPassword(value(form, 'password') ?? '', user?.password_hash)
  if (user === undefined || !passwordOk || user.status !== 'active') {
    const engaged = ctx.limits.lockout.recordFailure(email, ip)
    if (engaged !== undefined) console.error(`[authserver] login lockout engaged for ${ip} until ${new Date(engaged).toISOString()}`)
    return renderLogin(ctx, req, res, 422, redirectTo, INVALID_CREDENTIALS, email)
  }
  ctx.limits.lockout.reset(email, ip)
  redirect(res, safeRedirect(redirectTo), {'Set-Cookie': ctx.browser.sessionCookie(user.id)})
}

function logout(res: ServerResponse, req: IncomingMessage): void {
  if (!allowed(req, res, ['POST'])) return
  // The nonce goes too: on a shared browser the next person should not inherit the CSRF pair.
  redirect(res, '/login', {'Set-Cookie': [BrowserSessions.clearCookie(SESSION_COOKIE), BrowserSessions.clearCookie(LOGIN_NONCE_COOKIE)]})
}

function home(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  if (!allowed(req, res, ['GET'])) return
  const signedIn = currentUser(ctx, req)
  if (signedIn === undefined) return redirect(res, '/login')
  sendPage(res, 200, 'Signed in', `<h1>Signed in</h1>
<p>You are signed in as <strong>${escapeHtml(signedIn.user.email)}</strong>. Return to the application that sent you here.</p>
<form method="POST" action="/logout"><button type="submit" class="secondary">Sign out</button></form>`)
}

// --- consent -------------------------------------------------------------------------------------

/** A session that still waits for consent, with its client (and resource, when it names one). */
function pendingConsent(ctx: ServerContext, sessionId: string): {session: AuthSession; client: Client; resource?: Resource} | undefined {
  const session = sessionId === '' ? undefined : ctx.users.sessionById(sessionId)
  if (session === undefined || session.code_hash !== null || session.expires_at < Date.now() / 1000) return undefined
  const client = ctx.store.clientById(session.client_id)
  if (client === undefined || client.status !== 'active') return undefined
  if (session.resource_id === '') return {session, client}
  const resource = ctx.store.resourceById(session.resource_id)
  return resource === undefined ? undefined : {session, client, resource}
}

async function consent(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowed(req, res, ['GET', 'POST'])) return
  if (req.method !== 'POST') {
    const sessionId = new URL(req.url ?? '/', 'http://consent.invalid').searchParams.get('session_id') ?? ''
    if (sessionId === '') return sendErrorPage(res, 400, 'Missing Session', 'No session_id provided.')
    const signedIn = currentUser(ctx, req)
    if (signedIn === undefined) return redirect(res, `/login?redirect=${encodeURIComponent(req.url ?? '/')}`)
    const pending = pendingConsent(ctx, sessionId)
    if (pending === undefined) return sendErrorPage(res, 400, 'Invalid Session', 'The authorization session is invalid or expired.')
    const {session, client, resource} = pending
    const descriptions = new Map((resource?.scopes ?? []).map((s) => [s.name, s.description]))
    return sendPage(res, 200, 'Authorize', consentPage({
      sessionId: session.id, csrfToken: ctx.browser.consentCsrf(signedIn.cookie), clientName: client.name, clientId: client.id,
      resource: session.resource, resourceName: resource?.display_name ?? '', resourceSlug: resource?.slug ?? '',
      scopes: words(session.scope).map((name) => ({name, description: descriptions.get(name) ?? ''})),
    }))
  }
  const form = await readBrowserForm(req)
  if (form === undefined) return sendErrorPage(res, 400, 'Invalid Form', 'Could not parse form data.')
  const signedIn = currentUser(ctx, req)
  if (signedIn === undefined) return sendErrorPage(res, 401, 'Not Authenticated', 'Please log in first.')
  // The token is bound to this browser's session cookie: one from another session does not pass.
  if (!ctx.browser.checkConsentCsrf(signedIn.cookie, value(form, 'csrf_token'))) {
    return sendErrorPage(res, 403, 'Invalid Request', 'CSRF validation failed. Please try again.')
  }
  const pending = pendingConsent(ctx, value(form, 'session_id') ?? '')
  if (value(form, 'action') === 'deny') {
    if (pending !== undefined) ctx.users.deleteSession(pending.session.id)
    return sendErrorPage(res, 200, 'Access Denied', 'You denied access to the application.')
  }
  const approved = [...new Set(form.get('scopes') ?? [])]
  if (approved.length === 0) {
    return sendErrorPage(res, 400, 'No Permissions Selected', 'You must approve at least one permission to continue. Use the Deny button if you do not want to grant access.')
  }
  const requested = words(pending?.session.scope ?? '')
  if (pending === undefined || approved.some((s) => !requested.includes(s))) {
    return sendErrorPage(res, 400, 'Consent Error', 'Failed to process consent. The session may have expired.')
  }
  const {session, client, resource} = pending
  const scope = requested.filter((s) => approved.includes(s)).join(' ')
  if (resource !== undefined) {
    const now = new Date().toISOString()
    ctx.users.upsertGrant({id: randomBytes(16).toString('base64url'), user_id: signedIn.user.id, client_id: client.id, resource_id: resource.id, scopes: words(scope), created_at: now, updated_at: now})
  }
  if (!completeAuthorization(ctx, res, session, scope, signedIn.user.id)) {
    sendErrorPage(res, 400, 'Consent Error', 'Failed to process consent. The session may have expired.')
  }
}

/** Serves the browser routes; false when `path` is not one of them. */
export async function browserRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  switch (path) {
    case '/oauth/authorize':
      authorize(ctx, req, res)
      return true
    case '/login':
      await login(ctx, req, res)
      return true
    case '/logout':
      logout(res, req)
      return true
    case '/consent':
      await consent(ctx, req, res)
      return true
    case '/':
      home(ctx, req, res)
      return true
  }
  return false
}
