import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage} from 'node:http'

// The browser side of the real server, as its code has it: a stateless session cookie
// `authserver_session` = `<user id>|<expiry unix>|<HMAC>` (here with a random session id before
// the HMAC, so that two sign-ins of one user in the same second are still two sessions, each with
// its own consent CSRF token), a pre-session login nonce cookie
// `authserver_login_nonce` = `<nonce>|<HMAC>` that binds POST /login to a browser that rendered
// the form (a foreign site cannot set it), and CSRF tokens derived by HMAC from those values:
// the login form's from the nonce, the consent form's from the session cookie.

export const SESSION_COOKIE = 'authserver_session'
export const LOGIN_NONCE_COOKIE = 'authserver_login_nonce'
const SESSION_MAX_AGE_S = 24 * 3600
const NONCE_MAX_AGE_S = 12 * 3600
// SameSite=Lax keeps cross-site POSTs cookie-less. Secure only with `session.secure` (required for
// an issuer that is not localhost): on http://localhost a browser would drop a Secure cookie.
const COOKIE_ATTRS = 'Path=/; HttpOnly; SameSite=Lax'

export function parseCookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>()
  const header = req.headers.cookie
  if (header === undefined) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    const name = part.slice(0, eq).trim()
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim())
  }
  return out
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Signs and checks the browser flow's cookies and CSRF tokens with one server secret. */
export class BrowserSessions {
  private readonly attrs: string

  constructor(
    private readonly secret: Buffer,
    /** `session.secure`: cookies carry the Secure attribute. */
    secure = false,
  ) {
    this.attrs = secure ? `${COOKIE_ATTRS}; Secure` : COOKIE_ATTRS
  }

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}\0${value}`).digest('base64url')
  }

  // --- session cookie ------------------------------------------------------------------------

  sessionCookie(userId: string, nowMs = Date.now()): string {
    const payload = `${userId}|${Math.floor(nowMs / 1000) + SESSION_MAX_AGE_S}|${randomBytes(12).toString('base64url')}`
    return `${SESSION_COOKIE}=${payload}|${this.mac('session', payload)}; ${this.attrs}; Max-Age=${SESSION_MAX_AGE_S}`
  }

  clearCookie(name: string): string {
    return `${name}=; ${this.attrs}; Max-Age=0`
  }

  /** The signed-in user id and the raw cookie value, or undefined. */
  session(req: IncomingMessage): {userId: string; cookie: string} | undefined {
    const raw = parseCookies(req).get(SESSION_COOKIE)
    if (raw === undefined || raw === '') return undefined
    const parts = raw.split('|')
    if (parts.length !== 4) return undefined
    const [userId, expiry, sid, sig] = parts as [string, string, string, string]
    if (!equalStrings(sig, this.mac('session', `${userId}|${expiry}|${sid}`))) return undefined
    if (!/^\d+$/.test(expiry) || Number(expiry) < Date.now() / 1000) return undefined
    return {userId, cookie: raw}
  }

  consentCsrf(sessionCookieValue: string): string {
    return this.mac('consent-csrf', sessionCookieValue)
  }

  checkConsentCsrf(sessionCookieValue: string, token: string | undefined): boolean {
    return token !== undefined && equalStrings(token, this.consentCsrf(sessionCookieValue))
  }

  // --- login nonce ---------------------------------------------------------------------------

  /** The nonce this server minted for the browser, or undefined when the cookie is absent or forged. */
  loginNonce(req: IncomingMessage): string | undefined {
    const raw = parseCookies(req).get(LOGIN_NONCE_COOKIE)
    if (raw === undefined) return undefined
    const parts = raw.split('|')
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return undefined
    const [nonce, sig] = parts as [string, string]
    return equalStrings(sig, this.mac('login-nonce', nonce)) ? nonce : undefined
  }

  /**
   * The browser's existing nonce, or a new one with the Set-Cookie that delivers it. Reused when
   * valid so that a second login tab does not orphan the first one's form.
   */
  ensureLoginNonce(req: IncomingMessage): {nonce: string; setCookie?: string} {
    const existing = this.loginNonce(req)
    if (existing !== undefined) return {nonce: existing}
    const nonce = randomBytes(16).toString('hex')
    return {nonce, setCookie: `${LOGIN_NONCE_COOKIE}=${nonce}|${this.mac('login-nonce', nonce)}; ${this.attrs}; Max-Age=${NONCE_MAX_AGE_S}`}
  }

  loginCsrf(nonce: string): string {
    return this.mac('login-csrf', nonce)
  }

  checkLoginCsrf(nonce: string, token: string | undefined): boolean {
    return token !== undefined && equalStrings(token, this.loginCsrf(nonce))
  }
}
