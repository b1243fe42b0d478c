import chalk from 'chalk'

import {describeArguments} from '../../mcp/arguments.js'
import {McpCommand} from '../../mcp-command.js'
import {fetchTools} from '../../walkthrough/tool.js'

export default class McpTools extends McpCommand {
  static override summary = 'List the tools of the protected MCP server with their arguments.'

  static override description = 'Mints (or reuses) a resource-bound token, opens an MCP session and lists the tools with the flags `ap-demo mcp call` accepts for each. With --discover (or --client-id without --issuer), the authorization server is found from the MCP server\'s 401, as for `ap-demo mcp call`.'

  static override examples = [
    {description: 'List the tools:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Any MCP server, by URL only (no token is used unless it answers 401):', command: '<%= config.bin %> <%= command.id %> --discover --mcp-url http://localhost:3000/mcp'},
  ]

  async run(): Promise<unknown> {
    const {flags} = await this.parse(McpTools)
    const ctx = await this.context(flags)
    const {value: tools, auth} = await this.withMcpToken(flags, ctx, (token, c) => fetchTools(c, token))
    for (const tool of tools) {
      this.log(`${chalk.bold(tool.name)}${tool.description ? `  ${tool.description}` : ''}`)
      for (const line of describeArguments(tool)) this.log(`  ${line}`)
    }
    return {tools, auth}
  }
}
