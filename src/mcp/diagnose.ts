import {decodeJwt} from 'jose/jwt/decode'

import {findIssuer} from '../authplane/issuer.js'
import {readJson, send} from '../http/request.js'
import type {McpRejection} from './errors.js'

/** RFC 6750 §3 / RFC 9110 §11.6.1: `Bearer k="v", k2="v2"`; quoted values may hold escaped quotes. */
export function parseWwwAuthenticate(header: string | null): {scheme: string; params: Record<string, string>} | undefined {
  if (!header) return undefined
  const match = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(.*)$/s.exec(header)
  if (!match) return undefined
  const params: Record<string, string> = {}
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g
  for (const m of (match[2] ?? '').matchAll(re)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')
  }
  return {scheme: match[1]!, params}
}

/**
 * The auth-schemes of every challenge in a WWW-Authenticate header (RFC 9110 §11.6.1: challenges
 * and their parameters are both comma-separated; an item that starts with `name=` is a parameter).
 */
export function challengeSchemes(header: string | null): string[] {
  if (!header) return []
  const items: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!
    if (c === '\\' && quoted) {
      current += c + (header[++i] ?? '')
      continue
    }
    if (c === '"') quoted = !quoted
    if (c === ',' && !quoted) {
      items.push(current)
      current = ''
    } else {
      current += c
    }
  }
  items.push(current)
  const schemes: string[] = []
  for (const item of items) {
    const match = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(\s*=)?/.exec(item)
    if (match && !match[2]) schemes.push(match[1]!)
  }
  return schemes
}

export type RejectionCause = 'issuer' | 'audience' | 'scope' | 'expired' | 'signature' | 'dpop' | 'missing_token' | 'other'

export interface Diagnosis {
  cause: RejectionCause
  message: string
  hint: string
  status: number
  oauthError?: string
  oauthErrorDescription?: string
  resourceMetadataUrl?: string
  expected?: {issuer?: string[]; resource?: string; scope?: string}
  token?: {iss?: unknown; aud?: unknown; scope?: unknown; exp?: unknown}
}

interface ResourceMetadata {
  resource?: string
  authorization_servers?: string[]
  scopes_supported?: string[]
}

/**
 * RFC 9449 refusals: a resource that wants DPoP-bound tokens, one that does not take them, or a
 * proof it did not accept. Read from the challenge's scheme and error, and the server's words.
 */
function dpopDiagnosis(error: string | undefined, description: string, bound: boolean, presented: {scheme?: string; offered: string[]}): {message: string; hint: string} | undefined {
  // The token went under a scheme the server does not offer: RFC 9449 says `DPoP`, servers on the
  // MCP Python SDK (Authplane's Python adapters) read only `Bearer`. Their verifier never ran.
  const offered = presented.offered.map((s) => s.toLowerCase())
  const sent = presented.scheme?.toLowerCase()
  if (bound && sent === 'dpop' && offered.length > 0 && !offered.includes('dpop') && offered.includes('bearer')) {
    return {
      message: 'the MCP server offers only the Bearer scheme and refused the DPoP-bound token sent as "Authorization: DPoP"',
      hint: 'Servers on the MCP Python SDK (Authplane\'s authplane-mcp and authplane-fastmcp) read only Bearer and check the DPoP proof header beside it: use --dpop-scheme auto (the default: the scheme the challenge offers) or --dpop-scheme bearer.',
    }
  }
  if (bound && sent === 'bearer' && offered.includes('dpop') && !offered.includes('bearer')) {
    return {
      message: 'the MCP server offers only the DPoP scheme and refused the DPoP-bound token sent as "Authorization: Bearer"',
      hint: 'Use --dpop-scheme auto (the default) or --dpop-scheme dpop: RFC 9449 §7.1 sends a bound token as "Authorization: DPoP <token>".',
    }
  }
  if (error === 'invalid_dpop_proof' || error === 'use_dpop_nonce') {
    const clock = /\biat\b|too old|s old|future|clock/i.test(description)
    return {
      message: 'the MCP server refused the DPoP proof',
      hint: clock
        ? 'The proof\'s iat is outside the server\'s window: proofs carry this machine\'s time, so check its clock (and the server\'s).'
        : 'ap-demo makes a fresh proof for each request; check --dpop-key, and that nothing between here and the server changes the request\'s method or URL (htm, htu).',
    }
  }
  if (bound && /DPoP is not supported|not supported by this resource|only plain Bearer/i.test(description)) {
    return {message: 'the MCP server does not accept DPoP-bound tokens', hint: 'Call it without --dpop (a plain Bearer token), or start it with DPoP on: ap-demo stack up --mcp-dpop allowed.'}
  }
  // Only the server's words: with DPoP required every challenge is a DPoP one, whatever the reason.
  if (!bound && /requires DPoP|DPoP-bound access tokens/i.test(description)) {
    return {message: 'the MCP server accepts only DPoP-bound tokens (RFC 9449) and this one is a plain Bearer token', hint: 'Add --dpop: the token is then minted bound to the profile\'s key (or --dpop-key FILE) and every request carries a proof.'}
  }
  return undefined
}

