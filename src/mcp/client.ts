import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {ErrorCode, type CallToolResult, type Tool} from '@modelcontextprotocol/sdk/types.js'

import type {DPoPHandle} from 'oauth4webapi'

import {DpopNonceError} from '../authplane/dpop-errors.js'
import {ApDemoError} from '../errors.js'
import {httpFetch} from '../http/fetch.js'
import {DryRunStop, HttpRedirectError, type RequestObserver} from '../http/request.js'
import {McpAuthRejectedError, McpProtocolError, McpToolArgumentError, McpUnreachableError, type McpRejection} from './errors.js'

export const CLIENT_INFO = {name: 'ap-demo', version: '0.1.0'}

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
}

export interface McpSession {
  client: Client
  sessionId: string | undefined
  serverInfo: {name: string; version: string} | undefined
  protocolVersion: string | undefined
}

/**
 * Runs `fn` inside one MCP session over streamable HTTP with the SDK's own client: initialize,
 * the `notifications/initialized` notification and the `mcp-session-id` header are handled by the
 * SDK (the original tier-02 agent skipped the last two). The session is closed afterwards.
 */
export async function withMcpSession<T>(options: McpSessionOptions, fn: (session: McpSession) => Promise<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  let rejection: McpRejection | undefined
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (options.observer) {
      const headers: Record<string, string> = {}
      new Headers(init?.headers).forEach((value, key) => {
        headers[key] = value
      })
      options.observer({method: init?.method ?? 'GET', url: String(input), headers, body: typeof init?.body === 'string' ? init.body : undefined})
    }
    // Not followed: the bearer token would go wherever the redirect points.
    const response = await httpFetch(input, {...init, redirect: 'manual', signal: init?.signal ?? AbortSignal.timeout(timeoutMs)})
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      void response.body?.cancel().catch(() => {})
      throw new HttpRedirectError(String(input), response.status, response.headers.get('location'))
    }
    if (response.status === 401 || response.status === 403) {
      const text = await response.clone().text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {}
      rejection = {status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body}
    } else if (response.ok) {
      // A nonce challenge answered by the retry is not the reason for a later failure.
      rejection = undefined
    }
    return response
  }
  const dpop = options.dpop !== undefined && options.accessToken !== undefined
  const transportFetch = dpop
    ? // Loaded only for DPoP: a plain call does not need oauth4webapi.
      (await import('../authplane/dpop.js')).dpopFetch({handle: options.dpop!, accessToken: options.accessToken!, fetch: recordingFetch})
    : recordingFetch
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: options.accessToken && !dpop ? {headers: {Authorization: `Bearer ${options.accessToken}`}} : undefined,
    fetch: transportFetch,
    // A CLI call is one request/response exchange; reconnecting a dropped SSE stream is not wanted.
    reconnectionOptions: {maxReconnectionDelay: 1000, initialReconnectionDelay: 100, reconnectionDelayGrowFactor: 1, maxRetries: 0},
  })
  const client = new Client(CLIENT_INFO, {capabilities: {}})
  const translate = (error: unknown): Error => {
    const dryRun = findCause(error, DryRunStop)
    if (dryRun) return dryRun
    const redirect = findCause(error, HttpRedirectError)
    if (redirect) return redirect
    const nonceLoop = findCause(error, DpopNonceError)
    if (nonceLoop) return nonceLoop
    if (rejection) return new McpAuthRejectedError(options.url, rejection)
    const e = error as Error & {code?: number; cause?: {code?: string}}
    if (e?.name === 'TypeError' || e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.cause?.code) {
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutMs / 1000} s` : `cannot connect${e.cause?.code ? ` (${e.cause.code})` : ''}`
      return new McpUnreachableError(options.url, `MCP server ${new URL(options.url).origin}: ${why}`, {cause: error})
    }
    // The SDK's own request timeout (JSON-RPC error -32001): the server took too long to answer.
    if (e?.code === ErrorCode.RequestTimeout) {
      return new McpUnreachableError(options.url, `MCP server ${new URL(options.url).origin}: no answer within ${timeoutMs / 1000} s`, {cause: error})
    }
    const status = typeof e?.code === 'number' && e.code >= 100 ? e.code : undefined
    // The SDK quotes the server's body as it came, trailing newline and all (Go's "404 page not found\n").
    return new McpProtocolError(options.url, status, (e?.message ?? String(error)).trim(), {cause: error})
  }
  try {
    await client.connect(transport, {timeout: timeoutMs})
  } catch (error) {
    await transport.close().catch(() => {})
    throw translate(error)
  }
  try {
    return await fn({
      client,
      sessionId: transport.sessionId,
      serverInfo: client.getServerVersion(),
      protocolVersion: transport.protocolVersion,
    })
  } catch (error) {
    // Errors of the caller's own making (a bad argument, an unknown tool) pass through as they are.
    throw error instanceof McpToolArgumentError || error instanceof ApDemoError ? error : translate(error)
  } finally {
    // DELETE ends the session on the server (streamable HTTP §session management).
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
  return (await session.client.callTool({name, arguments: args}, undefined, {timeout: timeoutMs})) as CallToolResult
}

/** The text parts of a tool result, joined by newlines. */
export function resultText(result: CallToolResult): string {
  return result.content
    .filter((part): part is {type: 'text'; text: string} => part.type === 'text')
    .map((part) => part.text)
    .join('\n')
}
