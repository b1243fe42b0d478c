// A small but real token issuer for the MCP server tests: RFC 8414 metadata and a JWKS served over
// HTTP, and RFC 9068 access tokens signed with an ES256 key generated here. The real authorization
// server (src/stack/authserver) is written in parallel, so these tests do not depend on it.
import {randomBytes} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK} from 'jose'

export interface SigningKey {
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export interface IssuerFixtureOptions {
  /** Port to bind on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** Issuer string announced and put into tokens. Default `http://127.0.0.1:<port>`. */
  issuer?: string
  /** Announce this issuer in the metadata instead (to test the exact-match check). */
  announcedIssuer?: string
  /** Keys to serve instead of a fresh one (to restart the "same" issuer). */
  keys?: SigningKey[]
}

/** Claims to override; a value of `undefined` removes the claim. */
export type ClaimOverrides = Record<string, unknown>

export interface TokenOptions {
  claims?: ClaimOverrides
  header?: Record<string, unknown>
  key?: SigningKey
}

export async function newSigningKey(kid = randomBytes(8).toString('base64url')): Promise<SigningKey> {
  const {privateKey, publicKey} = await generateKeyPair('ES256', {extractable: true})
  const publicJwk = {...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig'}
  return {kid, privateKey, publicJwk}
}

export class IssuerFixture {
  readonly issuer: string
  readonly port: number
  /** Audience put into tokens by default; tests set it to the MCP server's resource. */
  audience = 'http://127.0.0.1/mcp'
  metadataFetches = 0
  jwksFetches = 0
  /** Served keys, current first (like the real server: current plus previous after rotation). */
  keys: SigningKey[]
  readonly #server: Server

  private constructor(server: Server, port: number, issuer: string, keys: SigningKey[]) {
    this.#server = server
    this.port = port
    this.issuer = issuer
    this.keys = keys
  }

  static async start(opts: IssuerFixtureOptions = {}): Promise<IssuerFixture> {
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
    })
    const port = (server.address() as AddressInfo).port
    const issuer = opts.issuer ?? `http://127.0.0.1:${port}`
    const fixture = new IssuerFixture(server, port, issuer, opts.keys ?? [await newSigningKey()])
    const base = `http://127.0.0.1:${port}`
    const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '')
    server.on('request', (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
      if (path === `/.well-known/oauth-authorization-server${issuerPath}`) {
        fixture.metadataFetches++
        const body = {
          issuer: opts.announcedIssuer ?? issuer,
          token_endpoint: `${issuer}/oauth/token`,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          grant_types_supported: ['client_credentials'],
          response_types_supported: ['code'],
        }
        res.writeHead(200, {'Content-Type': 'application/json'})
        res.end(JSON.stringify(body))
        return
      }
      if (path.endsWith('/.well-known/jwks.json')) {
        fixture.jwksFetches++
        res.writeHead(200, {'Content-Type': 'application/json'})
        res.end(JSON.stringify({keys: fixture.keys.map((k) => k.publicJwk)}))
        return
      }
      res.writeHead(404, {'Content-Type': 'application/json'})
      res.end(JSON.stringify({error: 'not_found', base}))
    })
    return fixture
  }

  get currentKey(): SigningKey {
    const key = this.keys[0]
    if (!key) throw new Error('issuer fixture has no key')
    return key
  }

  /** Publishes a new current key, keeping the previous one, and returns it. */
  async rotate(): Promise<SigningKey> {
    const key = await newSigningKey()
    this.keys = [key, this.currentKey]
    return key
  }

  /** Default RFC 9068 claims per authplane-contract.md §3, then the overrides. */
  claims(overrides: ClaimOverrides = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'client-a',
      aud: [this.audience],
      client_id: 'client-a',
      scope: 'mcp:echo',
      jti: randomBytes(16).toString('base64url'),
      iat: now,
      nbf: now,
      exp: now + 3600,
    }
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete claims[name]
      else claims[name] = value
    }
    return claims
  }

  async token(opts: TokenOptions = {}): Promise<string> {
    const key = opts.key ?? this.currentKey
    return new SignJWT(this.claims(opts.claims))
      .setProtectedHeader({alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...opts.header})
      .sign(key.privateKey)
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve())
      this.#server.closeAllConnections()
    })
  }
}

/** An unsigned (`alg: none`) token with otherwise valid claims. */
export function unsignedToken(fixture: IssuerFixture, header: Record<string, unknown> = {}): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const fullHeader = {alg: 'none', kid: fixture.currentKey.kid, typ: 'at+jwt', ...header}
  return `${encode(fullHeader)}.${encode(fixture.claims())}.`
}

/** An HS256 token keyed with a shared secret (the classic public-key-as-HMAC-secret confusion). */
export async function hmacToken(fixture: IssuerFixture): Promise<string> {
  return new SignJWT(fixture.claims())
    .setProtectedHeader({alg: 'HS256', kid: fixture.currentKey.kid, typ: 'at+jwt'})
    .sign(Buffer.from(JSON.stringify(fixture.currentKey.publicJwk)))
}

export const ACCEPT_BOTH = 'application/json, text/event-stream'

export function initializeRequest(id: number | string = 1): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 'test-client', version: '0.0.1'}},
  }
}

/** POSTs one JSON-RPC message to the MCP endpoint the way a streamable HTTP client does. */
export async function postMcp(
  url: string,
  body: unknown,
  opts: {token?: string; sessionId?: string; headers?: Record<string, string>} = {},
): Promise<Response> {
  const headers: Record<string, string> = {'Content-Type': 'application/json', Accept: ACCEPT_BOTH}
  if (opts.token !== undefined) headers['Authorization'] = `Bearer ${opts.token}`
  if (opts.sessionId !== undefined) headers['Mcp-Session-Id'] = opts.sessionId
  return fetch(url, {method: 'POST', headers: {...headers, ...opts.headers}, body: JSON.stringify(body)})
}

/** Opens a session over raw HTTP (initialize + initialized) and returns its id. */
export async function openSession(url: string, token: string): Promise<string> {
  const init = await postMcp(url, initializeRequest(), {token})
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${await init.text()}`)
  await init.text()
  const sessionId = init.headers.get('mcp-session-id')
  if (!sessionId) throw new Error('initialize answered without mcp-session-id')
  const initialized = await postMcp(url, {jsonrpc: '2.0', method: 'notifications/initialized'}, {token, sessionId})
  await initialized.text()
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`)
  return sessionId
}

/** A tools/list call on an existing session: 200 while it lives, 404 once it is gone. */
export async function pingSession(url: string, token: string, sessionId: string): Promise<number> {
  const res = await postMcp(url, {jsonrpc: '2.0', id: 99, method: 'tools/list'}, {token, sessionId})
  await res.text()
  return res.status
}
