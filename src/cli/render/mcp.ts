import type {CallToolResult, Tool} from '@modelcontextprotocol/client'
import chalk from 'chalk'

import {describeArguments} from '../../mcp/arguments.js'
import type {AuthenticatedCall} from '../../walkthrough/authenticated-call.js'
import type {McpConnectionInfo} from '../../walkthrough/tool.js'

export interface McpCallResult {
  tool: string
  arguments: Record<string, unknown>
  result: CallToolResult
  /** How the connection opened: era (legacy 2025 / modern 2026-07-28), revision, server, session. */
  session: McpConnectionInfo
  tokenFromCache: boolean | null
  auth: AuthenticatedCall<unknown>['auth']
}

export interface McpToolsResult {
  tools: Tool[]
  session: McpConnectionInfo
  auth: AuthenticatedCall<unknown>['auth']
}

/** Each tool with the flags `mcp call` accepts for it. */
export function renderTools(result: McpToolsResult): string[] {
  return result.tools.flatMap((tool) => [`${chalk.bold(tool.name)}${tool.description ? `  ${tool.description}` : ''}`, ...describeArguments(tool).map((line) => `  ${line}`)])
}
