// DNS-rebinding protection for the MCP server (MCP spec 2025-11-25, transports "Security warning":
// servers MUST validate the Origin header; security best practices, "Local MCP server compromise").
// A web page on evil.example.com whose DNS name is re-pointed at 127.0.0.1 makes the victim's
// browser talk to this server with `Host: evil.example.com` and `Origin: http://evil.example.com`;
// the TCP peer is loopback, so only these two headers tell the request apart from a local client.
//
// The rule: the Host header must name this server as clients know it (an allow-list of
// authorities, port included), and an Origin header, when a browser sends one, must be a loopback
// origin or one of those authorities.

/** Host names that always mean "this machine" (IPv6 in the bracketed form a Host header uses). */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const

const WILDCARD_BINDS = new Set(['', '0.0.0.0', '::', '[::]'])

/** Characters that never occur in a host[:port] but would let URL parsing read something else (userinfo, path). */
const NOT_AN_AUTHORITY = /[\s@/\\?#]/

/**
 * The authority (`host[:port]`) as the WHATWG URL parser normalizes it for http: lower case, IPv4
 * shorthands expanded, IPv6 compressed and bracketed, `:80` dropped. Undefined when it is not one.
 */
export function normalizeAuthority(value: string): string | undefined {
  if (value === '' || NOT_AN_AUTHORITY.test(value)) return undefined
  try {
    const url = new URL(`http://${value}`)
    return url.host === '' ? undefined : url.host
  } catch {
    return undefined
  }
}

/** The normalized authority of an allow-list entry; throws a TypeError naming the entry otherwise. */
export function requireAuthority(entry: string): string {
  const authority = normalizeAuthority(entry.trim())
  if (authority === undefined) throw new TypeError(`allowed host ${JSON.stringify(entry)} is not a host[:port]`)
  return authority
}

export interface HostGuardOptions {
  /** The interface the server is bound to (as given to listen). */
  bindHost: string
  /** The port actually bound. */
  port: number
  /** The resource (audience) URL: by definition a URL clients use to reach this server. */
  resource: string
  /** Further `host[:port]` authorities to accept (reverse proxies, container names, remapped ports). */
  allowedHosts?: readonly string[]
  /**
   * Browser origins trusted by CORS (`scheme://host[:port]`, or `*` for any): accepted as Origin.
   * The Host header is still checked, and that is what defeats DNS rebinding.
   */
  allowedOrigins?: readonly string[]
}

/** Why a request was refused; the caller turns it into a 403. */
export interface HostRefusal {
  header: 'Host' | 'Origin'
  message: string
}

/**
 * The accepted Host authorities: the loopback names with the bound port, the bind address itself
 * with that port (unless it is a wildcard), the resource URL's authority and `allowedHosts`.
 * Throws on an allowedHosts entry that is not a `host[:port]`.
 */
export function allowedAuthorities(opts: HostGuardOptions): Set<string> {
  const allowed = new Set<string>()
  const add = (value: string) => {
    const authority = normalizeAuthority(value)
    if (authority !== undefined) allowed.add(authority)
  }
  for (const name of LOOPBACK_NAMES) add(`${name}:${opts.port}`)
  if (!WILDCARD_BINDS.has(opts.bindHost)) {
    const bind = opts.bindHost.includes(':') && !opts.bindHost.startsWith('[') ? `[${opts.bindHost}]` : opts.bindHost
    add(`${bind}:${opts.port}`)
  }
  allowed.add(new URL(opts.resource).host)
  for (const entry of opts.allowedHosts ?? []) allowed.add(requireAuthority(entry))
  return allowed
}

function isLoopbackHostname(hostname: string): boolean {
  return (LOOPBACK_NAMES as readonly string[]).includes(hostname)
}

/**
 * Returns a checker for the Host and Origin headers of one request: undefined when the request may
 * proceed, the refusal otherwise.
 */
export function createHostGuard(opts: HostGuardOptions): (host: string | undefined, origin: string | undefined) => HostRefusal | undefined {
  const allowed = allowedAuthorities(opts)
  const trustedOrigins = new Set(opts.allowedOrigins ?? [])
  return (host, origin) => {
    // HTTP/1.1 requires Host (RFC 9112 §3.2); without it there is nothing to check against.
    if (host === undefined || host === '') return {header: 'Host', message: 'Missing Host header'}
    const authority = normalizeAuthority(host)
    if (authority === undefined) return {header: 'Host', message: `Invalid Host header: ${printable(host)}`}
    if (!allowed.has(authority)) return {header: 'Host', message: `Host ${printable(host)} is not allowed`}
    if (origin === undefined) return undefined
    if (trustedOrigins.has('*') || trustedOrigins.has(origin)) return undefined
    // A present Origin comes from a browser. `null` (sandboxed frames, file: pages) names no site
    // we could trust, so it is refused like any foreign origin.
    let url: URL | undefined
    try {
      url = new URL(origin)
    } catch {
      url = undefined
    }
    const originOk =
      url !== undefined &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      // Loopback on any port: another local page (a dev server) is not a rebinding attack.
      (isLoopbackHostname(url.hostname) || allowed.has(url.host))
    return originOk ? undefined : {header: 'Origin', message: `Origin ${printable(origin)} is not allowed`}
  }
}

/** Header values echoed in an error body: short and printable. */
function printable(value: string): string {
  const text = value.replace(/[^\x20-\x7e]/g, '?')
  return text.length > 100 ? `${text.slice(0, 97)}...` : text
}
