// Broken deployments for `ap-demo doctor`, each a real server on loopback: a small authorization
// server of our own (RFC 8414 metadata, JWKS, a client_credentials token endpoint that signs real
// ES256 JWTs) whose clock, grants, issuer string and RFC 8707 support can be set wrong, and an MCP
// server on the official SDK v2 (createMcpHandler, both protocol eras) whose resource metadata,
// challenge, token checks, clock and tools can be set wrong. Nothing here is a mock: doctor talks
// HTTP to them as it would to anyone's servers.
import {randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {toWebRequest} from '@modelcontextprotocol/node'
import {createMcpHandler, McpServer} from '@modelcontextprotocol/server'
import {createLocalJWKSet, createRemoteJWKSet, errors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type JWTVerifyGetKey} from 'jose'
import * as z from 'zod'

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>): Promise<{server: Server; base: string}> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain'})
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`}
}

function close(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += chunk
  return body
}

/** An HTTP date `offsetSeconds` away from now: a server whose clock is off says so in Date. */
const httpDate = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toUTCString()

export interface FakeAsOptions {
  /** The issuer its metadata announces (default: its own base URL). */
  announcedIssuer?: string
  /** grant_types_supported; null leaves it out. Default ["client_credentials"]. */
  grantTypes?: string[] | null
  /** Its clock, in seconds from this machine's: iat, nbf, exp and the Date header follow it. */
  clockOffsetSeconds?: number
  /** Ignores RFC 8707 `resource`: aud is the issuer, as a server without resource indicators. */
  ignoreResource?: boolean
  /** The one client it knows. */
  client?: {id: string; secret: string}
  /** Token lifetime (default 3600 s). */
  ttlSeconds?: number
  /** The error_description of its invalid_client answer. */
  clientErrorDescription?: string
}

export interface FakeAs {
  issuer: string
  base: string
  jwksUrl: string
  /** Its public keys, for an MCP server that should trust (or, with another AS, not trust) it. */
  jwks: {keys: JWK[]}
  client: {id: string; secret: string}
  tokenRequests: Array<Record<string, string>>
  stop(): Promise<void>
}

/** A small RFC 8414 authorization server of our own, with a client_credentials token endpoint. */
export async function startFakeAs(options: FakeAsOptions = {}): Promise<FakeAs> {
  const {privateKey, publicKey} = await generateKeyPair('ES256')
  const kid = randomUUID()
  const jwk = {...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig'}
  const client = options.client ?? {id: 'fake-client', secret: 'fake-secret-0123456789'}
  const offset = options.clockOffsetSeconds ?? 0
  const tokenRequests: FakeAs['tokenRequests'] = []
  let base = ''
  const issuer = () => options.announcedIssuer ?? base
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, {'content-type': 'application/json', date: httpDate(offset), ...headers}).end(JSON.stringify(body))
  const started = await listen(async (req, res) => {
    const path = new URL(req.url ?? '/', base).pathname
    if (path === '/.well-known/oauth-authorization-server') {
      return json(res, 200, {
        issuer: issuer(),
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        ...(options.grantTypes === null ? {} : {grant_types_supported: options.grantTypes ?? ['client_credentials']}),
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      })
    }
    if (path === '/jwks') return json(res, 200, {keys: [jwk]})
    if (path === '/token' && req.method === 'POST') {
      const form = Object.fromEntries(new URLSearchParams(await readBody(req)))
      tokenRequests.push(form)
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent) : []
      if (id !== client.id || secret !== client.secret) return json(res, 401, {error: 'invalid_client', error_description: options.clientErrorDescription ?? 'client authentication failed'}, {'www-authenticate': 'Basic realm="fake"'})
      if (form.grant_type !== 'client_credentials' || !(options.grantTypes ?? ['client_credentials']).includes('client_credentials')) {
        return json(res, 400, {error: 'unsupported_grant_type', error_description: `grant ${form.grant_type} is not supported`})
      }
      const now = Math.floor(Date.now() / 1000) + offset
      const ttl = options.ttlSeconds ?? 3600
      const aud = options.ignoreResource || !form.resource ? [issuer()] : [form.resource]
      const token = await new SignJWT({client_id: id, scope: form.scope ?? '', jti: randomUUID()})
        .setProtectedHeader({alg: 'ES256', kid, typ: 'at+jwt'})
        .setIssuer(issuer())
        .setSubject(id!)
        .setAudience(aud)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + ttl)
        .sign(privateKey)
      return json(res, 200, {access_token: token, token_type: 'Bearer', expires_in: ttl, ...(form.scope ? {scope: form.scope} : {})}, {'cache-control': 'no-store'})
    }
    json(res, 404, {error: 'not_found'})
  })
  base = started.base
  return {
    get issuer() {
      return issuer()
    },
    base,
    jwksUrl: `${base}/jwks`,
    jwks: {keys: [jwk]},
    client,
    tokenRequests,
    stop: () => close(started.server),
  }
}

export interface ToolSpec {
  name: string
  annotations?: {readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean}
  /** Required string arguments (echo's `text`). */
  requiredText?: string[]
  /** What it answers (default: the text it was given, else "<name> done"). */
  answer?: string
}

export interface McpDeploymentOptions {
  /** The protected resource metadata's authorization_servers. */
  authorizationServers: string[]
  /** The metadata's resource (default: the MCP URL). */
  prmResource?: string
  /** Where the metadata is served: the path-based well-known URL (default), the root one, or nowhere. */
  prmAt?: 'path' | 'root' | 'none'
  /** With prmAt root: what the path-based URL answers instead (a CDN's 403, a 404). */
  pathStatus?: number
  /**
   * The 401's WWW-Authenticate: `full` (error, description, resource_metadata, scope, as tier 01),
   * `bare` (only resource_metadata: the server says nothing about why), `none` (no header at all).
   */
  challenge?: 'full' | 'bare' | 'none'
  /** How presented tokens are checked. Absent: no token needed at all. */
  verify?: {
    /** The iss it trusts (default: the first authorization server). */
    issuer?: string
    /** Its key set: a JWKS URL or the keys themselves (another AS's, to make signatures fail). */
    jwks: string | {keys: JWK[]}
    /** The audience it expects (default: the MCP URL), or how to make it from the MCP URL. */
    audience?: string | ((mcpUrl: string) => string)
    /** The scope every request needs (default mcp:echo). */
    scope?: string
  }
  /** Its clock, in seconds from this machine's (token checks and the Date header follow it). */
  clockOffsetSeconds?: number
  /** Its tools (default: echo). */
  tools?: ToolSpec[]
}

export interface McpDeployment {
  url: string
  base: string
  /** Tools called, in order. */
  calls: string[]
  stop(): Promise<void>
}

/** An MCP server on the official SDK v2, misconfigured as the options say. */
export async function startMcpDeployment(options: McpDeploymentOptions): Promise<McpDeployment> {
  const calls: string[] = []
  const offset = options.clockOffsetSeconds ?? 0
  const tools = options.tools ?? [{name: 'echo', requiredText: ['text']}]
  const handler = createMcpHandler(
    () => {
      const server = new McpServer({name: 'doctor-deployment', version: '1.0.0'})
      for (const tool of tools) {
        const shape = Object.fromEntries((tool.requiredText ?? []).map((name) => [name, z.string()]))
        server.registerTool(tool.name, {description: `the ${tool.name} tool`, ...(tool.requiredText ? {inputSchema: z.object(shape)} : {}), ...(tool.annotations ? {annotations: tool.annotations} : {})}, async (args: Record<string, unknown>) => {
          calls.push(tool.name)
          return {content: [{type: 'text' as const, text: tool.answer ?? (typeof args.text === 'string' ? args.text : `${tool.name} done`)}]}
        })
      }
      return server
    },
    {legacy: 'stateless'},
  )
  let base = ''
  let keys: JWTVerifyGetKey | undefined
  const started = await listen(async (req, res) => {
    const url = `${base}/mcp`
    const path = new URL(req.url ?? '/', base).pathname
    const metadataUrl = options.prmAt === 'root' ? `${base}/.well-known/oauth-protected-resource` : `${base}/.well-known/oauth-protected-resource/mcp`
    const send = (status: number, headers: Record<string, string>, body: string) => res.writeHead(status, {date: httpDate(offset), ...headers}).end(body)
    const prm = JSON.stringify({resource: options.prmResource ?? url, authorization_servers: options.authorizationServers, scopes_supported: [options.verify?.scope ?? 'mcp:echo'], bearer_methods_supported: ['header']})
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      if ((options.prmAt ?? 'path') === 'path') return send(200, {'content-type': 'application/json'}, prm)
      return send(options.pathStatus ?? 404, {'content-type': 'text/html'}, '<html><body>Forbidden</body></html>')
    }
    if (path === '/.well-known/oauth-protected-resource') {
      return options.prmAt === 'root' ? send(200, {'content-type': 'application/json'}, prm) : send(404, {'content-type': 'text/plain'}, 'not found')
    }
    if (path !== '/mcp') return send(404, {'content-type': 'text/plain'}, 'not found')

    if (options.verify) {
      const refuse = (status: number, error: string, description: string) => {
        const challenge: Record<string, string> =
          options.challenge === 'none'
            ? {}
            : options.challenge === 'bare'
              ? {'www-authenticate': `Bearer resource_metadata="${metadataUrl}"`}
              : {'www-authenticate': `Bearer error="${error}", error_description="${description}", scope="${options.verify!.scope ?? 'mcp:echo'}", resource_metadata="${metadataUrl}"`}
        const body = options.challenge === 'full' || options.challenge === undefined ? JSON.stringify({error, error_description: description}) : ''
        if (body) challenge['content-type'] = 'application/json'
        send(status, challenge, body)
      }
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
      if (!token) return refuse(401, 'invalid_token', 'Missing Authorization header')
      const v = options.verify
      keys ??= typeof v.jwks === 'string' ? createRemoteJWKSet(new URL(v.jwks)) : createLocalJWKSet(v.jwks)
      const audience = typeof v.audience === 'function' ? v.audience(url) : (v.audience ?? url)
      let scope = ''
      try {
        const {payload} = await jwtVerify(token, keys, {issuer: v.issuer ?? options.authorizationServers[0], audience, typ: 'at+jwt', clockTolerance: 30, currentDate: new Date(Date.now() + offset * 1000)})
        scope = String(payload.scope ?? '')
      } catch (error) {
        if (error instanceof errors.JWTExpired) return refuse(401, 'invalid_token', 'token expired')
        if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') return refuse(401, 'invalid_token', `token audience does not include ${audience}`)
        if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'iss') return refuse(401, 'invalid_token', `unexpected issuer (expected ${v.issuer ?? options.authorizationServers[0]})`)
        if (error instanceof errors.JWKSNoMatchingKey) return refuse(401, 'invalid_token', 'no key with this kid in the JWKS')
        if (error instanceof errors.JWSSignatureVerificationFailed) return refuse(401, 'invalid_token', 'token signature is invalid')
        return refuse(401, 'invalid_token', `token could not be verified: ${(error as Error).message}`)
      }
      if (!scope.split(' ').includes(v.scope ?? 'mcp:echo')) return refuse(403, 'insufficient_scope', `token lacks the required scope ${v.scope ?? 'mcp:echo'}`)
    }
    const request = await toWebRequest(req)
    const response = await handler.fetch(request)
    res.writeHead(response.status, {...Object.fromEntries(response.headers), date: httpDate(offset)})
    res.end(Buffer.from(await response.arrayBuffer()))
  })
  base = started.base
  return {
    url: `${base}/mcp`,
    base,
    calls,
    async stop() {
      await handler.close()
      await close(started.server)
    },
  }
}
