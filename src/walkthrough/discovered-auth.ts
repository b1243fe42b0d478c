import {findIssuer, sameIssuer} from '../authplane/issuer.js'
import {ENV} from '../config/settings.js'
import {CredentialsError, ConfigError} from '../errors.js'
import {findResourceMetadata} from '../mcp/resource-metadata.js'
import type {WalkthroughContext} from './context.js'
import {scopesOf, type ClientCredentials, type MintResult} from './token.js'
import {tokenDemanded, withResourceToken} from './tool.js'

export interface DiscoveryOptions {
  /** The client named on the command line: used with whatever authorization server is found. */
  credentials?: ClientCredentials
  /** The configured client (environment, ./.env, profile): only for the configured issuer. */
  configuredCredentials?: ClientCredentials
  /** With --issuer: the authorization server the credentials belong to; the metadata must list it. */
  expectedIssuer?: string
  /** --scope; otherwise the challenge's scope, else the metadata's scopes_supported. */
  scopes?: string[]
  noCache?: boolean
  /** Told each discovery step, for the human output. */
  onStep?: (line: string) => void
  /** Told when a 403 insufficient_scope is answered with a token for more scopes. */
  onStepUp?: (scopes: string[]) => void
}

export interface DiscoveredAuth {
  resourceMetadataUrl: string
  /** How the metadata URL was found: the 401's resource_metadata, or the RFC 9728 well-known URL. */
  via: 'challenge' | 'well-known'
  /** The metadata's `resource`, byte for byte: the token's RFC 8707 resource. */
  resource: string
  issuer: string
  authorizationServers: string[]
  scopes: string[]
  scopeSource: 'flag' | 'challenge' | 'metadata' | 'none'
  clientId: string
  credentialsSource: ClientCredentials['source']
  tokenFromCache: boolean
  opaqueToken: boolean
}

export interface DiscoveryOutcome<T> {
  value: T
  /** null: the MCP server answered without asking for a token. */
  auth: DiscoveredAuth | null
  minted?: MintResult
}

/**
 * Calls the MCP server knowing only its URL, the way the MCP authorization spec has a client do it:
 * first without a token; on 401, the protected resource metadata (RFC 9728) named by the challenge
 * gives the resource identifier and the authorization server; that server's RFC 8414 metadata is
 * discovered (issuer compared as Authplane's SDKs do: one trailing slash is not a difference,
 * anything else is; Authplane's Python adapters announce `http://host:port/`), a client_credentials token is minted with
 * `resource` = the metadata's `resource` string exactly, and the call is made again with it. No
 * issuer needs to be configured. A server that never asks for a token is simply called.
 */
export async function withDiscoveredAuth<T>(
  ctx: WalkthroughContext,
  options: DiscoveryOptions,
  use: (accessToken: string | undefined, ctx: WalkthroughContext) => Promise<T>,
): Promise<DiscoveryOutcome<T>> {
  let challenge
  try {
    return {value: await use(undefined, ctx), auth: null}
  } catch (error) {
    challenge = tokenDemanded(error)
    if (!challenge) throw error
  }
  const step = options.onStep ?? (() => {})
  const found = await findResourceMetadata(ctx.mcpUrl, challenge.rejection, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
  const {metadata} = found
  step(`401 from ${ctx.mcpUrl}; resource metadata ${found.url} (${found.via === 'challenge' ? 'named by the challenge' : 'well-known location'})`)

  const servers = metadata.authorization_servers
  let issuer = servers[0]!
  if (options.expectedIssuer !== undefined) {
    if (findIssuer(servers, options.expectedIssuer) === undefined) {
      throw new ConfigError('issuer_not_listed', `the MCP server trusts ${servers.map((s) => `"${s}"`).join(', ')}, not "${options.expectedIssuer}"`, {
        hint: `Tokens from "${options.expectedIssuer}" would be refused. Drop --issuer to use the server's choice, or point --mcp-url at a server that trusts this issuer (the strings must match; only a single trailing slash is not a difference).`,
        details: {authorizationServers: servers, expectedIssuer: options.expectedIssuer},
      })
    }
    issuer = options.expectedIssuer
  }

  // A configured client belongs to the configured issuer: its secret is never sent to an
  // authorization server that an MCP server merely pointed at. Only a client named on the command
  // line goes wherever the metadata says.
  const configured = options.configuredCredentials
  const credentials = options.credentials ?? (configured && sameIssuer(issuer, ctx.issuer) ? configured : undefined)
  if (!credentials) {
    const why = configured ? `; the configured client (${configured.source}) belongs to ${ctx.issuer}` : ', and no client credentials were given'
    throw new CredentialsError('client_credentials_missing', `the MCP server needs a token from ${issuer}${why}`, {
      hint: `Name a client_credentials client registered at ${issuer}: --client-id <id>, with --client-secret or ${ENV.clientSecret}.`,
      details: {issuer, configuredIssuer: ctx.issuer, resource: metadata.resource, resourceMetadataUrl: found.url},
    })
  }

  const challengeScopes = scopesOf(found.challengeScope)
  const [scopes, scopeSource]: [string[], DiscoveredAuth['scopeSource']] =
    options.scopes && options.scopes.length > 0
      ? [options.scopes, 'flag']
      : challengeScopes.length > 0
        ? [challengeScopes, 'challenge']
        : metadata.scopes_supported && metadata.scopes_supported.length > 0
          ? [metadata.scopes_supported, 'metadata']
          : [[], 'none']
  step(`authorization server ${issuer}; token for resource ${metadata.resource}${scopes.length > 0 ? `, scope ${scopes.join(' ')}` : ''}`)

  const discovered: WalkthroughContext = {...ctx, issuer, resource: metadata.resource}
  const {minted, value} = await withResourceToken(
    discovered,
    credentials,
    {scopes, resources: [metadata.resource], noCache: options.noCache, discovered: true},
    (m) => use(m.token.accessToken, discovered),
    {onStepUp: options.onStepUp},
  )
  return {
    value,
    minted,
    auth: {
      resourceMetadataUrl: found.url,
      via: found.via,
      resource: metadata.resource,
      issuer,
      authorizationServers: servers,
      scopes,
      scopeSource,
      clientId: credentials.clientId,
      credentialsSource: credentials.source,
      tokenFromCache: minted.token.fromCache,
      opaqueToken: Boolean(minted.opaque),
    },
  }
}
