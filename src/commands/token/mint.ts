import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {ConnectedCommand, traceFlags} from '../../connected-command.js'
import {defaultScopes, mintToken, resolveClientCredentials} from '../../walkthrough/token.js'

export default class TokenMint extends ConnectedCommand {
  static override summary = 'Mint a client_credentials access token bound to the resource.'

  static override description = `Does what @authplane/sdk's clientCredentials() does: RFC 8414 discovery with an exact issuer check, then POST /oauth/token with grant_type=client_credentials, the scopes and one resource parameter (RFC 8707), so the JWT's aud is the resource.

Tokens are cached in the profile until 30 s before they expire; a cached token needs no request at all (--no-cache mints a new one). The client is the one saved by \`ap-demo setup client\`, or AUTHPLANE_CLIENT_ID / AUTHPLANE_CLIENT_SECRET.

Prints the bare token, so it pipes: curl -H "Authorization: Bearer $(ap-demo token mint)" ...`

  static override examples = [
    {description: 'A token for the configured resource:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Show its header and claims:', command: '<%= config.bin %> <%= command.id %> --decode'},
    {description: 'Use it with curl:', command: 'curl -H "Authorization: Bearer $(<%= config.bin %> <%= command.id %>)" http://localhost:8080/mcp ...'},
    {description: 'Another scope, skipping the cache:', command: '<%= config.bin %> <%= command.id %> --scope mcp:echo --no-cache'},
  ]

  static override flags = {
    ...traceFlags,
    scope: Flags.string({summary: 'Scope to request (repeatable).', description: 'Default: the client\'s scope.', multiple: true}),
    'no-resource': Flags.boolean({summary: 'Request no resource parameter.', description: 'The token\'s aud is then the issuer, and resource servers refuse it: useful to see audience binding at work.', exclusive: ['resource']}),
    decode: Flags.boolean({summary: 'Print the header and claims instead of the bare token.', description: 'Decoded without verification, for reading; the MCP server verifies the signature.'}),
    'no-cache': Flags.boolean({summary: 'Skip the token cache: always request a new token.', description: 'The new token is not cached either.'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(TokenMint)
    const ctx = await this.context(flags)
    const credentials = resolveClientCredentials(ctx, this.env)
    const scopes = flags.scope ?? defaultScopes(ctx, credentials)
    const resources = flags['no-resource'] ? [] : [ctx.resource]
    const minted = await mintToken(ctx, credentials, {scopes, resources, noCache: flags['no-cache']})
    if (minted.audienceWarning) this.warnUser(minted.audienceWarning, `Mint with --resource <the MCP server's resource> (now "${ctx.resource}").`)
    if (flags.decode) {
      const ttl = typeof minted.claims.exp === 'number' ? minted.claims.exp - Math.floor(Date.now() / 1000) : undefined
      this.log(`${chalk.bold('header')} ${JSON.stringify(minted.header, null, 2)}\n${chalk.bold('claims')} ${JSON.stringify(minted.claims, null, 2)}`)
      this.note(chalk.dim(`${minted.token.fromCache ? 'from the cache' : 'freshly minted'}${ttl === undefined ? '' : `, expires in ${ttl} s`}, client ${minted.clientId}`))
    } else {
      this.log(minted.token.accessToken)
      this.note(chalk.dim(minted.token.fromCache ? 'token from the cache (--no-cache mints a new one)' : 'token minted'))
    }
    return {
      access_token: minted.token.accessToken,
      token_type: minted.token.tokenType,
      expires_in: minted.token.expiresIn ?? null,
      scope: minted.token.scope ?? null,
      fromCache: minted.token.fromCache,
      header: minted.header,
      claims: minted.claims,
      warning: minted.audienceWarning ?? null,
    }
  }
}
