import type {CallToolResult, Tool} from '@modelcontextprotocol/client'
import chalk from 'chalk'

import {describeArguments} from '../../mcp/arguments.js'
import type {AuthenticatedCall} from '../../walkthrough/authenticated-call.js'
import {terminalBlock, terminalLine, terminalSafe} from '../../terminal-text.js'
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

/**
 * Each tool with the flags `mcp call` accepts for it. Names, descriptions and schemas are the
 * server's words: a description of several lines keeps them, indented under its tool.
 */
export function renderTools(result: McpToolsResult): string[] {
  return result.tools.flatMap((tool) => {
    const [first = '', ...more] = tool.description ? terminalBlock(tool.description).split('\n') : []
    return [
      `${chalk.bold(terminalLine(tool.name))}${first ? `  ${first}` : ''}`,
      ...more.map((line) => `    ${line}`),
      ...describeArguments(terminalSafe(tool)).map((line) => `  ${line}`),
    ]
  })
}

/** The text of a tool's result, as the server wrote it: its lines kept, its control characters shown. */
export function renderToolText(text: string): string {
  return terminalBlock(text)
}