/**
 * Says which of issuer, audience, scope or expiry made the MCP server refuse a token: reads the
 * WWW-Authenticate challenge, fetches the RFC 9728 protected resource metadata it names, decodes
 * the token (without trusting it) and compares. Contract §7 pitfalls 1-3 each get their own hint.
 */
export async function diagnoseRejection(rejection: McpRejection, accessToken: string | undefined, options: {timeoutMs?: number} = {}): Promise<Diagnosis> {
  const challenge = parseWwwAuthenticate(rejection.wwwAuthenticate)
  const params = challenge?.params ?? {}
  const body = (rejection.body ?? {}) as {error?: string; error_description?: string}
  const oauthError = params.error ?? body.error
  const oauthErrorDescription = params.error_description ?? body.error_description
  const base = {status: rejection.status, oauthError, oauthErrorDescription, resourceMetadataUrl: params.resource_metadata}
  const said = oauthErrorDescription ? ` (server said: ${oauthErrorDescription})` : ''

  let metadata: ResourceMetadata | undefined
  if (params.resource_metadata) {
    try {
      const response = await send(params.resource_metadata, {timeoutMs: options.timeoutMs ?? 5000})
      if (response.ok) metadata = (await readJson(response)) as ResourceMetadata
    } catch {
      // The diagnosis still works from the token and the challenge alone.
    }
  }
  const expected = {issuer: metadata?.authorization_servers, resource: metadata?.resource, scope: params.scope}

  if (!accessToken) {
    return {...base, cause: 'missing_token', message: `the MCP server needs a bearer token${said}`, hint: 'Mint one first: ap-demo token mint (or let ap-demo mcp call do it).', expected}
  }
  let claims: Record<string, unknown> = {}
  try {
    claims = decodeJwt(accessToken) as Record<string, unknown>
  } catch {
    // Opaque tokens are legitimate (a discovered server need not issue JWTs); only the server knows why.
    return {
      ...base,
      cause: 'other',
      message: `the MCP server refused the token with HTTP ${rejection.status}${said}`,
      hint: 'The token is not a JWT, so ap-demo cannot compare its claims; mint a fresh one with --no-cache, and check that the authorization server and the resource are the ones the MCP server trusts.',
      expected,
    }
  }
  const dpop = dpopDiagnosis(oauthError, oauthErrorDescription ?? '', claims.cnf !== undefined, {scheme: rejection.scheme, offered: challengeSchemes(rejection.wwwAuthenticate)})
  if (dpop) return {...base, expected, token: {iss: claims.iss, aud: claims.aud, scope: claims.scope, exp: claims.exp}, cause: 'dpop', message: `${dpop.message}${said}`, hint: dpop.hint}
  const token = {iss: claims.iss, aud: claims.aud, scope: claims.scope, exp: claims.exp}
  const audiences = Array.isArray(claims.aud) ? claims.aud.map(String) : typeof claims.aud === 'string' ? [claims.aud] : []
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []
  const now = Math.floor(Date.now() / 1000)
  const withToken = {...base, expected, token}

  // One trailing slash is not a difference (Authplane's SDKs; its Python adapters announce
  // `http://host:port/`): only issuers that differ after that rule are a mismatch.
  if (expected.issuer && expected.issuer.length > 0 && typeof claims.iss === 'string' && findIssuer(expected.issuer, claims.iss) === undefined) {
    return {
      ...withToken,
      cause: 'issuer',
      message: `issuer mismatch: the token's iss is "${claims.iss}" but the MCP server trusts ${expected.issuer.map((i) => `"${i}"`).join(', ')}${said}`,
      hint: `Both sides must use the same issuer string (localhost vs 127.0.0.1 or a Docker host name; only a single trailing slash is not a difference). Use --issuer ${expected.issuer[0]} or restart the MCP server with that issuer.`,
    }
  }
  if (expected.resource && !audiences.includes(expected.resource)) {
    const minted = audiences.length > 0 ? audiences.map((a) => `"${a}"`).join(', ') : 'nothing'
    const noResource = typeof claims.iss === 'string' && audiences.length === 1 && audiences[0] === claims.iss
    return {
      ...withToken,
      cause: 'audience',
      message: `audience mismatch: the token is for ${minted} but the MCP server is "${expected.resource}"${said}`,
      hint: noResource
        ? `The token was minted without a resource (aud = the issuer). Mint it with --resource ${expected.resource}.`
        : `Mint with --resource ${expected.resource}, and make sure the registered resource uri is exactly that string (ap-demo setup resource --uri ${expected.resource}).`,
    }
  }
  if (typeof claims.exp === 'number' && claims.exp + 30 < now) {
    return {...withToken, cause: 'expired', message: `the token expired ${now - claims.exp} s ago${said}`, hint: 'Mint a fresh one: ap-demo token mint --no-cache'}
  }
  const required = (params.scope ?? '').split(' ').filter(Boolean)
  const missing = required.filter((s) => !scopes.includes(s))
  if (rejection.status === 403 || oauthError === 'insufficient_scope' || missing.length > 0) {
    const need = missing.length > 0 ? missing : required
    return {
      ...withToken,
      cause: 'scope',
      message: `missing scope: the server requires ${need.map((s) => `"${s}"`).join(' ') || 'another scope'} but the token has ${scopes.length ? scopes.map((s) => `"${s}"`).join(' ') : 'no scope'}${said}`,
      hint: `The scope name must match everywhere: the resource's scopes, the client's scope ceiling and the token request. Try: ap-demo token mint --scope ${need[0] ?? 'mcp:echo'}; if that is refused, add it to the client (ap-demo setup client --new --scope ${need[0] ?? 'mcp:echo'}).`,
    }
  }
  if (oauthErrorDescription && /signature|kid|jwks|key/i.test(oauthErrorDescription)) {
    return {
      ...withToken,
      cause: 'signature',
      message: `the token's signature does not verify against the issuer's current keys${said}`,
      hint: 'It was altered, or signed by an earlier run of the server (a restarted in-memory stack has new keys): mint a fresh one with --no-cache.',
    }
  }
  return {
    ...withToken,
    cause: 'other',
    message: `the MCP server refused the token with HTTP ${rejection.status}${said}`,
    hint: 'Decode it with ap-demo token mint --decode and compare iss, aud, scope and exp with the server\'s resource metadata.',
  }
}

