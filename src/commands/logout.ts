import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {requestFlags, serverFlags} from '../cli/flags.js'
import {logoutResult, logoutWarnings, renderLogout, type LogoutResult} from '../cli/render/login.js'
import {signOut} from '../walkthrough/user-session.js'

export default class Logout extends BaseCommand {
  static override summary = 'Sign the user out: revoke the refresh token at the server and forget it.'

  static override description = `Ends what \`ap-demo login\` kept for the MCP server (the profile's, or --mcp-url; --all: every server): the refresh token is revoked at the authorization server (RFC 7009; at Authplane that revokes the whole grant), then the tokens are forgotten. A server that offers no revocation, or refuses it, is named in a warning: the sign-in is forgotten here anyway, and its tokens stay valid there until they expire. Not being signed in is not an error. The client registered for the server is kept for the next sign-in.`

  static override examples = [
    {description: 'Sign out of the profile\'s MCP server:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Sign out everywhere:', command: '<%= config.bin %> <%= command.id %> --all'},
  ]

  static override flags = {
    profile: serverFlags.profile,
    'mcp-url': serverFlags['mcp-url'],
    'print-curl': requestFlags['print-curl'],
    'request-timeout': requestFlags['request-timeout'],
    har: requestFlags.har,
    all: Flags.boolean({summary: 'Sign out of every MCP server of the profile.', description: 'Otherwise only the sign-in for the profile\'s MCP server (or --mcp-url) ends.', exclusive: ['mcp-url']}),
  }

  async run(): Promise<LogoutResult> {
    const {flags} = await this.parse(Logout)
    const ctx = await this.context(flags)
    const result = logoutResult(flags.all ? null : ctx.mcpUrl, await signOut(ctx, {all: flags.all}))
    this.display(renderLogout(result))
    for (const warning of logoutWarnings(result)) this.warnUser(warning)
    return result
  }
}
