// A browser stand-in for `verify --user` with a known password (AP_DEMO_USER_PASSWORD, a test
// convenience): it opens the authorization URL, follows the authorization server's redirects with a
// cookie jar, fills the sign-in form (an email and a password field) and answers the consent form
// (its `action` button), then delivers the redirect back to ap-demo's loopback listener, exactly
// as a browser would. It knows HTML forms, not the server: the embedded stack's pages, and those of
// any server whose forms look the same (Authplane's), work.
import {httpFetch} from '../http/fetch.js'
import {CheckFailedError, CredentialsError, UnreachableError} from '../errors.js'
import {fromServer} from './server-text.js'

export interface DrivenPage {
  status: number
  url: string
  html: string
  location: string | null
}

/** What the driver did, step by step (verify shows each as a step of its own). */
export type DriverEvent =
  | {kind: 'authorize'; status: number; to: string}
  | {kind: 'login'; status: number; email: string}
  | {kind: 'consent'; status: number; decision: 'allow' | 'deny'; scopes: string[]}
  | {kind: 'returned'; to: string}

export interface DriverOptions {
  email: string
  password: string
  decision?: 'allow' | 'deny'
  timeoutMs: number
  onEvent?: (event: DriverEvent) => void
}

interface Form {
  action: string
  fields: Array<[string, string]>
  passwordField?: string
  emailField?: string
  actions: string[]
}

const MAX_HOPS = 12

function unescapeHtml(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCharCode(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i').exec(tag)
  return m ? unescapeHtml(m[1] ?? m[2] ?? '') : undefined
}

/** The POST forms of a page: their inputs (checked boxes only), and the values of their submit buttons named `action`. */
export function pageForms(html: string): Form[] {
  const forms: Form[] = []
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const open = m[1]!
    if ((attr(open, 'method') ?? 'get').toLowerCase() !== 'post') continue
    const form: Form = {action: attr(open, 'action') ?? '', fields: [], actions: []}
    for (const input of m[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const tag = input[1]!
      const name = attr(tag, 'name')
      if (name === undefined) continue
      const type = (attr(tag, 'type') ?? 'text').toLowerCase()
      if (type === 'checkbox' && !/\bchecked\b/i.test(tag)) continue
      if (type === 'password') form.passwordField = name
      if (type === 'email' || name === 'email' || name === 'username') form.emailField ??= name
      form.fields.push([name, attr(tag, 'value') ?? (type === 'checkbox' ? 'on' : '')])
    }
    for (const button of m[2]!.matchAll(/<button\b([^>]*)>/gi)) {
      if (attr(button[1]!, 'name') === 'action') form.actions.push(attr(button[1]!, 'value') ?? '')
    }
    forms.push(form)
  }
  return forms
}

/** The page's title or first heading, for an error line. */
function headline(html: string): string {
  const h = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1] ?? /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? ''
  return fromServer(unescapeHtml(h.replace(/<[^>]+>/g, '')), 120)
}

/** The error message a form page shows after a refused submission, if it shows one. */
function pageError(html: string): string | undefined {
  const m = /<(?:p|div)[^>]*class="[^"]*\berror\b[^"]*"[^>]*>([\s\S]*?)<\/(?:p|div)>/i.exec(html)
  return m ? fromServer(unescapeHtml(m[1]!.replace(/<[^>]+>/g, '')), 200) : undefined
}

class CookieJar {
  private readonly jar = new Map<string, Map<string, string>>()

  header(url: URL): string | undefined {
    const cookies = this.jar.get(url.host)
    return cookies && cookies.size > 0 ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined
  }

  keep(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair!.indexOf('=')
      if (eq <= 0) continue
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const cookies = this.jar.get(url.host) ?? new Map<string, string>()
      if (value === '' || attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a))) cookies.delete(name)
      else cookies.set(name, value)
      this.jar.set(url.host, cookies)
    }
  }
}

/**
 * Runs the browser's part of an authorization: from `authorizationUrl` to the redirect that leaves
 * the authorization server for `redirectUri` (delivered there, to the loopback listener). Fails
 * with a typed error when a page is neither a sign-in form, a consent form nor a redirect.
 */
