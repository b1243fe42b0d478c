// The MCP server behind one connection: the tier-01 example's `echo` tool, and `whoami`. One
// factory serves both protocol eras (the official SDK v2): a 2025 session gets one instance for
// its life, a 2026-07-28 request one instance for that request.
import {McpServer} from '@modelcontextprotocol/server'
import {z} from 'zod'

export const SERVER_INFO = {name: 'demo-server', version: '1.0.0'} as const

// Built once: a stateless 2026-07-28 request builds a server each time, so what can be shared is.
const ECHO_INPUT = z.object({text: z.string().describe('Text to echo back')})

export function createEchoServer(): McpServer {
  const server = new McpServer(SERVER_INFO)
  server.registerTool('echo', {description: 'Echo the given text back', inputSchema: ECHO_INPUT}, async ({text}) => ({content: [{type: 'text', text}]}))
  // A second tool, so that per-tool scopes (`--tool-scope whoami=...`) have something to compare:
  // it shows what the server learned from the token, including the DPoP key it is bound to.
  server.registerTool('whoami', {description: 'Show the client, scopes and DPoP binding of the access token this call was made with'}, async (ctx) => {
    const auth = ctx.http?.authInfo
    const jkt = auth?.extra?.['jkt']
    const lines = [
      `client_id ${auth?.clientId ?? '?'}`,
      `scope ${auth?.scopes.join(' ') || '(none)'}`,
      `token ${typeof jkt === 'string' ? `DPoP-bound, cnf.jkt ${jkt}` : 'Bearer (not bound to a key)'}`,
    ]
    return {content: [{type: 'text', text: lines.join('\n')}]}
  })
  return server
}