/**
 * The cause of a 401/403 as the server itself states it: the challenge's scheme and error code,
 * and its error_description (or the body's). Undefined when the server is silent (a bare 401) or
 * says nothing readable: only then may a caller infer a cause from the token's claims, and it must
 * say that it is guessing. `bound`: the token was presented DPoP-bound (it carries cnf).
 */
export function statedCause(rejection: McpRejection, bound: boolean): Exclude<RejectionCause, 'missing_token' | 'other'> | undefined {
  const challenge = parseWwwAuthenticate(rejection.wwwAuthenticate)
  const body = (typeof rejection.body === 'object' && rejection.body !== null ? rejection.body : {}) as {error?: unknown; error_description?: unknown}
  const error = challenge?.params.error ?? (typeof body.error === 'string' ? body.error : undefined)
  const description = challenge?.params.error_description ?? (typeof body.error_description === 'string' ? body.error_description : '')
  const offered = challengeSchemes(rejection.wwwAuthenticate)
  if (rejection.status === 403 || error === 'insufficient_scope') return 'scope'
  if (dpopDiagnosis(error, description, bound, {scheme: rejection.scheme, offered})) return 'dpop'
  // RFC 9449 §7.1: a resource that offers only the DPoP scheme takes no Bearer token at all.
  const lower = offered.map((s) => s.toLowerCase())
  if (!bound && lower.includes('dpop') && !lower.includes('bearer')) return 'dpop'
  if (/audience|\baud\b/i.test(description)) return 'audience'
  if (/expired|\bexp\b|not (yet )?valid|\bnbf\b|\biat\b|clock/i.test(description)) return 'expired'
  if (/issuer|\biss\b/i.test(description)) return 'issuer'
  if (/signature|\bkid\b|jwks|\bkeys?\b/i.test(description)) return 'signature'
  return undefined
}
