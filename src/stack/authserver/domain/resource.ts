// A resource (RFC 8707 target) as the admin API shows it, and the rules its fields follow
// (internal/domain/resource/resource.go, with RFC 8707 §2 and RFC 6749 §3.3 on top).

import {goQuote} from './client.js'

export type BackendKind = 'mint' | 'broker'

export interface ScopeDef {
  name: string
  description: string
  upstream: string
}

export interface Policy {
  exchange: {allowed_client_ids: string[]}
  runtime: {client_ids: string[]}
}

/** The admin API's ResourceView, field for field. */
export interface Resource {
  id: string
  slug: string
  uri: string
  backend_kind: BackendKind
  broker_provider_id: string
  display_name: string
  scopes: ScopeDef[]
  policy: Policy
  created_at: string
  updated_at: string
}


export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,63}$/
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), for resource scopes and client ceilings alike.
export const SCOPE_TOKEN_RE = /^[\x21\x23-\x5B\x5D-\x7E]+$/

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    return false
  }
}

/**
 * The real resource rules (internal/domain/resource/resource.go), with its messages. An empty
 * uri is allowed, as there (the slug is the identifier). On top of them, RFC 8707 §2: a resource
 * indicator has no fragment, and (issue 10) no userinfo.
 */
export function uriProblem(uri: string): string | undefined {
  if (uri === '') return undefined
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)
  if (scheme === null) return 'uri must be absolute (include scheme + host)'
  const s = scheme[1]!.toLowerCase()
  if (s !== 'http' && s !== 'https') return `uri scheme must be http or https, got ${goQuote(scheme[1]!)}`
  if (!isHttpUrl(uri)) return 'uri must include a host'
  if (uri.includes('#')) return 'uri must not contain a fragment (RFC 8707 section 2)'
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(uri)) return 'uri must not contain userinfo (RFC 8707 section 2)'
  return undefined
}
