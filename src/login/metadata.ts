// Authorization server metadata as an MCP client finds it (MCP authorization 2025-11-25,
// "Authorization Server Metadata Discovery"): RFC 8414 first, then the OpenID Connect Discovery
// locations, in the order the spec gives; and, for a server that publishes no protected resource
// metadata at all, the 2025-03-26 revision's fallbacks (metadata at the MCP server's origin, else
// its default endpoints /authorize, /token and /register).
import * as oauth from 'oauth4webapi'

import {CheckFailedError, ConfigError, UnreachableError} from '../errors.js'
import {readText, send, type RequestObserver} from '../http/request.js'
import {fromServer} from './server-text.js'

export type MetadataSource =
  | 'oauth-authorization-server'
  | 'openid-configuration'
  | 'openid-configuration (appended)'
  | '2025-03-26 metadata at the origin'
  | '2025-03-26 default endpoints'

export interface AuthorizationServerInfo {
  /** RFC 8414 §2 metadata as oauth4webapi takes it (for the default endpoints: made from them). */
  metadata: oauth.AuthorizationServer
  /** Where the document was read; undefined for the 2025-03-26 default endpoints. */
  metadataUrl?: string
  source: MetadataSource
  /** False in the 2025-03-26 fallbacks: there was no issuer to compare the document with. */
  issuerChecked: boolean
  /** The locations tried before, each with why it was passed over. */
  misses: string[]
}

export interface MetadataOptions {
  timeoutMs: number
  observer?: RequestObserver
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

/** http:// is development mode: loopback hosts only, as for the configured issuer (contract §4). */
export function insecureAllowed(url: string | URL): boolean {
  const u = typeof url === 'string' ? new URL(url) : url
  return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname))
}

/**
 * The metadata locations for `issuer`, in the spec's order. With a path component
 * (`https://as.example/tenant1`): RFC 8414 path insertion, OpenID Connect path insertion, then
 * OpenID Connect path appending. Without one: RFC 8414, then OpenID Connect.
 */
export function metadataCandidates(issuer: string): Array<{url: string; source: MetadataSource}> {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  if (path === '') {
    return [
      {url: `${url.origin}/.well-known/oauth-authorization-server`, source: 'oauth-authorization-server'},
      {url: `${url.origin}/.well-known/openid-configuration`, source: 'openid-configuration'},
    ]
  }
  return [
    {url: `${url.origin}/.well-known/oauth-authorization-server${path}`, source: 'oauth-authorization-server'},
    {url: `${url.origin}/.well-known/openid-configuration${path}`, source: 'openid-configuration'},
    {url: `${url.origin}${path}/.well-known/openid-configuration`, source: 'openid-configuration (appended)'},
  ]
}

/** Contract §4 (newer SDK lines): one trailing slash is not a difference between two issuers. */
export function sameIssuer(a: unknown, b: string): boolean {
  return typeof a === 'string' && a.replace(/\/$/, '') === b.replace(/\/$/, '')
}

/**
 * Finds and checks the metadata of `issuer` (from the MCP server's resource metadata). A location
 * that answers 4xx is passed over; a 5xx, a network failure or a document naming another issuer
 * stops the search (RFC 8414 §3.3: such a document must not be used).
 */
export async function discoverAuthorizationServer(issuer: string, options: MetadataOptions): Promise<AuthorizationServerInfo> {
  let issuerUrl: URL
  try {
    issuerUrl = new URL(issuer)
  } catch {
    throw new CheckFailedError('issuer_invalid', `the MCP server names the authorization server "${fromServer(issuer)}", which is not an absolute URL`, {
      hint: 'Its resource metadata must list issuer identifiers (https URLs) in authorization_servers.',
    })
  }
  if (!insecureAllowed(issuerUrl)) {
    throw new ConfigError('insecure_issuer', `the authorization server ${issuer} is not https; plain http is allowed only on loopback hosts (RFC 8414 §2)`, {
      hint: 'Use the https issuer the server announces.',
      details: {issuer},
    })
  }
  const misses: string[] = []
  for (const candidate of metadataCandidates(issuer)) {
    const found = await readMetadata(candidate.url, options)
    if (found.status !== 200) {
      misses.push(`${candidate.url} (${found.status})`)
      continue
    }
    const document = parseDocument(found.text, candidate.url)
    if (!sameIssuer(document.issuer, issuer)) {
      throw new CheckFailedError(
        'issuer_mismatch',
        `the metadata at ${candidate.url} announces issuer ${JSON.stringify(fromServer(String(document.issuer)))}, but the MCP server names ${JSON.stringify(issuer)}`,
        {
          hint: 'RFC 8414 §3.3: the two must be identical, or the document may belong to another server. The MCP server\'s authorization_servers must list the exact issuer string the authorization server announces.',
          details: {expected: issuer, actual: document.issuer, metadataUrl: candidate.url},
        },
      )
    }
    return {metadata: await checked(document, found.text, candidate.url), metadataUrl: candidate.url, source: candidate.source, issuerChecked: true, misses}
  }
  throw new UnreachableError('as_metadata_missing', `${issuer} publishes no authorization server metadata: ${misses.join(', ')}`, {
    hint: 'The issuer the MCP server names must serve RFC 8414 (or OpenID Connect Discovery) metadata. Check the authorization_servers of its protected resource metadata.',
    details: {issuer, tried: misses},
  })
}

