// A small authorization server of our own, for what the embedded stack does not do: metadata at
// the OpenID Connect locations or under an issuer path, the RFC 9207 `iss` parameter (right,
// wrong, or announced and missing), a denial sent back as error=access_denied, exact redirect URI
// matching (no RFC 8252 port freedom), revocation refused or absent, Client ID Metadata Documents,
// and private_key_jwt client assertions (RFC 7523) for client_credentials. It also serves a
// protected MCP endpoint that only ever answers 401 (what `ap-demo login` asks first) with its
// RFC 9728 metadata. Behaves like a peer over HTTP; nothing of ap-demo's is imported.
import {createHash, randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK} from 'jose'

export interface StandInOptions {
  /** The issuer's path (`/tenant1`): metadata is then looked for under it. */
  issuerPath?: string
  /** Where the metadata is served: RFC 8414, OpenID Connect path insertion or appending, or nowhere. */
  metadataAt?: 'oauth' | 'oidc' | 'oidc-append' | 'none'
  /** The RFC 9207 `iss` parameter in the redirect back: none, the issuer, another one, or announced but left out. */
  iss?: 'none' | 'correct' | 'wrong' | 'announced-missing'
  /** Redirect URIs must match a registered one exactly, port included (no RFC 8252 §7.3 freedom). */
  exactRedirect?: boolean
  /** Refuse every authorization request with an error page (even for a fresh client). */
  refuseAuthorization?: boolean
  /** Send the browser back with error=access_denied. */
  deny?: boolean
  /** Send the browser back with this state instead of the request's. */
  stateOverride?: string
  /** Token revocation: served, answered 401 invalid_client, or no endpoint at all. */
  revocation?: 'ok' | 'refuse' | 'absent'
  /** The key and client of private_key_jwt client_credentials. */
  privateKeyJwt?: {clientId: string; publicKey: CryptoKey}
  tokenEndpointAuthMethods?: string[]
  /** Announce client_id_metadata_document_supported. */
  cimd?: boolean
  /** code_challenge_methods_supported; null leaves it out. */
  pkceMethods?: string[] | null
  /** The resource tokens are minted for; default the stand-in's own /mcp. */
  resource?: string
  tokenTtlSeconds?: number
  /** The MCP endpoint's 401: with resource_metadata and this scope. */
  mcpScope?: string
  /** The protected resource metadata: named in the 401, at the path-based or root well-known URL, or absent. */
  prm?: 'challenge' | 'path' | 'root' | 'none'
  /** Members replaced in (or added to) the authorization server metadata and the resource metadata. */
  metadataOverrides?: Record<string, unknown>
  prmOverrides?: Record<string, unknown>
}

export interface Recorded {
  method: string
  path: string
  query: Record<string, string>
  form: Record<string, string>
  headers: Record<string, string | string[] | undefined>
}

interface Client {
  id: string
  secret?: string
  method: string
  redirectUris: string[]
}

interface Grant {
  clientId: string
  redirectUri: string
  challenge: string
  resource: string
  scope: string
  used: boolean
}

export class StandInAs {
  readonly requests: Recorded[] = []
  readonly clients = new Map<string, Client>()
  private readonly grants = new Map<string, Grant>()
  private readonly refreshTokens = new Map<string, {clientId: string; resource: string; scope: string}>()
  private readonly pending = new Map<string, {redirect: string}>()
  private readonly assertionIds = new Set<string>()
  private server!: Server
  private signing!: {privateKey: CryptoKey; jwk: JWK}
  base = ''

  constructor(readonly options: StandInOptions = {}) {}

  get issuer(): string {
    return `${this.base}${this.options.issuerPath ?? ''}`
  }

  get mcpUrl(): string {
    return `${this.base}/mcp`
  }

  get resource(): string {
    return this.options.resource ?? this.mcpUrl
  }