export async function driveAuthorization(authorizationUrl: string, redirectUri: string, options: DriverOptions): Promise<void> {
  const jar = new CookieJar()
  const target = new URL(redirectUri)
  const request = async (url: URL, form?: URLSearchParams): Promise<DrivenPage> => {
    const headers: Record<string, string> = {accept: 'text/html'}
    const cookie = jar.header(url)
    if (cookie) headers.cookie = cookie
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded'
    let response: Response
    try {
      response = await httpFetch(url, {method: form ? 'POST' : 'GET', headers, ...(form ? {body: form.toString()} : {}), redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs)})
    } catch (error) {
      throw new UnreachableError('unreachable', `signing in: cannot reach ${url.origin}`, {hint: 'Is the authorization server up?', details: {url: url.href}, cause: error})
    }
    jar.keep(url, response)
    return {status: response.status, url: url.href, html: await response.text(), location: response.headers.get('location')}
  }
  let page = await request(new URL(authorizationUrl))
  let first = true
  let signedIn = false
  let consented = false
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (page.status >= 300 && page.status < 400 && page.location) {
      if (!URL.canParse(page.location, page.url)) {
        throw new CheckFailedError('authorization_page', `the authorization server redirected to ${fromServer(page.location)}, which is not a URL`, {hint: 'Its Location header is broken; check the authorization server.'})
      }
      const next = new URL(page.location, page.url)
      if (first) options.onEvent?.({kind: 'authorize', status: page.status, to: next.pathname})
      first = false
      if (next.origin === target.origin && next.pathname === target.pathname) {
        options.onEvent?.({kind: 'returned', to: `${next.origin}${next.pathname}`})
        // The browser's last hop: ap-demo's own listener answers it.
        await request(next)
        return
      }
      page = await request(next)
      continue
    }
    first = false
    const forms = pageForms(page.html)
    const login = forms.find((f) => f.passwordField !== undefined)
    const consent = forms.find((f) => f.actions.includes('allow'))
    if (login && !signedIn) {
      if (!login.emailField) throw new CheckFailedError('sign_in_form_unknown', `the sign-in page at ${page.url} has a password field but no email field`, {hint: 'Unset AP_DEMO_USER_PASSWORD to sign in in the browser instead.'})
      const fields = new URLSearchParams(login.fields)
      fields.set(login.emailField, options.email)
      fields.set(login.passwordField!, options.password)
      page = await request(new URL(login.action || page.url, page.url), fields)
      if (page.status >= 400) {
        throw new CredentialsError('sign_in_refused', `the authorization server refused the sign-in of ${options.email}: ${pageError(page.html) ?? `HTTP ${page.status}`}`, {
          hint: page.status === 429 ? 'Too many failed sign-ins: wait for the lockout to end.' : 'Check AP_DEMO_USER_PASSWORD and that the user exists and is enabled (ap-demo setup user --list).',
          details: {httpStatus: page.status, email: options.email},
        })
      }
      // Only a sign-in that was accepted is one: a refused one fails the sign-in step, not the consent.
      options.onEvent?.({kind: 'login', status: page.status, email: options.email})
      signedIn = true
      continue
    }
    if (consent && !consented) {
      const decision = options.decision ?? 'allow'
      const fields = new URLSearchParams(consent.fields)
      fields.set('action', decision)
      const scopes = fields.getAll('scopes')
      page = await request(new URL(consent.action || page.url, page.url), fields)
      options.onEvent?.({kind: 'consent', status: page.status, decision, scopes})
      consented = true
      if (decision === 'deny' && !(page.status >= 300 && page.status < 400)) {
        throw new CredentialsError('access_denied', `consent was denied; the authorization server shows "${headline(page.html) || `HTTP ${page.status}`}" and does not send the browser back`, {
          hint: 'Nothing was granted. Run it again and allow the requested access.',
          details: {httpStatus: page.status},
        })
      }
      continue
    }
    const what = headline(page.html)
    throw new CheckFailedError('authorization_page', `the authorization server answered ${page.status}${what ? ` "${what}"` : ''} at ${page.url.split('?')[0]} instead of sending the browser back`, {
      hint: 'The authorization request was refused before any redirect (an unknown client, a redirect URI or resource it does not accept). --print-curl and the server\'s logs say more.',
      details: {httpStatus: page.status, url: page.url.split('?')[0], page: what},
    })
  }
  throw new CheckFailedError('redirect_loop', `more than ${MAX_HOPS} redirects while signing in`, {hint: 'The authorization server keeps redirecting; check its configuration.'})
}
