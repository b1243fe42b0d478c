// The login page, logout and the signed-in home page (api/public/oauth/login.go of the real
// server): a pre-session nonce binds the form's CSRF token to the browser, failures re-render the
// form with 422, and a locked identity gets 429 before any password is hashed.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {safeRedirect} from '../../domain/redirect.js'
import {LOGIN_NONCE_COOKIE, SESSION_COOKIE} from '../../http/cookies.js'
import {clientIp} from '../../http/request.js'
import type {Headers} from '../../http/respond.js'
import type {ServerContext} from '../../services/context.js'
import {verifyPassword} from '../../services/passwords.js'
import {MAX_IDENTITY_LENGTH, retryAfterSeconds} from '../../services/ratelimit.js'
import {allowed, currentUser, readBrowserForm, redirect, value} from './common.js'
import {escapeHtml, loginPage, sendPage} from './html.js'

function renderLogin(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, status: number, redirectTo: string, error?: string, email?: string, extra: Headers = {}): void {
  const {nonce, setCookie} = ctx.browser.ensureLoginNonce(req)
  const headers: Record<string, string> = {...extra}
  if (setCookie !== undefined) headers['Set-Cookie'] = setCookie
  sendPage(res, status, 'Sign in', loginPage({csrfToken: ctx.browser.loginCsrf(nonce), redirect: redirectTo, error, email}), headers)
}

const INVALID_REQUEST = 'Invalid request. Please try again.'
const INVALID_CREDENTIALS = 'Invalid email or password'

export async function login(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
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

export function logout(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  if (!allowed(req, res, ['POST'])) return
  // The nonce goes too: on a shared browser the next person should not inherit the CSRF pair.
  redirect(res, '/login', {'Set-Cookie': [ctx.browser.clearCookie(SESSION_COOKIE), ctx.browser.clearCookie(LOGIN_NONCE_COOKIE)]})
}

export function home(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  if (!allowed(req, res, ['GET'])) return
  const signedIn = currentUser(ctx, req)
  if (signedIn === undefined) return redirect(res, '/login')
  sendPage(res, 200, 'Signed in', `<h1>Signed in</h1>
<p>You are signed in as <strong>${escapeHtml(signedIn.user.email)}</strong>. Return to the application that sent you here.</p>
<form method="POST" action="/logout"><button type="submit" class="secondary">Sign out</button></form>`)
}
