// A 2025-era MCP server on the official SDK v1 (@modelcontextprotocol/sdk 1.x, a dev dependency
// kept as a peer): stateful streamable HTTP, a session per initialize, as every server deployed
// before protocol revision 2026-07-28. It knows nothing of server/discover.
import {randomUUID} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js'
import {StreamableHTTPServerTransport} from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import {isInitializeRequest} from '@modelcontextprotocol/sdk/types.js'
import * as z from 'zod'

export interface V1Peer {
  url: string
  /** The JSON-RPC methods of the POSTs it received, in order. */
  methods: string[]
  stop(): Promise<void>
}

export async function startV1Peer(): Promise<V1Peer> {
  const methods: string[] = []
  const sessions = new Map<string, StreamableHTTPServerTransport>()
  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : undefined
        if (req.method === 'POST') methods.push(String((body as {method?: unknown} | undefined)?.method ?? ''))
        const sid = req.headers['mcp-session-id'] as string | undefined
        if (sid && sessions.has(sid)) return sessions.get(sid)!.handleRequest(req, res, body)
        if (!sid && req.method === 'POST' && isInitializeRequest(body)) {
          const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void sessions.set(id, transport)})
          const server = new McpServer({name: 'sdk-v1-peer', version: '1.32.2'})
          server.registerTool('echo', {description: 'Echo', inputSchema: {text: z.string()}}, async ({text}) => ({content: [{type: 'text', text}]}))
          await server.connect(transport)
          return transport.handleRequest(req, res, body)
        }
        res.writeHead(sid ? 404 : 400, {'content-type': 'application/json'}).end(JSON.stringify({jsonrpc: '2.0', error: {code: -32000, message: 'Bad Request: No valid session ID provided'}, id: null}))
      })().catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error))
      })
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    methods,
    async stop() {
      await Promise.all([...sessions.values()].map((t) => t.close().catch(() => {})))
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
