// The tier-01 MCP echo server (authplane-contract.md §5): MCP streamable HTTP on `/mcp`, every
// request authorized by an RFC 9068 access token of the configured issuer, plus the RFC 9728
// protected resource metadata that tells clients where to get such a token.
//
// Two protocol eras (contract §5b), on the official SDK v2, are two front doors to one set of tools
// and one auth check: the 2025 era (initialize, a stateful session, the GET stream, the session cap)
// through the SDK's NodeStreamableHTTPServerTransport, exactly as before; the 2026-07-28 era
// (server/discover, stateless, the protocol version in each request) through `createMcpHandler`
// in its strict mode. The SDK's own predicate, `isLegacyRequest`, picks the door. Host guard, CORS,
// the token and DPoP checks and per-tool scopes run before either door, the same for both.
import {randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {NodeStreamableHTTPServerTransport, toNodeHandler} from '@modelcontextprotocol/node'
import {createMcpHandler, isInitializeRequest, isLegacyRequest, type AuthInfo} from '@modelcontextprotocol/server'

import {MCP_PROTOCOL_MODES, type McpProtocolMode, type McpServerHandle, type McpServerOptions} from '../types.js'
import {AuthFailure, BearerVerifier, dpopChallenges, wwwAuthenticate, type Principal} from './auth.js'
import {DPOP_MODES, DPOP_PROOF_ALGORITHMS, InboundDpop} from './dpop.js'
import {applyMcpCors} from './cors.js'
import {createEchoServer} from './echo-server.js'
import {createHostGuard, requireAuthority} from './host-guard.js'
import {SessionStore, type Session} from './sessions.js'

export {SERVER_INFO} from './echo-server.js'

const MCP_PATH = '/mcp'
const DEFAULT_PORT = 8080
const DEFAULT_SCOPE = 'mcp:echo'
const DEFAULT_SESSION_IDLE_MS = 10 * 60 * 1000
const DEFAULT_MAX_SESSIONS = 1000
/** Same bound the SDK applies when it reads the body itself. */
const MAX_BODY_BYTES = 4 * 1024 * 1024

export async function startMcpServer(opts: McpServerOptions): Promise<McpServerHandle> {
  const host = opts.host ?? '127.0.0.1'
  const requiredScope = opts.requiredScope ?? DEFAULT_SCOPE
  // Malformed URLs throw here, before anything is opened.
  new URL(opts.issuer)
  if (opts.issuerFetchUrl !== undefined) new URL(opts.issuerFetchUrl)
  if (opts.resource !== undefined) protectedResourceMetadataUrl(opts.resource)
  for (const entry of opts.allowedHosts ?? []) requireAuthority(entry)
  const dpopMode = opts.dpop ?? 'off'
  if (!DPOP_MODES.includes(dpopMode)) throw new Error(`unknown DPoP mode ${JSON.stringify(dpopMode)} (off, allowed or required)`)
  const toolScopes = checkToolScopes(opts.toolScopes ?? {})
  const protocol: McpProtocolMode = opts.protocol ?? 'both'
  if (!MCP_PROTOCOL_MODES.includes(protocol)) throw new Error(`unknown MCP protocol mode ${JSON.stringify(protocol)} (both, 2025-11-25 or 2026-07-28)`)

  const http = createServer()
  await listen(http, opts.port ?? DEFAULT_PORT, host)
  const port = (http.address() as AddressInfo).port
  const url = `http://${hostForUrl(host)}:${port}${MCP_PATH}`
  const resource = opts.resource ?? url
  const resourceMetadataUrl = protectedResourceMetadataUrl(resource)
  const metadataPath = new URL(resourceMetadataUrl).pathname
  const corsOrigins = [...(opts.corsOrigins ?? [])]
  const checkHost = createHostGuard({bindHost: host, port, resource, allowedHosts: opts.allowedHosts, allowedOrigins: corsOrigins})

  const shutdown = new AbortController()
  const verifier = new BearerVerifier({
    issuer: opts.issuer,
    issuerFetchUrl: opts.issuerFetchUrl,
    resource,
    requiredScope,
    signal: shutdown.signal,
    dpop: dpopMode === 'off' ? undefined : new InboundDpop({mode: dpopMode, requireNonce: opts.dpopNonce}),
  })
  const sessions = new SessionStore(
    opts.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
    opts.maxSessions ?? DEFAULT_MAX_SESSIONS,
  )
  let stopping: Promise<void> | undefined
  // The 2026-07-28 door: a fresh server per request from the same factory; 2025 traffic never
  // reaches it (strict mode), it goes to the sessions below, or is refused with -32022 when this
  // server speaks 2026-07-28 only.
  const modern = protocol === '2025-11-25' ? undefined : createMcpHandler(() => createEchoServer(), {legacy: 'reject'})
  const modernDoor = modern ? toNodeHandler(modern) : undefined

  const resourceMetadata = JSON.stringify({
    resource,
    authorization_servers: [opts.issuer],
    bearer_methods_supported: ['header'],
    resource_signing_alg_values_supported: ['RS256', 'ES256'],
    scopes_supported: [...new Set([requiredScope, ...Object.values(toolScopes)])],
    // RFC 9728 §2: announced only when the resource understands DPoP at all.
    ...(dpopMode === 'off'
      ? {}
      : {dpop_signing_alg_values_supported: [...DPOP_PROOF_ALGORITHMS], dpop_bound_access_tokens_required: dpopMode === 'required'}),
  })

  function refuse(res: ServerResponse, failure: AuthFailure): void {
    if (failure.status === 503) {
      // Not a bearer error: the token may be fine, we just cannot check it yet. OAuth's
      // `temporarily_unavailable` code (RFC 6749 §4.1.2.1) is the closest standard name.
      sendJson(res, 503, {error: failure.error, error_description: failure.description}, {'Retry-After': '5'})
      return
    }
    const challenge =
      dpopMode === 'off'
        ? wwwAuthenticate(failure.error, failure.description, failure.scope ?? requiredScope, resourceMetadataUrl)
        : dpopChallenges(failure, dpopMode, requiredScope, resourceMetadataUrl)
    sendJson(res, failure.status, {error: failure.error, error_description: failure.description}, {'WWW-Authenticate': challenge})
  }

  /** Per-tool scopes: every `tools/call` in the body must be allowed by the token's scopes. */
  function toolRefusal(body: unknown, principal: Principal, scheme: 'Bearer' | 'DPoP'): AuthFailure | undefined {
    for (const message of Array.isArray(body) ? body : [body]) {
      const call = message as {method?: unknown; params?: {name?: unknown}} | null
      if (call?.method !== 'tools/call' || typeof call.params?.name !== 'string') continue
      const needed = toolScopes[call.params.name]
      if (needed === undefined || principal.scopes.includes(needed)) continue
      // MCP authorization, scope challenge: `scope` lists every scope the request needs, so a
      // client can step up by asking for exactly those.
      const scope = [...new Set([requiredScope, ...principal.scopes.filter((s) => s !== requiredScope), needed])].join(' ')
      return new AuthFailure(403, 'insufficient_scope', `tool "${call.params.name}" requires the scope ${needed}`, scheme, scope)
    }
    return undefined
  }

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const nonce = verifier.dpopNonce()
    // RFC 9449 §9: the current nonce goes with every answer, so the next proof can carry it.
    if (nonce !== undefined) res.setHeader('DPoP-Nonce', nonce)
    let principal: Principal
    try {
      const target = {method: req.method ?? 'GET', urls: [`http://${headerValue(req, 'host') ?? ''}${MCP_PATH}`, resource]}
      principal = await verifier.verify(headerValue(req, 'authorization'), headerValue(req, 'dpop'), target)
    } catch (err) {
      if (err instanceof AuthFailure) return refuse(res, err)
      throw err
    }
    if (stopping) return sendJson(res, 503, {error: 'temporarily_unavailable', error_description: 'server is stopping'})
    // The SDK hands `req.auth` to tool handlers as `extra.authInfo`.
    const auth: AuthInfo = {
      token: principal.token,
      clientId: principal.clientId,
      scopes: principal.scopes,
      expiresAt: principal.expiresAt,
      resource: new URL(resource),
      extra: principal.jkt === undefined ? {sub: principal.sub} : {sub: principal.sub, jkt: principal.jkt},
    }
    ;(req as IncomingMessage & {auth?: AuthInfo}).auth = auth

    const method = req.method ?? 'GET'
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      return sendJsonRpcError(res, 405, -32000, 'Method not allowed.', {Allow: 'GET, POST, DELETE'})
    }

    let body: unknown
    if (method === 'POST') {
      const raw = await readBody(req)
      if (raw === 'too-large') {
        return sendJsonRpcError(res, 413, -32000, `Payload too large: the body exceeds ${MAX_BODY_BYTES} bytes`, {
          Connection: 'close',
        })
      }
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        return sendJsonRpcError(res, 400, -32700, 'Parse error: Invalid JSON')
      }
      const refusal = toolRefusal(body, principal, principal.jkt === undefined ? 'Bearer' : 'DPoP')
      if (refusal) return refuse(res, refusal)
    }

    if (modernDoor && (await speaksModern(req, method, body))) {
      await modernDoor(req, res, body)
      return
    }

    const sessionId = headerValue(req, 'mcp-session-id')
    if (sessionId !== undefined) {
      const session = sessions.lookup(sessionId, principal.sub)
      // Same answer as the SDK's own check, so clients re-initialize on an expired session.
      if (!session) return sendJsonRpcError(res, 404, -32001, 'Session not found')
      res.once('close', sessions.use(session))
      await session.transport.handleRequest(req, res, body)
      return
    }
    const initializes = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body)
    if (method === 'POST' && initializes) return openSession(req, res, body, principal.sub)
    sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required')
  }

  /**
   * Which door a request takes: with both eras, the SDK's own classification (a request with the
   * 2026-07-28 `_meta` envelope claim is modern; GET and DELETE are 2025 session operations); with
   * one era, that era's door, whatever the request says (the other era is refused there).
   */
  async function speaksModern(req: IncomingMessage, method: string, body: unknown): Promise<boolean> {
    if (protocol === '2026-07-28') return true
    if (method !== 'POST') return false
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
    }
    try {
      return !(await isLegacyRequest(new Request(`http://localhost${MCP_PATH}`, {method: 'POST', headers}), body))
    } catch {
      return false
    }
  }

  async function openSession(req: IncomingMessage, res: ServerResponse, body: unknown, sub: string): Promise<void> {
    const server = createEchoServer()
    let session: Session | undefined
    let release: (() => void) | undefined
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Runs before the initialize response is written, so the session is routable by the time
      // the client learns its id.
      onsessioninitialized: (id) => {
        session = {id, sub, server, transport, lastUsed: Date.now(), inFlight: 0}
        sessions.admit(session)
        release = sessions.use(session)
      },
    })
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.forget(transport.sessionId)
    }
    await server.connect(transport)
    res.once('close', () => release?.())
    try {
      await transport.handleRequest(req, res, body)
    } finally {
      // The SDK refused the request (406, 415, bad JSON-RPC...) before creating a session.
      if (!session) await server.close().catch(() => {})
    }
  }

  function handleResourceMetadata(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, {error: 'method_not_allowed', error_description: `${req.method} is not allowed here`}, {
        Allow: 'GET, HEAD',
      })
    }
    res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(resourceMetadata)})
    res.end(req.method === 'HEAD' ? undefined : resourceMetadata)
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
    // DNS rebinding (host-guard.ts) is decided before authentication: a rebound browser request
    // learns nothing, not even whether a token would have been accepted.
    const refusal = checkHost(headerValue(req, 'host'), headerValue(req, 'origin'))
    if (refusal) {
      if (path === MCP_PATH) return sendJsonRpcError(res, 403, -32000, `Forbidden: ${refusal.message}`)
      return sendJson(res, 403, {error: 'forbidden', error_description: refusal.message})
    }
    // CORS preflight: answered here, before authentication (browsers send no token with it).
    if (applyMcpCors(corsOrigins, req, res)) return
    if (path === metadataPath) return handleResourceMetadata(req, res)
    if (path === MCP_PATH) return handleMcp(req, res)
    sendJson(res, 404, {error: 'not_found', error_description: `no route for ${req.method ?? 'GET'} ${path}`})
  }

  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, {error: 'server_error', error_description: 'internal error'})
      else res.destroy()
    })
  })

  return {
    url,
    resource,
    resourceMetadataUrl,
    protocol,
    sessionCount: () => sessions.size,
    stop() {
      stopping ??= (async () => {
        shutdown.abort()
        await modern?.close().catch(() => {})
        await sessions.closeAll()
        await closeServer(http)
      })()
      return stopping
    },
  }
}

