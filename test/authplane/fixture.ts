import {after, before, beforeEach} from 'node:test'
/**
 * A scriptable loopback HTTP server for the authplane client tests. Each test scripts the answers per
 * `METHOD /path`; every request is recorded with its method, path, headers and body.
 */
import {createServer, type IncomingHttpHeaders, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface RecordedRequest {
  method: string
  /** Path including the query string, exactly as sent. */
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Reply {
  status?: number
  headers?: Record<string, string>
  /** Objects are sent as JSON (content-type application/json unless headers say otherwise). */
  body?: string | Record<string, unknown>
  /** Wait this long before answering (for timeout tests). */
  delayMs?: number
}

export type Responder = Reply | ((req: RecordedRequest, index: number) => Reply)

export class FixtureServer {
  readonly requests: RecordedRequest[] = []
  private readonly routes = new Map<string, Responder>()
  private readonly timers = new Set<NodeJS.Timeout>()

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<FixtureServer> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as AddressInfo
    const fixture = new FixtureServer(server, `http://127.0.0.1:${port}`)
    server.on('request', (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }
        fixture.requests.push(recorded)
        fixture.answer(recorded, res)
      })
    })
    return fixture
  }

  /** Scripts the answer for `method path` (path without query string). */
  on(method: string, path: string, responder: Responder): this {
    this.routes.set(`${method.toUpperCase()} ${path}`, responder)
    return this
  }

  /** Forgets routes and recorded requests. */
  reset(): void {
    this.routes.clear()
    this.requests.length = 0
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.split('?')[0] === path)
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private answer(req: RecordedRequest, res: ServerResponse): void {
    const responder = this.routes.get(`${req.method} ${req.path.split('?')[0]}`)
    const index = this.requests.filter((r) => r.method === req.method && r.path === req.path).length - 1
    const reply: Reply =
      responder === undefined
        ? problem(404, 'not_found', `no scripted route for ${req.method} ${req.path}`)
        : typeof responder === 'function'
          ? responder(req, index)
          : responder
    const send = () => {
      if (res.destroyed) return
      const headers: Record<string, string> = {...reply.headers}
      let body = ''
      if (typeof reply.body === 'string') body = reply.body
      else if (reply.body !== undefined) {
        body = JSON.stringify(reply.body)
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
      }
      res.writeHead(reply.status ?? 200, headers)
      res.end(body)
    }
    if (reply.delayMs) {
      const t = setTimeout(() => {
        this.timers.delete(t)
        send()
      }, reply.delayMs)
      this.timers.add(t)
    } else send()
  }
}

/** An RFC 8414 metadata document like Authplane's (contract §3) for `issuer`, endpoints under `base`. */
export function metadata(issuer: string, base: string, overrides: Record<string, unknown> = {}): Reply {
  const doc: Record<string, unknown> = {
    issuer,
    token_endpoint: `${base}/oauth/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/oauth/revoke`,
    introspection_endpoint: `${base}/oauth/introspect`,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    resource_indicators_supported: true,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete doc[k]
    else doc[k] = v
  }
  return {status: 200, headers: {'cache-control': 'public, max-age=3600'}, body: doc}
}

/** A successful client_credentials response (contract §3). */
export function tokenOk(overrides: Record<string, unknown> = {}): Reply {
  const body: Record<string, unknown> = {
    access_token: 'eyJhbGciOiJFUzI1NiJ9.e30.sig',
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'mcp:echo',
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete body[k]
    else body[k] = v
  }
  return {status: 200, headers: {'cache-control': 'no-store', pragma: 'no-cache'}, body}
}

/** Authplane's token-endpoint error body: application/problem+json with error + error_description. */
export function problem(status: number, error: string, description: string, extra: Record<string, unknown> = {}): Reply {
  const headers: Record<string, string> = {'content-type': 'application/problem+json'}
  if (status === 401) headers['www-authenticate'] = 'Basic realm="authserver"'
  return {
    status,
    headers,
    body: {
      error,
      error_description: description,
      type: `https://docs.authplane.ai/errors/${error}`,
      title: error,
      detail: description,
      status,
      ...extra,
    },
  }
}

/** A plain RFC 6749 §5.2 application/json error body. */
export function jsonError(status: number, error: string, description: string, extra: Record<string, unknown> = {}): Reply {
  return {status, headers: {'content-type': 'application/json'}, body: {error, error_description: description, ...extra}}
}

/** A mutable clock for `now` injection. */
export function manualClock(start = 1_700_000_000_000): {now: () => number; advance: (ms: number) => void; set: (t: number) => void} {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
    set: (v) => {
      t = v
    },
  }
}

export const WELL_KNOWN = '/.well-known/oauth-authorization-server'

/**
 * One fixture server per suite, reset before each test; with `withMetadata` it also serves RFC 8414
 * metadata naming itself as issuer. `assign` receives the server once it listens.
 */
export function useFixtureServer(assign: (server: FixtureServer) => void, options: {withMetadata?: boolean} = {}): void {
  let server: FixtureServer
  before(async () => {
    server = await FixtureServer.start()
    assign(server)
  })
  after(async () => {
    await server.close()
  })
  beforeEach(() => {
    server.reset()
    if (options.withMetadata) server.on('GET', WELL_KNOWN, metadata(server.origin, server.origin))
  })
}
