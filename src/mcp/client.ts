import {
  Client,
  ProtocolError,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  StreamableHTTPClientTransport,
  type CallToolResult,
  type Tool,
  type VersionNegotiationMode,
} from '@modelcontextprotocol/client'

import type {DPoPHandle} from 'oauth4webapi'

import {DpopNonceError} from '../authplane/dpop-errors.js'
import type {DpopSchemeMemo} from '../authplane/dpop.js'
import {ApDemoError} from '../errors.js'
import {httpFetch} from '../http/fetch.js'
import {DryRunStop, HttpRedirectError, type RequestObserver} from '../http/request.js'
import {McpAuthRejectedError, McpProtocolError, McpProtocolVersionError, McpToolArgumentError, McpUnreachableError, serverText, type McpRejection} from './errors.js'
import {CLIENT_INFO, eraOf, LEGACY_REVISION, MODERN_REVISION, UNSUPPORTED_PROTOCOL_VERSION, type McpEra, type McpProtocolChoice} from './protocol.js'

export type {CallToolResult, Tool} from '@modelcontextprotocol/client'

export {CLIENT_INFO} from './protocol.js'


export interface McpSessionOptions {
  url: string
  accessToken?: string
  timeoutMs?: number
  observer?: RequestObserver
  /**
   * RFC 9449 §7: send the (DPoP-bound) access token as `Authorization: DPoP` with a proof of this
   * handle's key on every request, and answer a `use_dpop_nonce` challenge once.
   */
  dpop?: DPoPHandle
  /**
   * With `dpop`: the scheme the token goes under, per resource (`DPoP`, or `Bearer` plus the proof
   * for servers that read only Bearer); default `auto`, taken from the server's challenge.
   */
  dpopSchemes?: DpopSchemeMemo
  /**
   * Which protocol revision to speak (default `auto`): `auto` probes with `server/discover` and
   * falls back to the 2025 `initialize` handshake against a 2025-only server; a revision pins it
   * (the SDK's `versionNegotiation`).
   */
  protocol?: McpProtocolChoice
}

export interface McpSession {
  client: Client
  /** The 2025 era's `Mcp-Session-Id`; the 2026-07-28 era has no sessions. */
  sessionId: string | undefined
  serverInfo: {name: string; version: string} | undefined
  protocolVersion: string | undefined
  /** `modern` (2026-07-28: server/discover, stateless) or `legacy` (2025: initialize, a session). */
  era: McpEra
}

/** The SDK's negotiation mode for a choice (docs/protocol-versions.md of the SDK). */
function negotiation(choice: McpProtocolChoice): VersionNegotiationMode {
  if (choice === LEGACY_REVISION) return 'legacy'
  if (choice === MODERN_REVISION) return {pin: MODERN_REVISION}
  return 'auto'
}

/** What the connection's requests met that the SDK's errors do not carry. */
interface Seen {
  /** The last 401/403, kept for the diagnosis (cleared by a later success). */
  rejection?: McpRejection
  /** The last `-32022` answer (cleared by a later success: the SDK may have recovered from it). */
  unsupported?: {supported?: string[]; requested?: string; message?: string}
  /** The `server/discover` probe's answer. */
  discover?: {status: number; supported?: string[]}
  /** A request that got no answer at all (refused connection, timeout). */
  unreachable?: unknown
}

function jsonRpcMethod(body: unknown): string | undefined {
  if (typeof body !== 'string' || !body.includes('"method"')) return undefined
  try {
    const message = JSON.parse(body) as {method?: unknown}
    return typeof message.method === 'string' ? message.method : undefined
  } catch {
    return undefined
  }
}

async function jsonBody(response: Response): Promise<Record<string, unknown> | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined
  try {
    const value = (await response.clone().json()) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

// Server text ends up in error messages: kept short and printable (serverText).
const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]).slice(0, 20).map(serverText) : undefined)