/** `tool=scope` entries: a scope is one RFC 6749 §3.3 scope-token (no spaces, quotes or backslashes). */
function checkToolScopes(toolScopes: Record<string, string>): Record<string, string> {
  for (const [tool, scope] of Object.entries(toolScopes)) {
    if (tool === '') throw new Error('a tool scope needs a tool name (tool=scope)')
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) throw new Error(`the scope ${JSON.stringify(scope)} for tool "${tool}" is not a single scope token`)
  }
  return {...toolScopes}
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening)
      // Nothing but the server exists yet; closing it releases its handle before we report.
      server.close(() => reject(err))
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    // Keep-alive sockets and open SSE streams would otherwise hold close() open indefinitely.
    server.closeAllConnections()
  })
}

/** Wildcard binds are reachable as localhost; IPv6 literals need brackets in a URL. */
function hostForUrl(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::' || host === '[::]') return 'localhost'
  if (host.includes(':') && !host.startsWith('[')) return `[${host}]`
  return host
}

/** RFC 9728 §3.1: the well-known segment goes between the origin and the resource's path. */
function protectedResourceMetadataUrl(resource: string): string {
  const u = new URL(resource)
  const path = u.pathname === '/' ? '' : u.pathname
  return `${u.origin}/.well-known/oauth-protected-resource${path}${u.search}`
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        tooLarge = true
        chunks.length = 0
        resolve('too-large')
      } else {
        chunks.push(chunk)
      }
    })
    req.once('end', () => {
      if (!tooLarge) resolve(Buffer.concat(chunks))
    })
    req.once('error', reject)
  })
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}

/** Transport-level errors use the SDK's JSON-RPC error shape so MCP clients parse them alike. */
function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, {jsonrpc: '2.0', error: {code, message}, id: null}, headers)
}
