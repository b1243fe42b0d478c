import assert from 'node:assert/strict'

// A browser stand-in for the login and consent pages: a cookie jar per origin-less host (the
// stack's cookies are host-only with Path=/), manual redirects, and a reader for the forms the
// pages render. It knows nothing of the server's internals: only HTTP and HTML.

export interface Page {
  status: number
  url: string
  headers: Headers
  html: string
}

function unescapeHtml(s: string): string {
  return s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

/** Every `<input name=... value=...>` of the first form whose action is `action`. Checkboxes only when checked. */
export function formFields(html: string, action: string): Map<string, string[]> {
  const start = html.indexOf(`<form method="POST" action="${action}">`)
  assert.notEqual(start, -1, `no form posting to ${action} in:\n${html}`)
  const form = html.slice(start, html.indexOf('</form>', start))
  const fields = new Map<string, string[]>()
  for (const m of form.matchAll(/<input ([^>]*)>/g)) {
    const attrs = m[1]!
    const name = /name="([^"]*)"/.exec(attrs)?.[1]
    if (name === undefined) continue
    if (/type="checkbox"/.test(attrs) && !/\bchecked\b/.test(attrs)) continue
    const value = unescapeHtml(/value="([^"]*)"/.exec(attrs)?.[1] ?? '')
    fields.set(name, [...(fields.get(name) ?? []), value])
  }
  return fields
}

export function encodeForm(fields: Map<string, string[]> | Record<string, string | string[]>): string {
  const out = new URLSearchParams()
  const entries = fields instanceof Map ? [...fields] : Object.entries(fields)
  for (const [k, v] of entries) for (const x of Array.isArray(v) ? v : [v]) out.append(k, x)
  return out.toString()
}

export class Browser {
  readonly cookies = new Map<string, string>()

  constructor(readonly base: string) {}

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === ''
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  /** One request, no redirect following. Relative URLs are resolved against the server. */
  async request(url: string, init: {method?: string; form?: string; headers?: Record<string, string>} = {}): Promise<Page> {
    const target = new URL(url, this.base).toString()
    const headers: Record<string, string> = {...init.headers}
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader()
    if (init.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(target, {method: init.method ?? (init.form === undefined ? 'GET' : 'POST'), headers, body: init.form, redirect: 'manual'})
    this.remember(res)
    return {status: res.status, url: target, headers: res.headers, html: await res.text()}
  }

  get(url: string): Promise<Page> {
    return this.request(url)
  }

  post(url: string, form: string): Promise<Page> {
    return this.request(url, {form})
  }

  /**
   * Follows same-server redirects; stops at a page, or at a redirect that leaves the server (to
   * the client's redirect_uri), whose URL it returns as `left`.
   */
  async follow(first: Page): Promise<{page: Page; left?: URL}> {
    let page = first
    for (let i = 0; i < 10; i++) {
      const location = page.headers.get('location')
      if (page.status !== 303 && page.status !== 302) return {page}
      assert.ok(location, 'redirect without Location')
      const next = new URL(location, page.url)
      if (next.origin !== new URL(this.base).origin) return {page, left: next}
      page = await this.get(next.toString())
    }
    throw new Error('redirect loop')
  }

  /** Signs in on the login page the server sent us to; returns where the server sends us next. */
  async signIn(loginPage: Page, email: string, password: string): Promise<Page> {
    assert.equal(loginPage.status, 200, loginPage.html)
    const fields = formFields(loginPage.html, '/login')
    fields.set('email', [email])
    fields.set('password', [password])
    return this.post('/login', encodeForm(fields))
  }

  /** Approves (or denies) on the consent page, with the scopes as rendered (all checked) unless given. */
  async decide(consentPage: Page, action: 'allow' | 'deny', scopes?: string[]): Promise<Page> {
    assert.equal(consentPage.status, 200, consentPage.html)
    const fields = formFields(consentPage.html, '/consent')
    if (scopes !== undefined) fields.set('scopes', scopes)
    fields.set('action', [action])
    return this.post('/consent', encodeForm(fields))
  }
}