/**
 * Runs `fn` inside one MCP connection over streamable HTTP with the official SDK's client (v2).
 * The protocol era is negotiated as `options.protocol` says: in the 2025 era the SDK runs
 * initialize, the `notifications/initialized` notification and the `mcp-session-id` header (the
 * original tier-02 agent skipped the last two) and the session is ended afterwards; in the
 * 2026-07-28 era it runs `server/discover` and every request carries the protocol version.
 */
export async function withMcpSession<T>(options: McpSessionOptions, fn: (session: McpSession) => Promise<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const choice = options.protocol ?? 'auto'
  const seen: Seen = {}
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (options.observer) {
      const headers: Record<string, string> = {}
      new Headers(init?.headers).forEach((value, key) => {
        headers[key] = value
      })
      options.observer({method: init?.method ?? 'GET', url: String(input), headers, body: typeof init?.body === 'string' ? init.body : undefined})
    }
    let response: Response
    try {
      // Not followed: the bearer token would go wherever the redirect points.
      response = await httpFetch(input, {...init, redirect: 'manual', signal: init?.signal ?? AbortSignal.timeout(timeoutMs)})
    } catch (error) {
      seen.unreachable = error
      throw error
    }
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      void response.body?.cancel().catch(() => {})
      throw new HttpRedirectError(String(input), response.status, response.headers.get('location'))
    }
    const method = jsonRpcMethod(init?.body)
    if (response.status === 401 || response.status === 403) {
      const text = await response.clone().text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {}
      const scheme = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s/.exec(new Headers(init?.headers).get('authorization') ?? '')?.[1]
      seen.rejection = {status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body, ...(scheme ? {scheme} : {})}
    } else if (response.ok) {
      // A nonce challenge answered by the retry, or a -32022 the SDK recovered from, is not the
      // reason for a later failure.
      seen.rejection = undefined
      seen.unsupported = undefined
    } else if (response.status === 400) {
      const error = (await jsonBody(response))?.error as {code?: unknown; message?: unknown; data?: {supported?: unknown; requested?: unknown}} | undefined
      if (error?.code === UNSUPPORTED_PROTOCOL_VERSION) {
        seen.unsupported = {
          supported: strings(error.data?.supported),
          requested: typeof error.data?.requested === 'string' ? serverText(error.data.requested) : undefined,
          message: typeof error.message === 'string' ? serverText(error.message) : undefined,
        }
      }
    }
    if (method === 'server/discover') {
      const result = response.ok ? ((await jsonBody(response))?.result as {supportedVersions?: unknown} | undefined) : undefined
      seen.discover = {status: response.status, supported: strings(result?.supportedVersions)}
    }
    return response
  }
  const dpop = options.dpop !== undefined && options.accessToken !== undefined
  const transportFetch = dpop
    ? // Loaded only for DPoP: a plain call does not need oauth4webapi.
      (await import('../authplane/dpop.js')).dpopFetch({handle: options.dpop!, accessToken: options.accessToken!, fetch: recordingFetch, schemes: options.dpopSchemes})
    : recordingFetch
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: options.accessToken && !dpop ? {headers: {Authorization: `Bearer ${options.accessToken}`}} : undefined,
    fetch: transportFetch,
    // ap-demo answers a 403 insufficient_scope itself, with a client_credentials token for more
    // scopes (walkthrough/tool.ts): the SDK's step-up needs an interactive OAuth provider.
    onInsufficientScope: 'throw',
    // A CLI call is one request/response exchange; reconnecting a dropped SSE stream is not wanted.
    reconnectionOptions: {maxReconnectionDelay: 1000, initialReconnectionDelay: 100, reconnectionDelayGrowFactor: 1, maxRetries: 0},
  })
  const client = new Client(CLIENT_INFO, {capabilities: {}, versionNegotiation: {mode: negotiation(choice), probe: {timeoutMs}}})
  const translate = (error: unknown): Error => {
    const dryRun = findCause(error, DryRunStop)
    if (dryRun) return dryRun
    const redirect = findCause(error, HttpRedirectError)
    if (redirect) return redirect
    const nonceLoop = findCause(error, DpopNonceError)
    if (nonceLoop) return nonceLoop
    if (seen.rejection) return new McpAuthRejectedError(options.url, seen.rejection)
    if (seen.unreachable !== undefined) {
      const e = seen.unreachable as Error & {cause?: {code?: string}}
      const why = e?.name === 'TimeoutError' || e?.name === 'AbortError' ? `no answer within ${timeoutMs / 1000} s` : `cannot connect${e?.cause?.code ? ` (${e.cause.code})` : ''}`
      return new McpUnreachableError(options.url, `MCP server ${new URL(options.url).origin}: ${why}`, {cause: error})
    }
    if (seen.unsupported) {
      const u = seen.unsupported
      return new McpProtocolVersionError(options.url, choice, u.requested, u.supported, `it answered JSON-RPC ${UNSUPPORTED_PROTOCOL_VERSION}${u.message ? ` (${u.message})` : ''}`, {cause: error})
    }
    if (error instanceof SdkError && error.code === SdkErrorCode.EraNegotiationFailed && choice === MODERN_REVISION && seen.discover && seen.discover.status < 500) {
      const d = seen.discover
      const detail =
        d.status >= 200 && d.status < 300
          ? `its server/discover answer does not offer ${MODERN_REVISION}`
          : `it answered server/discover with HTTP ${d.status}, as a server of the 2025 era (initialize and sessions) does`
      return new McpProtocolVersionError(options.url, choice, MODERN_REVISION, d.supported, detail, {cause: error})
    }
    // The SDK's own request timeout: the server took too long to answer.
    if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
      return new McpUnreachableError(options.url, `MCP server ${new URL(options.url).origin}: no answer within ${timeoutMs / 1000} s`, {cause: error})
    }
    const e = error as Error
    const status = error instanceof SdkHttpError ? error.status : undefined
    // The SDK quotes the server's body as it came, trailing newline and all (Go's "404 page not found\n").
    const message = error instanceof ProtocolError || error instanceof SdkError ? e.message : (e?.message ?? String(error))
    return new McpProtocolError(options.url, status, message.trim(), {cause: error})
  }
  try {
    await client.connect(transport, {timeout: timeoutMs})
  } catch (error) {
    await transport.close().catch(() => {})
    throw translate(error)
  }
  try {
    const protocolVersion = client.getNegotiatedProtocolVersion()
    return await fn({
      client,
      sessionId: transport.sessionId,
      serverInfo: client.getServerVersion(),
      protocolVersion,
      era: client.getProtocolEra() ?? (protocolVersion ? eraOf(protocolVersion) : 'legacy'),
    })
  } catch (error) {
    // Errors of the caller's own making (a bad argument, an unknown tool) pass through as they are.
    throw error instanceof McpToolArgumentError || error instanceof ApDemoError ? error : translate(error)
  } finally {
    // DELETE ends a 2025 session on the server (streamable HTTP §session management); without a
    // session id (2026-07-28) nothing is sent.
    await transport.terminateSession().catch(() => {})
    await client.close().catch(() => {})
  }
}

/** The SDK may wrap what the fetch threw; a dry-run stop or a DPoP nonce loop must come out as itself. */
function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e = error as {cause?: unknown} | undefined, depth = 0; e && depth < 5; e = e.cause as {cause?: unknown} | undefined, depth++) {
    if (e instanceof type) return e as T
  }
  return undefined
}

export async function listTools(session: McpSession, timeoutMs = 10_000): Promise<Tool[]> {
  const result = await session.client.listTools(undefined, {timeout: timeoutMs})
  return result.tools
}

export async function callTool(session: McpSession, name: string, args: Record<string, unknown>, timeoutMs = 10_000): Promise<CallToolResult> {
  return session.client.callTool({name, arguments: args}, {timeout: timeoutMs})
}

/** The text parts of a tool result, joined by newlines. */
export function resultText(result: CallToolResult): string {
  return result.content
    .filter((part): part is {type: 'text'; text: string} => part.type === 'text')
    .map((part) => part.text)
    .join('\n')
}
