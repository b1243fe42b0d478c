// The MCP connection of doctor's walk (steps 5 to 7, and the call of a server that needs no
// token): the one part that needs the MCP SDK. runDoctor starts loading it with import() once the
// server has answered its first request, so that it loads while the metadata and token requests
// are in flight, and a URL that does not answer at all is reported without loading it.
import {callTool, listTools, resultText, withMcpSession, type McpSession, type Tool} from '../mcp/client.js'
import {describeConnection, UNSUPPORTED_PROTOCOL_VERSION} from '../mcp/protocol.js'
import type {WalkthroughContext} from '../walkthrough/context.js'
import {sessionOptions} from '../walkthrough/tool.js'
import {DOCTOR_STEPS} from './findings.js'
import {chooseSafeTool} from './tools.js'


/** What connectAndCall tells about its steps as it goes (the walk, or a buffer). */
export interface StepHooks {
  start(name: string): void
  pass(name: string, detail: string): void
  skip(name: string, detail: string): void
}

/** What happened in one MCP connection: the steps it passed, and what it learned. */
export interface CallOutcome {
  tools: Tool[]
  called?: {name: string; arguments: Record<string, unknown>; reason: string; text: string; isError: boolean; mcpError?: string}
  refused: Array<{name: string; why: string}>
}

/**
 * Connect, tools/list, then one safe tools/call (./tools.ts) in one MCP connection, each a step of
 * the walk. A JSON-RPC error to the call still proves the connection and the token: the server
 * ran the request.
 */
export async function connectAndCall(ctx: WalkthroughContext, token: string | undefined, walk: StepHooks): Promise<CallOutcome> {
  return withMcpSession(sessionOptions(ctx, token), async (session: McpSession) => {
    walk.pass(DOCTOR_STEPS[4], `${describeConnection(session)}, ${session.serverInfo?.name ?? '?'} ${session.serverInfo?.version ?? ''}`.trim())
    walk.start(DOCTOR_STEPS[5])
    const tools = await listTools(session, ctx.requestTimeoutMs)
    walk.pass(DOCTOR_STEPS[5], `${tools.length} tool${tools.length === 1 ? '' : 's'}${tools.length > 0 ? `: ${tools.slice(0, 6).map((t) => t.name).join(', ')}${tools.length > 6 ? ', ...' : ''}` : ''}`)
    walk.start(DOCTOR_STEPS[6])
    const {choice, refused} = chooseSafeTool(tools)
    if (!choice) {
      walk.skip(DOCTOR_STEPS[6], `no tool is safe to call (${refused.length} ruled out)`)
      return {tools, refused}
    }
    try {
      const result = await callTool(session, choice.name, choice.arguments, ctx.requestTimeoutMs)
      const text = resultText(result)
      walk.pass(DOCTOR_STEPS[6], `${choice.name} ${JSON.stringify(choice.arguments)}${result.isError ? ' -> tool error' : ' -> answered'}`)
      return {tools, refused, called: {...choice, text, isError: Boolean(result.isError)}}
    } catch (error) {
      // A JSON-RPC error (a numeric code, MCP's ProtocolError) is still an answer of the tool's
      // server to an authorized request; HTTP-level failures (the SDK's string codes) are not.
      const code = (error as {code?: unknown}).code
      if (!(error instanceof Error) || typeof code !== 'number' || code === UNSUPPORTED_PROTOCOL_VERSION) throw error
      walk.pass(DOCTOR_STEPS[6], `${choice.name} -> MCP error ${code}`)
      return {tools, refused, called: {...choice, text: '', isError: true, mcpError: error.message}}
    }
  })
}

