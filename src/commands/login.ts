import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {browserFlags, diagramFlags, requestFlags, serverFlags} from '../cli/flags.js'
import {browserOptions} from '../cli/login.js'
import {loginResult, renderLogin, type LoginResult} from '../cli/render/login.js'
import {revealSecretArg} from '../cli/secret-args.js'
import {ENV} from '../config/settings.js'
import {terminalLine} from '../terminal-text.js'
import {signIn} from '../walkthrough/login.js'

const {'dry-run': _dryRun, ...loginRequestFlags} = requestFlags

export default class Login extends BaseCommand {
  static override summary = 'Sign a user in for an MCP server, in a browser (OAuth code flow + PKCE).'

  static override description = `Does what an interactive MCP client (Claude, Cursor, VS Code, the MCP Inspector) does, as the MCP authorization specification says: calls the MCP server without a token, follows its 401 to the protected resource metadata (RFC 9728; the challenge's resource_metadata, else the path-based, else the root well-known URL), discovers the authorization server's metadata (RFC 8414, then OpenID Connect; the 2025-03-26 fallbacks for a server with no resource metadata), picks the client (--client-id; else a Client ID Metadata Document when the server supports them and --client-metadata-url is set; else dynamic client registration as a native app with a loopback redirect URI), and opens the browser on the authorization request (PKCE S256, state, resource, scope from the challenge, else scopes_supported, else none).

The browser comes back to http://127.0.0.1:PORT/callback; state and the RFC 9207 iss are checked, the code is exchanged (with the resource again), and the tokens are kept in the profile like the client secret (mode 0600), keyed by issuer, resource and client. Then \`mcp call\` and \`mcp tools\` use the user's token for that server, refresh it before it expires, and sign in again for more scope when the server answers 403 insufficient_scope. \`ap-demo logout\` revokes and forgets it.

Over SSH or in CI, --no-browser prints the address instead of opening a browser. See docs/login.md.`

  static override examples = [
    {description: 'Sign in for the profile\'s MCP server (ap-demo stack up --user you@example.com):', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Then call a tool as that user:', command: '<%= config.bin %> mcp call echo --text hi'},
    {description: 'Over SSH: print the address, and forward the callback port:', command: '<%= config.bin %> <%= command.id %> --no-browser --callback-port 33418'},
    {description: 'Any MCP server, with a client registered there:', command: '<%= config.bin %> <%= command.id %> --mcp-url https://mcp.example.com/mcp --client-id <id>'},
  ]

  static override flags = {
    profile: serverFlags.profile,
    'mcp-url': serverFlags['mcp-url'],
    issuer: Flags.string({summary: 'Authorization server to use (one the MCP server lists).', description: 'It must be one of the authorization_servers of the MCP server\'s resource metadata (one trailing slash is not a difference). Default: the first one listed.', helpGroup: 'SERVER'}),
    ...loginRequestFlags,
    ...diagramFlags,
    'client-id': Flags.string({
      summary: 'A client registered there (default: register one).',
      description: `Pre-registered client: with a secret from --client-secret or ${ENV.clientSecret} it authenticates as the server announces (client_secret_basic, else client_secret_post); without one it is a public client. It must accept the redirect URI http://127.0.0.1:PORT/callback. Remembered for this server.`,
      helpGroup: 'CLIENT',
    }),
    'client-secret': Flags.string({summary: `Its client_secret (prefer ${ENV.clientSecret}).`, description: 'Flags show in the process list; the environment does not.', helpGroup: 'CLIENT', parse: async (input) => revealSecretArg(input)}),
    'client-metadata-url': Flags.string({
      summary: 'https URL of ap-demo\'s Client ID Metadata Document.',
      description: 'Used as the client_id when the authorization server announces client_id_metadata_document_supported (before dynamic registration). Env AP_DEMO_CLIENT_METADATA_URL; kept in the profile once given. docs/login.md shows the document to host.',
      helpGroup: 'CLIENT',
    }),
    scope: Flags.string({summary: 'Scope to ask for (repeatable).', description: 'Default: the 401 challenge\'s scope, else the resource metadata\'s scopes_supported, else no scope parameter.', multiple: true, helpGroup: 'CLIENT'}),
    ...browserFlags(),
  }

  async run(): Promise<LoginResult> {
    const {flags} = await this.parse(Login)
    const ctx = await this.context(flags)
    const signedIn = await signIn(ctx, {
      clientId: flags['client-id'],
      clientSecret: flags['client-secret'],
      clientMetadataUrl: flags['client-metadata-url'],
      issuerFlag: flags.issuer,
      scopes: flags.scope,
      env: this.env,
      browser: browserOptions(flags, this.progress),
      // The steps quote the servers (a registered client_id, redirect URIs, metadata locations).
      onStep: (line) => this.note(terminalLine(line)),
    })
    const result = loginResult(signedIn)
    this.display(renderLogin(result))
    return result
  }
}
