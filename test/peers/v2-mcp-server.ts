// A small MCP server built on the official TypeScript SDK v2 as its own documentation builds one
// (createMcpHandler, requireBearerAuth, oauthMetadataResponse, toNodeHandler): a peer nobody here
// wrote the protocol of, to judge ap-demo's client against. It speaks 2026-07-28 only
// (`legacy: 'reject'`) or both eras (the SDK's default, `legacy: 'stateless'`), with or without
// bearer tokens of an Authplane-compatible issuer.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {toNodeHandler, toWebRequest} from '@modelcontextprotocol/node'
import {
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  McpServer,
  oauthMetadataResponse,
  OAuthError,
  OAuthErrorCode,
  requireBearerAuth,
  type AuthInfo,
  type OAuthMetadata,
} from '@modelcontextprotocol/server'
import {createRemoteJWKSet, decodeJwt, jwtVerify} from 'jose'
import * as z from 'zod'

import {InboundDpop} from '../../src/stack/mcp-server/dpop.js'

export interface V2PeerOptions {
  /** `modern`: 2026-07-28 only; `dual`: both eras, 2025 served statelessly (the SDK's default). */
  eras: 'modern' | 'dual'
  /** Require tokens of this issuer (RFC 9068 JWTs checked against its JWKS); absent = no auth. */
  issuer?: string
  /** The issuer as the protected resource metadata names it (default: `issuer`). */
  announcedIssuer?: string
  /** The scope every request needs (default mcp:echo). */
  scope?: string
  /**
   * `bearer-proof`: DPoP-bound tokens are taken only as `Authorization: Bearer` (the SDK's own gate
   * reads nothing else, like the MCP Python SDK under Authplane's adapters) with a valid `DPoP`
   * proof beside them, checked like Authplane's inbound verifier (RFC 9449 §4.3, cnf.jkt).
   */
  dpop?: 'bearer-proof'
}

export interface V2Peer {
  url: string
  /** The `era` the SDK handed the factory, per request that reached it. */
  eras: string[]
  /** Methods and MCP-Protocol-Version headers of the POSTs it received. */
  requests: Array<{method: string; httpMethod: string; protocolVersion?: string; authorization?: string; dpop?: string; status?: number}>
  stop(): Promise<void>
}

export async function startV2Peer(options: V2PeerOptions): Promise<V2Peer> {
  const eras: string[] = []
  const requests: V2Peer['requests'] = []
  const scope = options.scope ?? 'mcp:echo'
  const handler = createMcpHandler(
    ({era, authInfo}) => {
      eras.push(era)
      const server = new McpServer({name: 'sdk-v2-peer', version: '2.4.0'})
      server.registerTool('echo', {description: 'Echo the given text back', inputSchema: z.object({text: z.string()})}, async ({text}) => ({content: [{type: 'text', text}]}))
      server.registerTool('whoami', {description: 'The caller'}, async () => ({content: [{type: 'text', text: authInfo?.clientId ?? 'anonymous'}]}))
      // Structured results: the client checks them against the declared output schema.
      const sum = z.object({sum: z.number()})
      server.registerTool('add', {description: 'a + b', inputSchema: z.object({a: z.number(), b: z.number()}), outputSchema: sum}, async ({a, b}) => ({content: [{type: 'text', text: String(a + b)}], structuredContent: {sum: a + b}}))
      return server
    },
    {legacy: options.eras === 'modern' ? 'reject' : 'stateless'},
  )
  const node = toNodeHandler(handler)
  const http: Server = createServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`

  const inbound = new InboundDpop({mode: 'allowed'})
  let gate: ((request: Request) => Promise<AuthInfo | Response>) | undefined
  let oauthMetadata: OAuthMetadata | undefined
  if (options.issuer) {
    const issuer = options.issuer
    const discovered = (await (await fetch(`${new URL(issuer).origin}/.well-known/oauth-authorization-server`)).json()) as OAuthMetadata
    oauthMetadata = {...discovered, issuer: options.announcedIssuer ?? discovered.issuer}
    const keys = createRemoteJWKSet(new URL(String(discovered.jwks_uri)))
    gate = requireBearerAuth({
      verifier: {
        async verifyAccessToken(token: string): Promise<AuthInfo> {
          try {
            const {payload} = await jwtVerify(token, keys, {issuer, audience: url, typ: 'at+jwt'})
            const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud
            return {token, clientId: String(payload['client_id'] ?? payload.sub), scopes: String(payload['scope'] ?? '').split(' ').filter(Boolean), expiresAt: payload.exp, resource: aud ? new URL(aud) : undefined}
          } catch (error) {
            throw new OAuthError(OAuthErrorCode.InvalidToken, `token refused: ${(error as Error).message}`)
          }
        },
      },
      requiredScopes: [scope],
      resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(new URL(url)),
      expectedResource: new URL(url),
    })
  }

  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const request = await toWebRequest(req)
      if (oauthMetadata) {
        const metadata = oauthMetadataResponse(request.clone(), {oauthMetadata, resourceServerUrl: new URL(url), scopesSupported: [scope], dangerouslyAllowInsecureIssuerUrl: true})
        if (metadata) return send(res, metadata)
      }
      if (new URL(request.url).pathname !== '/mcp') return send(res, new Response('not found', {status: 404}))
      const body = request.method === 'POST' ? await request.clone().text() : ''
      let method = ''
      try {
        method = (JSON.parse(body) as {method?: string}).method ?? ''
      } catch {}
      const seen: V2Peer['requests'][number] = {method, httpMethod: request.method, protocolVersion: request.headers.get('mcp-protocol-version') ?? undefined, authorization: request.headers.get('authorization') ?? undefined, dpop: request.headers.get('dpop') ?? undefined}
      requests.push(seen)
      const answer = async (response: Response) => {
        seen.status = response.status
        await send(res, response)
      }
      if (gate) {
        const auth = await gate(request.clone())
        if (auth instanceof Response) return answer(auth)
        const jkt = (decodeJwt(auth.token).cnf as {jkt?: string} | undefined)?.jkt
        if (options.dpop === 'bearer-proof' && jkt !== undefined) {
          const proof = request.headers.get('dpop')
          try {
            if (proof === null) throw new Error('a DPoP-bound token needs its DPoP proof')
            await inbound.verify({proof, method: request.method, urls: [url], accessToken: auth.token, jkt})
          } catch (error) {
            const description = (error as Error).message.replace(/"/g, "'")
            return answer(new Response(JSON.stringify({error: 'invalid_token', error_description: description}), {status: 401, headers: {'content-type': 'application/json', 'www-authenticate': `Bearer error="invalid_token", error_description="${description}", resource_metadata="${getOAuthProtectedResourceMetadataUrl(new URL(url))}"`}}))
          }
        }
        return answer(await handler.fetch(request, {authInfo: auth}))
      }
      await node(req, res, body === '' ? undefined : JSON.parse(body))
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error))
    })
  })

  return {
    url,
    eras,
    requests,
    async stop() {
      await handler.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers))
  res.end(Buffer.from(await response.arrayBuffer()))
}
