// Where the browser may be sent: a client's registered redirect URI (RFC 9700 §4.1.3, RFC 8252
// §7.3), the response parameters added to it, and the page to continue to after sign-in.
import type {Client} from './client.js'

/**
 * A same-origin path to continue to after login; anything else becomes `fallback`. Only visible
 * ASCII passes: the WHATWG URL parser a browser resolves `Location` with drops TAB, CR and LF
 * anywhere (`/\t/evil.example` is `//evil.example`, another origin) and treats `\` as `/`, and a
 * header value outside Latin-1 cannot be sent at all.
 */
export function safeRedirect(target: string | undefined, fallback = '/'): string {
  if (target === undefined || !/^\/[\x21-\x7e]*$/.test(target)) return fallback
  if (target.startsWith('//') || target.startsWith('/\\')) return fallback
  return target
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

export function withParams(redirectUri: string, params: Record<string, string>): string {
  const u = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== '') u.searchParams.set(k, v)
  return u.toString()
}
