// RFC 9728 protected resource metadata, as an MCP client finds it: from the `resource_metadata`
// parameter of the server's 401 challenge, else at the well-known URLs derived from the MCP URL
// (MCP authorization spec, "Protected Resource Metadata Discovery").
import {HttpUnreachableError, readText, send, type RequestObserver} from '../http/request.js'
import {parseWwwAuthenticate} from './diagnose.js'
import {McpDiscoveryError, type McpRejection} from './errors.js'

const WELL_KNOWN = '/.well-known/oauth-protected-resource'

export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  scopes_supported?: string[]
  [key: string]: unknown
}

export interface FoundResourceMetadata {
  /** Where the document was read. */
  url: string
  /** How that URL was found. */
  via: 'challenge' | 'well-known'
  metadata: ProtectedResourceMetadata
  /** The `scope` parameter of the 401 challenge, if any. */
  challengeScope?: string
  /** Well-known URLs tried first that did not serve it, with their HTTP status (a CDN's 403, a 404). */
  skipped: Array<{url: string; status: number}>
}

/**
 * RFC 9728 §3.1: the well-known segment goes between the host and the resource's path (a path of
 * `/` adds nothing). The MCP spec then falls back to the root document.
 */
export function wellKnownCandidates(mcpUrl: string): string[] {
  const url = new URL(mcpUrl)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  const candidates = [`${url.origin}${WELL_KNOWN}${path}`]
  if (path !== '') candidates.push(`${url.origin}${WELL_KNOWN}`)
  return candidates
}

/**
 * The resource identifier the metadata names must designate the server that was asked (MCP spec,
 * RFC 9728 §7.3 impersonation): same origin, and its path equal to or a parent of the MCP URL's
 * path. Otherwise a server could collect tokens meant for another resource.
 */
export function resourceMatchesServer(resource: string, mcpUrl: string): boolean {
  let r: URL
  let m: URL
  try {
    r = new URL(resource)
    m = new URL(mcpUrl)
  } catch {
    return false
  }
  if (r.origin !== m.origin) return false
  if (r.search !== '' || r.hash !== '') return false
  const base = r.pathname.endsWith('/') ? r.pathname : `${r.pathname}/`
  const path = m.pathname.endsWith('/') ? m.pathname : `${m.pathname}/`
  return path.startsWith(base)
}

/** Finds and checks the protected resource metadata of the MCP server that answered `rejection`. */
export async function findResourceMetadata(
  mcpUrl: string,
  rejection: McpRejection,
  options: {timeoutMs?: number; observer?: RequestObserver} = {},
): Promise<FoundResourceMetadata> {
  const challenge = parseWwwAuthenticate(rejection.wwwAuthenticate)
  const challengeScope = challenge?.params.scope?.trim() || undefined
  const pointed = challenge?.params.resource_metadata
  const tries: Array<{url: string; via: 'challenge' | 'well-known'}> = []
  if (pointed) {
    tries.push({url: checkPointedUrl(pointed, mcpUrl), via: 'challenge'})
  } else {
    for (const url of wellKnownCandidates(mcpUrl)) tries.push({url, via: 'well-known'})
  }

  const skipped: FoundResourceMetadata['skipped'] = []
  for (const [i, attempt] of tries.entries()) {
    let response: Response
    let text: string
    try {
      response = await send(attempt.url, {headers: {Accept: 'application/json'}, timeoutMs: options.timeoutMs, observer: options.observer})
      text = await readText(response, attempt.url)
    } catch (error) {
      if (!(error instanceof HttpUnreachableError)) throw error
      const named = attempt.via === 'challenge' ? ', which the MCP server\'s 401 named as its resource metadata' : ''
      throw new McpDiscoveryError(mcpUrl, 'resource_metadata_unavailable', `${error.message}: GET ${attempt.url}${named} failed`)
    }
    // The MCP SDK's rule (client/auth.ts, shouldAttemptFallback): the path-based document's 4xx or
    // 502 sends the client on to the root one; a CDN or gateway often answers 403 where 404 belongs.
    const last = i === tries.length - 1
    if (attempt.via === 'well-known' && (response.status === 404 || (!last && ((response.status >= 400 && response.status < 500) || response.status === 502)))) {
      skipped.push({url: attempt.url, status: response.status})
      continue
    }
    if (response.status !== 200) {
      throw new McpDiscoveryError(mcpUrl, 'resource_metadata_unavailable', `GET ${attempt.url} answered HTTP ${response.status}; expected the RFC 9728 protected resource metadata`)
    }
    const metadata = checkMetadata(text, attempt.url, mcpUrl)
    return {url: attempt.url, via: attempt.via, metadata, challengeScope, skipped}
  }
  throw new McpDiscoveryError(
    mcpUrl,
    'resource_metadata_missing',
    `the MCP server asks for a token but publishes no resource metadata: its 401 has no resource_metadata and ${skipped.map((m) => `${m.url} (${m.status})`).join(', ')} had nothing`,
  )
}

/**
 * The challenge comes from a server not yet trusted: only an http(s) URL is followed, and from an
 * https MCP server only an https one (no downgrade that would expose the exchange on the path).
 */
function checkPointedUrl(pointed: string, mcpUrl: string): string {
  let url: URL
  try {
    url = new URL(pointed)
  } catch {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `the 401 challenge names resource_metadata "${pointed}", which is not an absolute URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `the 401 challenge names resource_metadata "${pointed}", which is not an http(s) URL`)
  }
  if (url.protocol === 'http:' && new URL(mcpUrl).protocol === 'https:') {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `the https MCP server names plain-http resource metadata "${pointed}"; refusing the downgrade`)
  }
  return url.href
}

function checkMetadata(text: string, url: string, mcpUrl: string): ProtectedResourceMetadata {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `${url} did not return JSON`)
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `${url} did not return a JSON object`)
  }
  const doc = document as Record<string, unknown>
  // RFC 9728 §2: `resource` is required; §3.2: it is returned as a string, used byte for byte.
  if (typeof doc.resource !== 'string' || doc.resource === '') {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `the resource metadata at ${url} has no "resource"`)
  }
  const servers = doc.authorization_servers
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s !== '')) {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `the resource metadata at ${url} names no authorization_servers, so there is nowhere to get a token`)
  }
  if (doc.scopes_supported !== undefined && (!Array.isArray(doc.scopes_supported) || !doc.scopes_supported.every((s) => typeof s === 'string'))) {
    throw new McpDiscoveryError(mcpUrl, 'resource_metadata_invalid', `the resource metadata at ${url} has a "scopes_supported" that is not a list of strings`)
  }
  if (!resourceMatchesServer(doc.resource, mcpUrl)) {
    throw new McpDiscoveryError(
      mcpUrl,
      'resource_mismatch',
      `the resource metadata at ${url} names resource "${doc.resource}", which is not the MCP server at ${mcpUrl}; refusing to get a token for it`,
    )
  }
  return doc as ProtectedResourceMetadata
}
