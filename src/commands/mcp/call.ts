import {Args, Flags} from '@oclif/core'

import {ConnectedCommand} from '../../connected-command.js'
import {ApDemoError, ExitCode} from '../../errors.js'
import {parseToolFlags, splitToolArgv} from '../../mcp/arguments.js'
import {defaultScopes, resolveClientCredentials} from '../../walkthrough/token.js'
import {runTool, withResourceToken} from '../../walkthrough/tool.js'

export default class McpCall extends ConnectedCommand {
  static override summary = 'Call a tool of the protected MCP server with a resource-bound token.'

  static override description = `Mints (or reuses from the cache) a token for the resource, opens an MCP session over streamable HTTP with the MCP SDK's client (initialize, notifications/initialized, the mcp-session-id header), calls the tool and prints the text of its result.

Tool arguments are flags named after the tool's input schema (--text hi for echo), or a JSON object with --args; values are converted to the schema's types. When the server refuses the token (401/403), the answer is explained: which of issuer, audience, scope or expiry is wrong, and how to fix it.`

  static override examples = [
    {description: 'The tier-02 call:', command: '<%= config.bin %> <%= command.id %> echo --text hi'},
    {description: 'Arguments as JSON, raw result as JSON:', command: '<%= config.bin %> <%= command.id %> echo --args \'{"text":"hi"}\' --json'},
  ]

  static override args = {
    tool: Args.string({description: 'Name of the tool (see ap-demo mcp tools).', required: true}),
  }

  static override flags = {
    args: Flags.string({summary: 'Tool arguments as a JSON object.', description: 'Flags named after the schema\'s properties win over the same keys here.'}),
    scope: Flags.string({summary: 'Scope to request (repeatable).', description: 'Default: the client\'s scope.', multiple: true}),
    'no-cache': Flags.boolean({summary: 'Mint a new token instead of using the cached one.', description: 'The new token is not cached either.'}),
  }

  async run(): Promise<unknown> {
    const definitions = {...McpCall.baseFlags, ...McpCall.flags, json: {type: 'boolean'}}
    const split = splitToolArgv(this.argv, definitions)
    const {args, flags} = await this.parse(McpCall, split.own)
    const pairs = parseToolFlags(args.tool, split.tool)
    const ctx = await this.context(flags)
    const credentials = resolveClientCredentials(ctx, this.env)
    const scopes = flags.scope ?? defaultScopes(ctx, credentials)
    const {minted, value: outcome} = await withResourceToken(ctx, credentials, {scopes, resources: [ctx.resource], noCache: flags['no-cache']}, (m) => {
      if (m.audienceWarning) this.warnUser(m.audienceWarning)
      return runTool(ctx, m.token.accessToken, args.tool, {pairs, json: flags.args})
    })
    if (outcome.result.isError) {
      throw new ApDemoError('tool_error', `tool "${args.tool}" reported an error: ${outcome.text || '(no text)'}`, {exitCode: ExitCode.CHECK_FAILED, details: {result: outcome.result}})
    }
    this.log(outcome.text)
    return {tool: args.tool, arguments: outcome.arguments, result: outcome.result, session: outcome.session, tokenFromCache: minted.token.fromCache}
  }
}
