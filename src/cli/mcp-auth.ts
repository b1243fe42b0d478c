import chalk from 'chalk'

import type {Environment} from '../config/settings.js'
import type {McpAuthRequest} from '../walkthrough/authenticated-call.js'

export interface McpAuthFlags {
  'client-id'?: string
  'client-secret'?: string
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
    discover: flags.discover || options.otherServer,
    issuerFlag: flags.issuer,
    scopes: flags.scope,
    noCache: flags['no-cache'],
    env,
    onStep: (line) => progress.note(chalk.dim(line)),
    onWarning: (message) => progress.warn(message),
    onStepUp: (scopes) => progress.note(chalk.dim(`403 insufficient_scope: stepping up to a token for "${scopes.join(' ')}" (once)`)),
  }
}