/**
 * MCP 2025-03-26, for a server that publishes no protected resource metadata: the authorization
 * server is the MCP server's origin; its RFC 8414 metadata there, else the default endpoints.
 * That revision had no issuer to compare with, so the document's own issuer is taken as it is.
 */
export async function legacyAuthorizationServer(mcpUrl: string, options: MetadataOptions): Promise<AuthorizationServerInfo> {
  const origin = new URL(mcpUrl).origin
  if (!insecureAllowed(origin)) {
    throw new ConfigError('insecure_issuer', `the MCP server ${origin} is not https; plain http is allowed only on loopback hosts`, {hint: 'Use the server\'s https URL.', details: {mcpUrl}})
  }
  const url = `${origin}/.well-known/oauth-authorization-server`
  const found = await readMetadata(url, options)
  if (found.status === 200) {
    const document = parseDocument(found.text, url)
    return {metadata: await checked(document, found.text, url), metadataUrl: url, source: '2025-03-26 metadata at the origin', issuerChecked: false, misses: []}
  }
  const metadata: oauth.AuthorizationServer = {
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
  }
  return {metadata, source: '2025-03-26 default endpoints', issuerChecked: false, misses: [`${url} (${found.status})`]}
}

async function readMetadata(url: string, options: MetadataOptions): Promise<{status: number; text: string}> {
  const response = await send(url, {headers: {Accept: 'application/json'}, timeoutMs: options.timeoutMs, observer: options.observer})
  const text = await readText(response, url)
  if (response.status >= 500) {
    throw new UnreachableError('as_metadata_unavailable', `GET ${url} answered HTTP ${response.status}`, {
      hint: 'The authorization server is failing; check its logs.',
      details: {url, httpStatus: response.status},
    })
  }
  return {status: response.status, text}
}

function parseDocument(text: string, url: string): Record<string, unknown> {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw new CheckFailedError('as_metadata_invalid', `${url} answered 200 with a body that is not JSON`, {hint: 'An authorization server metadata document is a JSON object (RFC 8414 §3.2).', details: {url}})
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new CheckFailedError('as_metadata_invalid', `${url} answered 200 with JSON that is not an object`, {hint: 'An authorization server metadata document is a JSON object (RFC 8414 §3.2).', details: {url}})
  }
  return document as Record<string, unknown>
}

/**
 * oauth4webapi's own checks of the document. The issuer was compared above (byte for byte but for
 * one trailing slash, or not at all in the 2025-03-26 fallback), so it is given the document's own.
 */
async function checked(document: Record<string, unknown>, text: string, url: string): Promise<oauth.AuthorizationServer> {
  if (typeof document.issuer !== 'string' || !/^[\x21-\x7e]+$/.test(document.issuer)) {
    throw new CheckFailedError('as_metadata_invalid', `the metadata at ${url} has no usable "issuer" (${document.issuer === undefined ? 'none' : `"${fromServer(String(document.issuer), 120)}"`})`, {
      hint: 'RFC 8414 §2: the issuer is an https URL; §3.3: it identifies the server the document belongs to.',
      details: {url},
    })
  }
  try {
    const response = new Response(text, {status: 200, headers: {'content-type': 'application/json'}})
    return await oauth.processDiscoveryResponse(new URL(String(document.issuer)), response)
  } catch (cause) {
    throw new CheckFailedError('as_metadata_invalid', `the metadata at ${url} is not usable: ${(cause as Error).message}`, {
      hint: 'RFC 8414 §2 lists the members a metadata document must have (issuer, and the endpoints the flow uses).',
      details: {url, issuer: document.issuer ?? null},
      cause,
    })
  }
}
