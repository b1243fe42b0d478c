import type {CallToolResult, Tool} from '@modelcontextprotocol/sdk/types.js'
import chalk from 'chalk'

import {describeArguments} from '../../mcp/arguments.js'
import type {AuthenticatedCall} from '../../walkthrough/authenticated-call.js'

export interface McpCallResult {
  tool: string
  arguments: Record<string, unknown>
  result: CallToolResult
  session: {id?: string; serverInfo?: {name: string; version: string}; protocolVersion?: string}
  tokenFromCache: boolean | null
  auth: AuthenticatedCall<unknown>['auth']
}

export interface McpToolsResult {
  tools: Tool[]
  auth: AuthenticatedCall<unknown>['auth']
}

/** Each tool with the flags `mcp call` accepts for it. */
export function renderTools(result: McpToolsResult): string[] {
  return result.tools.flatMap((tool) => [`${chalk.bold(tool.name)}${tool.description ? `  ${tool.description}` : ''}`, ...describeArguments(tool).map((line) => `  ${line}`)])
}
