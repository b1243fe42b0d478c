import chalk from 'chalk'

import type {Environment} from '../config/settings.js'
import type {McpAuthRequest} from '../walkthrough/authenticated-call.js'
import {terminalLine} from '../terminal-text.js'
import {browserOptions, type BrowserFlags} from './login.js'

export interface McpAuthFlags extends BrowserFlags {
  'client-id'?: string
  'client-secret'?: string
  'client-key'?: string
  discover?: boolean
  issuer?: string
  scope?: string[]
  'no-cache'?: boolean
}

/**
 * The token request of `mcp call` and `mcp tools`, from their flags (clientFlags + discoverFlags).
 * `otherServer`: --mcp-url names another server than the profile's, with no resource given for it:
 * its audience is found from the server itself (discovery), never taken from the profile.
 */
export function mcpAuthRequest(flags: McpAuthFlags, env: Environment, progress: {note: (m: string) => void; warn: (m: string) => void}, options: {otherServer?: boolean} = {}): McpAuthRequest {
  if (options.otherServer && !flags.discover) progress.note(chalk.dim('--mcp-url names another server than the profile\'s: its audience and authorization server come from its 401 (--resource and --issuer name them instead)'))
  return {
    clientId: flags['client-id'],
    clientSecret: flags['client-secret'],
    clientKeyFile: flags['client-key'],
    discover: flags.discover || options.otherServer,
    issuerFlag: flags.issuer,
    scopes: flags.scope,
    noCache: flags['no-cache'],
    env,
    // The steps quote what the MCP server and its metadata said.
    onStep: (line) => progress.note(chalk.dim(terminalLine(line))),
    onWarning: (message) => progress.warn(message),
    onStepUp: (scopes) => progress.note(chalk.dim(`403 insufficient_scope: stepping up to a token for "${terminalLine(scopes.join(' '))}" (once)`)),
    browser: browserOptions(flags, progress),
    onUserStepUp: (scopes, attempt) => progress.note(chalk.dim(`403 insufficient_scope: signing in again for "${terminalLine(scopes.join(' '))}" (step-up ${attempt} of at most 2)`)),
  }
}
