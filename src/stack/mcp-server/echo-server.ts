// The MCP server behind one session: the tier-01 example exposes a single `echo` tool.
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js'
import {z} from 'zod'

export const SERVER_INFO = {name: 'demo-server', version: '1.0.0'} as const

export function createEchoServer(): McpServer {
  const server = new McpServer(SERVER_INFO)
  server.registerTool(
    'echo',
    {
      description: 'Echo the given text back',
      inputSchema: {text: z.string().describe('Text to echo back')},
    },
    async ({text}) => ({content: [{type: 'text', text}]}),
  )
  return server
}
