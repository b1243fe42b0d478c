import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {ConnectedCommand} from '../../connected-command.js'
import {describeArguments} from '../../mcp/arguments.js'
import {defaultScopes, resolveClientCredentials} from '../../walkthrough/token.js'
import {fetchTools, withResourceToken} from '../../walkthrough/tool.js'

export default class McpTools extends ConnectedCommand {
  static override summary = 'List the tools of the protected MCP server with their arguments.'

  static override description = 'Mints (or reuses) a resource-bound token, opens an MCP session and lists the tools with the flags `ap-demo mcp call` accepts for each.'

  static override examples = [{description: 'List the tools:', command: '<%= config.bin %> <%= command.id %>'}]

  static override flags = {
    scope: Flags.string({summary: 'Scope to request (repeatable).', description: 'Default: the client\'s scope.', multiple: true}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(McpTools)
    const ctx = await this.context(flags)
    const credentials = resolveClientCredentials(ctx, this.env)
    const scopes = flags.scope ?? defaultScopes(ctx, credentials)
    const {value: tools} = await withResourceToken(ctx, credentials, {scopes, resources: [ctx.resource]}, (m) => fetchTools(ctx, m.token.accessToken))
    for (const tool of tools) {
      this.log(`${chalk.bold(tool.name)}${tool.description ? `  ${tool.description}` : ''}`)
      for (const line of describeArguments(tool)) this.log(`  ${line}`)
    }
    return {tools}
  }
}
