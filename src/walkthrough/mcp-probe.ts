import {UnreachableError, CheckFailedError} from '../errors.js'
import {httpFetch} from '../http/fetch.js'
import {readJson, readText, send, type RequestObserver} from '../http/request.js'
import {parseWwwAuthenticate} from '../mcp/diagnose.js'
import type {WaitOptions} from './discovery.js'
import {CLIENT_INFO, LEGACY_REVISION, MODERN_REVISION, modernMeta, type McpEra} from '../mcp/protocol.js'
import {pollUntilReady} from './wait.js'

export interface ProbeResult {
  status: number
  wwwAuthenticate: string | null
  body: unknown
  /** RFC 9449 §9: the nonce the server wants in the next proof, if it sent one. */
  dpopNonce: string | null
}

export interface ProbeOptions {
  timeoutMs: number
  observer?: RequestObserver
  /** Credentials to send instead of `Bearer <accessToken>` (a DPoP token and its proof). */
  authHeaders?: Record<string, string>
  /** Credentials for the DELETE that closes a session the probe opened (a DPoP proof is per request). */
  closeHeaders?: () => Promise<Record<string, string>>
  /**
   * The protocol era to probe in (default `legacy`): `legacy` sends a 2025 `initialize` (and ends
   * the session it opens), `modern` a 2026-07-28 `server/discover` (stateless: nothing to end).
   */
  era?: McpEra
}

/**
 * The first request of an MCP connection, as curl would send it. 2025 era: `initialize`. 2026-07-28:
 * `server/discover`, with the revision in `_meta` and in the MCP-Protocol-Version and Mcp-Method
 * headers, as the SDK's client sends it.
 */
export function firstRequest(era: McpEra): {headers: Record<string, string>; body: string} {
  const headers: Record<string, string> = {'Content-Type': 'application/json', Accept: 'application/json, text/event-stream'}
  if (era === 'modern') {
    headers['MCP-Protocol-Version'] = MODERN_REVISION
    headers['Mcp-Method'] = 'server/discover'
    const body = {jsonrpc: '2.0', id: 1, method: 'server/discover', params: {_meta: modernMeta()}}
    return {headers, body: JSON.stringify(body)}
  }
  const body = {jsonrpc: '2.0', id: 1, method: 'initialize', params: {protocolVersion: LEGACY_REVISION, capabilities: {}, clientInfo: CLIENT_INFO}}
  return {headers, body: JSON.stringify(body)}
}

/** One raw MCP request that opens a connection (see {@link firstRequest}), with an optional bearer token. */
export async function probeMcp(mcpUrl: string, accessToken: string | undefined, options: ProbeOptions): Promise<ProbeResult> {
  const {headers, body} = firstRequest(options.era ?? 'legacy')
  if (options.authHeaders) Object.assign(headers, options.authHeaders)
  else if (accessToken !== undefined) headers.Authorization = `Bearer ${accessToken}`
  // Without credentials the server refuses before anything happens: --dry-run sends it.
  const readOnly = accessToken === undefined && !options.authHeaders
  const response = await send(mcpUrl, {method: 'POST', headers, body, timeoutMs: options.timeoutMs, observer: options.observer, readOnly})
  const contentType = response.headers.get('content-type') ?? ''
  const parsed = contentType.includes('json') ? await readJson(response) : await readText(response, mcpUrl)
  const sessionId = response.headers.get('mcp-session-id')
  if (sessionId) {
    // A probe that got in opened a session; end it rather than leave it to the idle sweep.
    const close = options.closeHeaders ? await options.closeHeaders().catch(() => ({})) : {}
    await httpFetch(mcpUrl, {method: 'DELETE', headers: {...headers, ...close, 'mcp-session-id': sessionId}, signal: AbortSignal.timeout(options.timeoutMs)}).catch(() => {})
  }
  return {status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: parsed, dpopNonce: response.headers.get('dpop-nonce')}
}

/** The 2025 `initialize` probe (what {@link probeMcp} sends by default). */
export async function probeInitialize(mcpUrl: string, accessToken: string | undefined, options: ProbeOptions): Promise<ProbeResult> {
  return probeMcp(mcpUrl, accessToken, {...options, era: 'legacy'})
}

export interface McpReadiness {
  status: number
  resourceMetadataUrl: string
  resourceMetadata: {resource?: string; authorization_servers?: string[]; scopes_supported?: string[]}
}

/**
 * Step 2 (contract §6): wait for the MCP server, which must refuse an unauthenticated request with
 * 401 (or 405), and whose WWW-Authenticate must name its RFC 9728 resource metadata.
 */
export async function waitForMcpServer(mcpUrl: string, options: WaitOptions & {era?: McpEra; negotiate?: boolean}): Promise<McpReadiness> {
  const unreachable = {what: 'the MCP server', url: mcpUrl, start: 'Start it (ap-demo stack up, or ap-demo stack mcp) or fix --mcp-url'}
  return pollUntilReady({...options, notReadyCode: 'mcp_not_ready', unreachable}, async (timeoutMs, first) => {
    const observer = first ? options.observer : undefined
    let probe = await probeMcp(mcpUrl, undefined, {timeoutMs, observer, era: options.era})
    // --protocol auto: a server of one era may refuse the other era's request before it looks for a
    // token (400, JSON-RPC -32022); then the other era is asked, as the client's negotiation does.
    if (probe.status === 400 && options.negotiate) probe = await probeMcp(mcpUrl, undefined, {timeoutMs, observer, era: options.era === 'modern' ? 'legacy' : 'modern'})
    if (probe.status === 401 || probe.status === 405) {
      const metadataUrl = parseWwwAuthenticate(probe.wwwAuthenticate)?.params.resource_metadata
      if (!metadataUrl) {
        throw new CheckFailedError('no_resource_metadata', `the MCP server answered ${probe.status} but its WWW-Authenticate names no resource_metadata`, {
          hint: 'A tier-01 server announces its RFC 9728 metadata URL in WWW-Authenticate; is --mcp-url the right server?',
          details: {httpStatus: probe.status, wwwAuthenticate: probe.wwwAuthenticate},
        })
      }
      const response = await send(metadataUrl, {headers: {Accept: 'application/json'}, timeoutMs: options.requestTimeoutMs})
      const resourceMetadata = ((await readJson(response)) ?? {}) as McpReadiness['resourceMetadata']
      if (response.status !== 200) {
        throw new CheckFailedError('no_resource_metadata', `the resource metadata ${metadataUrl} answered HTTP ${response.status}`, {details: {httpStatus: response.status}})
      }
      return {status: probe.status, resourceMetadataUrl: metadataUrl, resourceMetadata}
    }
    if (probe.status >= 200 && probe.status < 300) {
      throw new CheckFailedError('mcp_unprotected', 'the MCP server accepted a request without a token', {
        hint: 'This server is not protected by Authplane; point --mcp-url at the tier-01 server.',
        details: {httpStatus: probe.status},
      })
    }
    throw new (probe.status >= 500 ? UnreachableError : CheckFailedError)('mcp_not_ready', `the MCP server answered HTTP ${probe.status} to an unauthenticated request (expected 401)`, {
      hint: probe.status === 404 ? 'Nothing serves MCP there: check --mcp-url (tier 01 uses http://localhost:8080/mcp).' : 'Check the MCP server\'s logs (503 means it cannot reach the issuer\'s metadata or JWKS).',
      details: {httpStatus: probe.status, body: probe.body},
    })
  })
}
