import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {BaseCommand} from '../../cli/base-command.js'
import type {WalkthroughContext} from '../../walkthrough/context.js'
import {clientFlags, dpopFlags, requestFlags, serverFlags} from '../../cli/flags.js'
import {renderToken, type TokenMintResult} from '../../cli/render/token.js'
import {mintForResource, type MintResult} from '../../walkthrough/token.js'

function cnfJkt(claims: Record<string, unknown>): string | null {
  const jkt = (claims.cnf as {jkt?: unknown} | undefined)?.jkt
  return typeof jkt === 'string' ? jkt : null
}

/** --dry-run when the cache holds the token: no request, and the token stays unprinted. */
interface CachedDryRun {
  dryRun: true
  fromCache: true
  clientId: string
  sent: string[]
  notSent: null
}

/** The result of a minted token; `extra` says whose it is (user, DPoP binding, a warning). */
function tokenResult(minted: MintResult, extra: Partial<Pick<TokenMintResult, 'user' | 'dpop' | 'warning'>>): TokenMintResult {
  return {
    access_token: minted.token.accessToken,
    token_type: minted.token.tokenType,
    expires_in: minted.token.expiresIn ?? null,
    scope: minted.token.scope ?? null,
    fromCache: minted.token.fromCache,
    jwt: !minted.opaque,
    header: minted.header,
    claims: minted.claims,
    clientId: minted.clientId,
    warning: null,
    dpop: null,
    user: null,
    ...extra,
  }
}

export default class TokenMint extends BaseCommand {
  static override summary = 'Mint a client_credentials access token bound to the resource.'

  static override description = `Does what @authplane/sdk's clientCredentials() does: RFC 8414 discovery with an exact issuer check, then POST /oauth/token with grant_type=client_credentials, the scopes and one resource parameter (RFC 8707), so the JWT's aud is the resource.

Tokens are cached in the profile until 30 s before they expire, for the client and secret that minted them; --no-cache mints a new one. The client is --client-id/--client-secret, else AUTHPLANE_CLIENT_ID / AUTHPLANE_CLIENT_SECRET, else the one saved by \`ap-demo setup client\`.

Prints the token as issued, so it pipes: curl -H "Authorization: Bearer $(ap-demo token mint)" ...

With --dry-run and a cached token, nothing would be sent: it says so and prints no token (--no-cache --dry-run prints the token request).

With --dpop (or --dpop-key FILE) the token request carries a DPoP proof and the token is bound to the key (token_type DPoP, cnf.jkt); such a token is useless as a Bearer token, and each request must carry a fresh proof (see docs/dpop.md).

With --client-key FILE the --client-id client authenticates with private_key_jwt (RFC 7523) instead of a secret. With --user-token it prints the signed-in user's token (\`ap-demo login\`) instead, refreshed when needed: --decode then shows sub, the user.`

  static override examples = [
    {description: 'A token for the configured resource:', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Show its header and claims:', command: '<%= config.bin %> <%= command.id %> --decode'},
    {description: 'Use it with curl:', command: 'curl -H "Authorization: Bearer $(<%= config.bin %> <%= command.id %>)" http://localhost:8080/mcp ...'},
    {description: 'A DPoP-bound token (RFC 9449): cnf.jkt next to the key\'s own thumbprint:', command: '<%= config.bin %> <%= command.id %> --dpop --decode'},
    {description: 'Another client, skipping the cache:', command: 'AUTHPLANE_CLIENT_SECRET=... <%= config.bin %> <%= command.id %> --client-id <id> --no-cache'},
    {description: 'The signed-in user\'s token (after ap-demo login), decoded:', command: '<%= config.bin %> <%= command.id %> --user-token --decode'},
    {description: 'A client that authenticates with its key (private_key_jwt):', command: '<%= config.bin %> <%= command.id %> --client-id <id> --client-key client.pem'},
  ]

  static override flags = {
    ...serverFlags,
    ...requestFlags,
    ...clientFlags,
    ...dpopFlags,
    'no-resource': Flags.boolean({summary: 'Request no resource parameter.', description: 'The token\'s aud is then the issuer, and resource servers refuse it: useful to see audience binding at work.', exclusive: ['resource']}),
    decode: Flags.boolean({summary: 'Print the header and claims instead of the bare token.', description: 'Needs a JWT; decoded without verification, for reading (the MCP server verifies the signature).'}),
    'user-token': Flags.boolean({
      summary: 'The signed-in user\'s token (ap-demo login) instead.',
      description: 'The access token `ap-demo login` keeps for the profile\'s MCP server (or --mcp-url), refreshed first when it expires within a minute; --no-cache refreshes it now. With --decode, sub is the user. No client_credentials request is made.',
      exclusive: ['client-id', 'client-secret', 'client-key', 'no-resource', 'dpop', 'dpop-key', 'scope', 'resource', 'issuer'],
    }),
  }

  async run(): Promise<TokenMintResult | CachedDryRun> {
    const {flags} = await this.parse(TokenMint)
    const ctx = await this.context(flags)
    if (flags['user-token']) return this.userToken(ctx, flags)
    const minted = await this.waitingFor(`minting a token at ${ctx.issuer}`, () => mintForResource(ctx, this.env, {
      clientId: flags['client-id'],
      clientSecret: flags['client-secret'],
      clientKeyFile: flags['client-key'],
      scopes: flags.scope,
      withResource: !flags['no-resource'],
      noCache: flags['no-cache'],
      decode: flags.decode,
    }))
    if (flags['dry-run'] && minted.token.fromCache) {
      // Nothing was or would be sent: the token would come from the cache. It is not printed.
      this.note(`dry run: a cached token (client ${minted.clientId}) would be printed; no request would be sent. --no-cache --dry-run shows the token request.`)
      return {dryRun: true, fromCache: true, clientId: minted.clientId, sent: [], notSent: null}
    }
    if (minted.authWarning) this.warnUser(minted.authWarning)
    if (minted.audienceWarning) this.warnUser(minted.audienceWarning, flags['no-resource'] ? undefined : `Mint with --resource <the MCP server's resource> (now "${ctx.resource}").`)
    const result = tokenResult(minted, {
      warning: minted.audienceWarning ?? null,
      dpop: ctx.dpop ? {alg: ctx.dpop.key.alg, thumbprint: ctx.dpop.key.thumbprint, key: ctx.dpop.source === 'file' ? ctx.dpop.key.file! : 'profile', cnfJkt: cnfJkt(minted.claims)} : null,
    })
    return this.show(result, Boolean(flags.decode))
  }

  private async userToken(ctx: WalkthroughContext, flags: {'no-cache'?: boolean; decode?: boolean}): Promise<TokenMintResult> {
    const {userTokenForMint} = await import('../../walkthrough/user-session.js')
    const {minted, login, refreshed} = await this.waitingFor(`the signed-in user's token for ${ctx.mcpUrl}`, () => userTokenForMint(ctx, {refresh: flags['no-cache']}))
    if (flags.decode && minted.opaque) this.warnUser('the access token is opaque (not a JWT): there are no claims to show')
    return this.show(tokenResult(minted, {user: {sub: login.sub ?? null, issuer: login.issuer, resource: login.resource, refreshed}}), Boolean(flags.decode))
  }

  private show(result: TokenMintResult, decode: boolean): TokenMintResult {
    const shown = renderToken(result, decode)
    this.display(shown.stdout)
    this.note(chalk.dim(shown.note))
    return result
  }
}
