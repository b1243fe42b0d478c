import {BaseCommand} from '../../cli/base-command.js'
import {clientFlags, diagramFlags, discoverFlags, dpopFlags, dpopSchemeFlags, protocolFlags, requestFlags, serverFlags} from '../../cli/flags.js'
import {mcpAuthRequest} from '../../cli/mcp-auth.js'
import {renderTools, type McpToolsResult} from '../../cli/render/mcp.js'
import {withMcpToken} from '../../walkthrough/authenticated-call.js'
import {fetchTools} from '../../walkthrough/tool.js'

export default class McpTools extends BaseCommand {
  static override summary = 'List the tools of the protected MCP server with their arguments.'

  static override description = 'Mints (or reuses) a resource-bound token, connects (the protocol revision negotiated as for `ap-demo mcp call`, or pinned with --protocol) and lists the tools with the flags `ap-demo mcp call` accepts for each. Without any client configured the server is called without a token first. With --discover (or --client-id without --issuer), the authorization server is found from the MCP server\'s 401, as for `ap-demo mcp call`.'

  static override examples = [
    {description: 'List the tools:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Any MCP server, by URL only (no token is used unless it answers 401):', command: '<%= config.bin %> <%= command.id %> --discover --mcp-url http://localhost:3000/mcp'},
  ]

  static override flags = {...serverFlags, ...protocolFlags, ...requestFlags, ...diagramFlags, ...clientFlags, ...discoverFlags, ...dpopFlags, ...dpopSchemeFlags}

  async run(): Promise<McpToolsResult> {
    const {flags} = await this.parse(McpTools)
    const ctx = await this.context(flags)
    const {value: listed, auth} = await this.waitingFor(`listing the tools of ${ctx.mcpUrl}`, () => withMcpToken(ctx, mcpAuthRequest(flags, this.env, this.progress, {otherServer: this.connection(flags).otherServer}), (token, c) => fetchTools(c, token)))
    const result = {tools: listed.tools, session: listed.session, auth}
    this.display(renderTools(result))
    return result
  }
}
