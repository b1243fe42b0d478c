import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {clientFlags, diagramFlags, discoverFlags, dpopFlags, dpopSchemeFlags, protocolFlags, requestFlags, serverFlags} from '../../cli/flags.js'
import {mcpAuthRequest} from '../../cli/mcp-auth.js'
import type {McpCallResult} from '../../cli/render/mcp.js'
import {CheckFailedError} from '../../errors.js'
import {parseToolFlags, splitToolArgv} from '../../mcp/arguments.js'
import {withMcpToken} from '../../walkthrough/authenticated-call.js'
import {runTool} from '../../walkthrough/tool.js'

export default class McpCall extends BaseCommand {
  static override summary = 'Call a tool of the protected MCP server with a resource-bound token.'

  static override description = `Mints (or reuses from the cache) a token for the resource, connects over streamable HTTP with the official MCP SDK's client, calls the tool and prints the text of its result. The protocol revision is negotiated: 2026-07-28 (server/discover, stateless) when the server speaks it, else 2025-11-25 (initialize, notifications/initialized, the mcp-session-id header); --protocol or AP_DEMO_MCP_PROTOCOL pins one, and a server that speaks none of them is named with the --protocol that would reach it.

Tool arguments are flags named after the tool's input schema (--text hi for echo), or a JSON object with --args; values are converted to the schema's types. When the server refuses the token (401/403), the answer is explained: which of issuer, audience, scope or expiry is wrong, and how to fix it.

Without any client configured, the server is called without a token first. Given only the MCP URL and client credentials (--client-id, --client-secret), or with --discover, no issuer is needed: ap-demo follows the server's 401 to its protected resource metadata (RFC 9728), takes the authorization server from it, discovers that server's metadata (RFC 8414) and mints a token for exactly the resource the metadata names.

A 403 insufficient_scope whose challenge names a scope the client may request (its saved scope ceiling, or any for a client given with --client-id) is answered once with a token for those scopes: step-up, as in the MCP authorization specification. With --dpop the token is bound to a key (RFC 9449) and every request carries a proof; see docs/dpop.md.`

  static override examples = [
    {description: 'The tier-02 call:', command: '<%= config.bin %> <%= command.id %> echo --text hi'},
    {description: 'Arguments as JSON, raw result as JSON:', command: '<%= config.bin %> <%= command.id %> echo --args \'{"text":"hi"}\' --json'},
    {description: 'With a DPoP-bound token (RFC 9449), against `ap-demo stack up --mcp-dpop required`:', command: '<%= config.bin %> <%= command.id %> echo --text hi --dpop'},
    {
      description: 'Only the MCP URL and a client: the authorization server is found from the server\'s 401:',
      command: 'AUTHPLANE_CLIENT_SECRET=... <%= config.bin %> <%= command.id %> echo --text hi --mcp-url http://localhost:8080/mcp --client-id <id>',
    },
  ]

  static override usage = '<%= command.id %> TOOL [TOOL FLAGS] [FLAGS]'

  static override args = {
    tool: Args.string({description: 'Name of the tool (see ap-demo mcp tools).', required: true}),
  }

  static override flags = {
    ...serverFlags,
    ...protocolFlags,
    ...requestFlags,
    ...diagramFlags,
    ...clientFlags,
    ...discoverFlags,
    ...dpopFlags,
    ...dpopSchemeFlags,
    args: Flags.string({summary: 'Tool arguments as a JSON object.', description: 'Flags named after the schema\'s properties win over the same keys here.'}),
  }

  async run(): Promise<McpCallResult> {
    const split = splitToolArgv(this.argv, {...McpCall.flags, json: {type: 'boolean'}})
    const {args, flags} = await this.parse(McpCall, split.own)
    const pairs = parseToolFlags(args.tool, split.tool)
    const ctx = await this.context(flags)
    const {value: outcome, auth} = await this.waitingFor(`calling ${args.tool} at ${ctx.mcpUrl}`, () =>
      withMcpToken(ctx, mcpAuthRequest(flags, this.env, this.progress, {otherServer: this.connection(flags).otherServer}), (token, c) => runTool(c, token, args.tool, {pairs, json: flags.args, nearMisses: split.nearMisses})),
    )
    if (outcome.result.isError) {
      throw new CheckFailedError('tool_error', `tool "${args.tool}" reported an error: ${outcome.text || '(no text)'}`, {details: {result: outcome.result}})
    }
    this.display(outcome.text)
    return {tool: args.tool, arguments: outcome.arguments, result: outcome.result, session: outcome.session, tokenFromCache: 'tokenFromCache' in auth ? auth.tokenFromCache : null, auth}
  }
}