  async start(): Promise<this> {
    const {privateKey, publicKey} = await generateKeyPair('ES256')
    this.signing = {privateKey, jwk: {...(await exportJWK(publicKey)), kid: 'stand-in-1', alg: 'ES256', use: 'sig'}}
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        res.writeHead(500, {'content-type': 'text/plain'}).end(error.message)
      })
    })
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  /** Registers a client directly, as an operator would (a pre-registered client). */
  addClient(client: Client): void {
    this.clients.set(client.id, client)
  }

  recorded(path: string): Recorded[] {
    return this.requests.filter((r) => r.path === path)
  }

  metadata(): Record<string, unknown> {
    const iss = this.issuer
    const o = this.options
    const doc: Record<string, unknown> = {
      issuer: iss,
      authorization_endpoint: `${iss}/authorize`,
      token_endpoint: `${iss}/token`,
      registration_endpoint: `${iss}/register`,
      jwks_uri: `${iss}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_methods_supported: o.tokenEndpointAuthMethods ?? ['none', 'client_secret_basic', 'client_secret_post'],
    }
    if (o.pkceMethods !== null) doc.code_challenge_methods_supported = o.pkceMethods ?? ['S256']
    if (o.revocation !== 'absent') doc.revocation_endpoint = `${iss}/revoke`
    if (o.iss === 'correct' || o.iss === 'wrong' || o.iss === 'announced-missing') doc.authorization_response_iss_parameter_supported = true
    if (o.cimd) doc.client_id_metadata_document_supported = true
    if (o.privateKeyJwt) doc.token_endpoint_auth_signing_alg_values_supported = ['ES256']
    return {...doc, ...o.metadataOverrides}
  }

  private metadataPaths(): string[] {
    const path = this.options.issuerPath ?? ''
    switch (this.options.metadataAt ?? 'oauth') {
      case 'oauth':
        return [`/.well-known/oauth-authorization-server${path}`]
      case 'oidc':
        return [`/.well-known/openid-configuration${path}`]
      case 'oidc-append':
        return [`${path}/.well-known/openid-configuration`]
      default:
        return []
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base)
    const body = await new Promise<string>((resolve) => {
      let text = ''
      req.on('data', (d) => (text += d))
      req.on('end', () => resolve(text))
    })
    const form = req.headers['content-type']?.includes('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(body)) : {}
    const json = req.headers['content-type']?.includes('application/json') && body ? (JSON.parse(body) as Record<string, unknown>) : {}
    this.requests.push({method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), form, headers: req.headers})
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {'content-type': 'application/json', 'cache-control': 'no-store', ...headers}).end(JSON.stringify(payload))
    }
    const iss = this.options.issuerPath ?? ''
    const path = url.pathname

    if (req.method === 'GET' && this.metadataPaths().includes(path)) return send(200, this.metadata())
    if (path === `${iss}/jwks`) return send(200, {keys: [this.signing.jwk]})

    // The protected MCP endpoint and its resource metadata.
    const prm = this.options.prm ?? 'challenge'
    if (path === '/mcp') {
      const params = [`error="invalid_token"`, ...(this.options.mcpScope ? [`scope="${this.options.mcpScope}"`] : []), ...(prm === 'challenge' ? [`resource_metadata="${this.base}/.well-known/oauth-protected-resource/mcp"`] : [])]
      return send(401, {error: 'invalid_token', error_description: 'Missing Authorization header'}, {'www-authenticate': `Bearer ${params.join(', ')}`})
    }
    if ((path === '/.well-known/oauth-protected-resource/mcp' && (prm === 'challenge' || prm === 'path')) || (path === '/.well-known/oauth-protected-resource' && prm === 'root')) {
      return send(200, {resource: this.resource, authorization_servers: [this.issuer], ...this.options.prmOverrides})
    }

    if (path === `${iss}/register` && req.method === 'POST') {
      const method = String(json.token_endpoint_auth_method ?? 'client_secret_basic')
      const client: Client = {id: `c-${randomBytes(6).toString('hex')}`, method, redirectUris: (json.redirect_uris as string[]) ?? []}
      if (method !== 'none') client.secret = randomBytes(12).toString('hex')
      this.clients.set(client.id, client)
      return send(201, {client_id: client.id, ...(client.secret ? {client_secret: client.secret, client_secret_expires_at: 0} : {}), redirect_uris: client.redirectUris, token_endpoint_auth_method: method, application_type: json.application_type})
    }

    if (path === `${iss}/authorize`) return this.authorize(url, res)
    if (path === `${iss}/approve`) {
      const pending = this.pending.get(url.searchParams.get('s') ?? '')
      if (!pending) return send(400, {error: 'unknown session'})
      res.writeHead(303, {location: pending.redirect}).end()
      return
    }
    if (path === `${iss}/token` && req.method === 'POST') return this.token(req, form, send)
    if (path === `${iss}/revoke` && req.method === 'POST' && this.options.revocation !== 'absent') {
      if (this.options.revocation === 'refuse') return send(401, {error: 'invalid_client', error_description: 'client authentication failed'}, {'www-authenticate': 'Basic realm="stand-in"'})
      this.refreshTokens.delete(form.token ?? '')
      res.writeHead(200).end()
      return
    }
    res.writeHead(404, {'content-type': 'text/plain'}).end('404 page not found\n')
  }

  private redirectAccepted(client: Client | undefined, clientId: string, redirectUri: string): boolean {
    if (this.options.cimd && clientId.startsWith('https://')) return redirectUri.startsWith('http://127.0.0.1:')
    if (!client) return false
    if (client.redirectUris.includes(redirectUri)) return true
    if (this.options.exactRedirect) return false
    // RFC 8252 §7.3: a loopback redirect URI matches on any port.
    const strip = (u: string) => {
      const x = new URL(u)
      x.port = ''
      return x.href
    }
    return client.redirectUris.some((r) => new URL(r).hostname === '127.0.0.1' && strip(r) === strip(redirectUri))
  }

  private authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams
    const clientId = q.get('client_id') ?? ''
    const redirectUri = q.get('redirect_uri') ?? ''
    const page = (status: number, title: string): void => {
      res.writeHead(status, {'content-type': 'text/html'}).end(`<!doctype html><title>${title}</title><h1>${title}</h1>`)
    }
    if (this.options.refuseAuthorization || !this.redirectAccepted(this.clients.get(clientId), clientId, redirectUri)) return page(400, 'Invalid Redirect URI')
    const back = new URL(redirectUri)
    const state = this.options.stateOverride ?? q.get('state') ?? ''
    if (this.options.deny) {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'the user said no')
    } else {
      const code = randomBytes(16).toString('base64url')
      this.grants.set(code, {clientId, redirectUri, challenge: q.get('code_challenge') ?? '', resource: q.get('resource') ?? '', scope: q.get('scope') ?? '', used: false})
      back.searchParams.set('code', code)
    }
    if (state) back.searchParams.set('state', state)
    if (this.options.iss === 'correct') back.searchParams.set('iss', this.issuer)
    if (this.options.iss === 'wrong') back.searchParams.set('iss', 'https://other-as.example')
    // A page the user acts on: no redirect until the "browser" follows the approve link.
    const session = randomBytes(8).toString('hex')
    this.pending.set(session, {redirect: back.href})
    res.writeHead(200, {'content-type': 'text/html'}).end(`<!doctype html><title>Sign in</title><a id="approve" href="${this.options.issuerPath ?? ''}/approve?s=${session}">Approve</a>`)
  }

  private authenticate(req: IncomingMessage, form: Record<string, string>): Client | undefined {
    const header = req.headers.authorization
    if (header?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':').map(decodeURIComponent) as [string, string]
      const client = this.clients.get(id)
      return client && client.secret === secret ? client : undefined
    }
    // A Client ID Metadata Document client is public: its id is the document's URL.
    if (this.options.cimd && form.client_id?.startsWith('https://') && form.client_secret === undefined) return {id: form.client_id, method: 'none', redirectUris: []}
    const client = this.clients.get(form.client_id ?? '')
    if (!client) return undefined
    if (client.method === 'none') return form.client_secret === undefined ? client : undefined
    return client.secret === form.client_secret ? client : undefined
  }

  private async token(req: IncomingMessage, form: Record<string, string>, send: (status: number, payload: unknown, headers?: Record<string, string>) => void): Promise<void> {
    const grantType = form.grant_type
    if (grantType === 'client_credentials') {
      const pkj = this.options.privateKeyJwt
      if (!pkj || form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !form.client_assertion) return send(401, {error: 'invalid_client', error_description: 'a client assertion is required'})
      try {
        const {payload} = await jwtVerify(form.client_assertion, pkj.publicKey, {issuer: pkj.clientId, subject: pkj.clientId, audience: this.issuer, maxTokenAge: 120})
        if (!payload.jti || this.assertionIds.has(payload.jti)) return send(401, {error: 'invalid_client', error_description: 'assertion replayed or without jti'})
        this.assertionIds.add(payload.jti)
      } catch (error) {
        return send(401, {error: 'invalid_client', error_description: `assertion refused: ${(error as Error).message}`})
      }
      return send(200, {access_token: await this.accessToken(pkj.clientId, pkj.clientId, form.resource ?? '', form.scope ?? ''), token_type: 'Bearer', expires_in: this.options.tokenTtlSeconds ?? 3600, scope: form.scope})
    }
    const client = this.authenticate(req, form)
    if (!client) return send(401, {error: 'invalid_client', error_description: 'client authentication failed'})
    if (grantType === 'authorization_code') {
      const grant = this.grants.get(form.code ?? '')
      if (!grant || grant.used || grant.clientId !== client.id) return send(400, {error: 'invalid_grant', error_description: 'unknown or used code'})
      grant.used = true
      const verifier = form.code_verifier ?? ''
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return send(400, {error: 'invalid_grant', error_description: 'PKCE verification failed'})
      if (form.redirect_uri !== grant.redirectUri || form.resource !== grant.resource) return send(400, {error: 'invalid_grant', error_description: 'redirect_uri or resource differs'})
      return send(200, await this.issue(client.id, grant.resource, grant.scope))
    }
    if (grantType === 'refresh_token') {
      const family = this.refreshTokens.get(form.refresh_token ?? '')
      if (!family || family.clientId !== client.id) return send(400, {error: 'invalid_grant', error_description: 'unknown refresh token'})
      this.refreshTokens.delete(form.refresh_token!)
      return send(200, await this.issue(client.id, family.resource, family.scope))
    }
    return send(400, {error: 'unsupported_grant_type'})
  }

  private async issue(clientId: string, resource: string, scope: string) {
    const refresh = randomBytes(24).toString('base64url')
    this.refreshTokens.set(refresh, {clientId, resource, scope})
    return {access_token: await this.accessToken('user-ada', clientId, resource, scope), token_type: 'Bearer', expires_in: this.options.tokenTtlSeconds ?? 3600, refresh_token: refresh, ...(scope ? {scope} : {})}
  }

  /** An RFC 9068 access token, as the tier-01 MCP server checks them. */
  async accessToken(sub: string, clientId: string, resource: string, scope: string): Promise<string> {
    return new SignJWT({client_id: clientId, ...(scope ? {scope} : {})})
      .setProtectedHeader({alg: 'ES256', typ: 'at+jwt', kid: 'stand-in-1'})
      .setIssuer(this.issuer)
      .setSubject(sub)
      .setAudience([resource])
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${this.options.tokenTtlSeconds ?? 3600}s`)
      .sign(this.signing.privateKey)
  }
}

/** A browser for the stand-in: opens the authorization page and follows its approve link, then the redirects. */
export async function approveInBrowser(authorizationUrl: string): Promise<Response> {
  const page = await fetch(authorizationUrl, {redirect: 'manual'})
  const html = await page.text()
  const href = /id="approve" href="([^"]+)"/.exec(html)?.[1]
  if (!href) throw new Error(`no approve link (${page.status}): ${html}`)
  return fetch(new URL(href, authorizationUrl), {redirect: 'follow'})
}
