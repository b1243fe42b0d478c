// Deliberately broken tier-01 servers, so that `verify`'s audience-binding proofs are seen to fail.
// Each one is a real MCP server (the SDK v2's createMcpHandler and the stack's echo tool),
// announces RFC 9728 metadata and refuses a request without a token, like the real one; only its
// check of a presented token is lax.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {toNodeHandler} from '@modelcontextprotocol/node'
import {createMcpHandler} from '@modelcontextprotocol/server'

import {createEchoServer} from '../../src/stack/mcp-server/echo-server.js'

export type Laxness =
  /** Any `Authorization: Bearer <anything>` is let in. */
  | 'any-bearer'
  /** The payload is decoded and `aud` checked, but the signature is never verified. */
  | 'aud-without-signature'
  /** No token needed at all. */
  | 'unprotected'

export interface LaxServer {
  url: string
  resource: string
  /** Tokens it let in, for the test to inspect. */
  accepted: string[]
  stop(): Promise<void>
}

function audience(token: string): unknown {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {aud?: unknown}).aud
  } catch {
    return undefined
  }
}

export async function startLaxMcpServer(issuer: string, laxness: Laxness): Promise<LaxServer> {
  const accepted: string[] = []
  let base = ''
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const resource = `${base}/mcp`
    const metadataUrl = `${base}/.well-known/oauth-protected-resource/mcp`
    if (req.url === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({resource, authorization_servers: [issuer], bearer_methods_supported: ['header'], scopes_supported: ['mcp:echo']}))
      return
    }
    if (req.url !== '/mcp') {
      res.writeHead(404).end()
      return
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const refuse = (description: string) =>
      res.writeHead(401, {'www-authenticate': `Bearer error="invalid_token", error_description="${description}", resource_metadata="${metadataUrl}"`, 'content-type': 'application/json'}).end(JSON.stringify({error: 'invalid_token', error_description: description}))
    if (laxness !== 'unprotected') {
      if (token === undefined) return void refuse('no token')
      if (laxness === 'aud-without-signature') {
        const aud = audience(token)
        if (!(aud === resource || (Array.isArray(aud) && aud.includes(resource)))) return void refuse('wrong audience')
      }
      accepted.push(token)
    }
    if (req.method !== 'POST') {
      res.writeHead(405, {allow: 'POST'}).end()
      return
    }
    // Stateless, both eras: one server per request (the SDK v2's default serving).
    await serve(req, res)
  }
  const serve = toNodeHandler(createMcpHandler(() => createEchoServer()))
  const http: Server = createServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  return {
    url: `${base}/mcp`,
    resource: `${base}/mcp`,
    accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}
