import {createHash} from 'node:crypto'

import {tokenCacheKey, type CachedToken, type TokenCache} from '../authplane/cache.js'
import type {ClientKey} from '../authplane/client-key.js'
import {AuthplaneOAuthError} from '../authplane/errors.js'
import {describeToken} from '../authplane/token.js'
import type {TokenResult} from '../authplane/types.js'
import type {AuthMethod, ConfigStore} from '../config/store.js'
import {ENV, type Environment} from '../config/settings.js'
import {CheckFailedError, ConfigError, InputError} from '../errors.js'
import type {WalkthroughContext} from './context.js'
import {TokenRequestRefused} from './errors.js'
import {readKeyFile} from './key-file.js'

/**
 * The token cache of contract §4, kept in the profile so that it outlives one CLI process. Each
 * entry remembers a digest of the credentials that minted it and is served only to the same ones:
 * a mistyped or rotated secret must fail now, not when the cached token expires.
 */
export class StoreTokenCache implements TokenCache {
  constructor(
    private readonly store: ConfigStore,
    private readonly profile: string,
    private readonly credential?: string,
  ) {}

  get(key: string): CachedToken | undefined {
    const entry = this.store.getProfile(this.profile).tokens?.[key]
    if (!entry || entry.expiresAt <= Date.now()) return undefined
    return this.credential === undefined || entry.credential === this.credential ? (entry as CachedToken) : undefined
  }

  set(key: string, entry: CachedToken): void {
    this.store.updateProfile(this.profile, (p) => {
      const now = Date.now()
      // Drop expired entries so the file does not grow with every new scope/resource combination.
      const kept = Object.fromEntries(Object.entries(p.tokens ?? {}).filter(([, e]) => e.expiresAt > now))
      p.tokens = {...kept, [key]: {...entry, ...(this.credential === undefined ? {} : {credential: this.credential})}}
    })
  }

  delete(key: string): void {
    this.store.updateProfile(this.profile, (p) => {
      if (p.tokens) delete p.tokens[key]
    })
  }
}

/** A digest that tells two credentials apart without keeping the secret a second time. */
export function credentialDigest(credentials: {clientId: string; clientSecret: string; authMethod: string; key?: ClientKey}): string {
  const parts: unknown[] = [credentials.clientId, credentials.clientSecret, credentials.authMethod]
  if (credentials.key) parts.push(credentials.key.thumbprint)
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22)
}

export interface ClientCredentials {
  clientId: string
  /** Empty for a client that authenticates with its key (private_key_jwt). */
  clientSecret: string
  authMethod: AuthMethod | 'private_key_jwt'
  /** --client-key: the key that signs RFC 7523 client assertions. */
  key?: ClientKey
  source: 'flag' | 'env' | '.env' | 'profile'
}

/** --client-key FILE: a PKCS#8 PEM private key for private_key_jwt (RFC 7523). */
export async function loadClientKey(file: string): Promise<ClientKey> {
  const {clientKeyFailure, parseClientKey} = await import('../authplane/client-key.js')
  return parseClientKey(readKeyFile(file, clientKeyFailure(file)), file)
}

/**
 * The client named on the command line: --client-id with --client-secret (the secret may come from
 * AUTHPLANE_CLIENT_SECRET instead, to keep it out of the process list).
 */
export function flagClientCredentials(flags: {clientId?: string; clientSecret?: string; clientKey?: ClientKey}, env: Environment): ClientCredentials | undefined {
  if (flags.clientKey !== undefined) {
    if (flags.clientId === undefined || !flags.clientId.trim()) throw new InputError('usage', '--client-key needs --client-id', {hint: 'The key signs client assertions for one client: pass its client_id with --client-id.'})
    if (flags.clientSecret !== undefined) throw new InputError('usage', '--client-key and --client-secret are two ways to authenticate the same client; pass one', {hint: 'private_key_jwt (--client-key) or a client secret, not both.'})
    return {clientId: flags.clientId, clientSecret: '', authMethod: 'private_key_jwt', key: flags.clientKey, source: 'flag'}
  }
  if (flags.clientId !== undefined) {
    const secret = flags.clientSecret ?? env.lookup(ENV.clientSecret)?.value
    if (!flags.clientId.trim()) throw new InputError('usage', '--client-id is empty', {hint: 'Pass the client_id of a client_credentials client.'})
    if (!secret) {
      throw new InputError('usage', '--client-id needs a secret', {hint: `Pass --client-secret, or set ${ENV.clientSecret} (keeps it out of the process list), or --client-key FILE for private_key_jwt.`})
    }
    return {clientId: flags.clientId, clientSecret: secret, authMethod: 'client_secret_basic', source: 'flag'}
  }
  if (flags.clientSecret !== undefined) {
    throw new InputError('usage', '--client-secret needs --client-id', {hint: 'Pass both, or neither to use the saved client.'})
  }
  return undefined
}

/**
 * The client of the configuration: AUTHPLANE_CLIENT_ID / AUTHPLANE_CLIENT_SECRET (the original
 * example's variables, also from ./.env) when both are set, else the client saved by
 * `ap-demo setup client`. It belongs to the configured issuer.
 */
export function configuredClientCredentials(ctx: WalkthroughContext, env: Environment, flags: {clientId?: string} = {}): ClientCredentials | undefined {
  const id = env.lookup(ENV.clientId)
  const secret = env.lookup(ENV.clientSecret)
  if (id && secret) return {clientId: id.value, clientSecret: secret.value, authMethod: 'client_secret_basic', source: id.source}
  // One of the pair alone would otherwise be ignored in favour of the saved client: say so instead
  // (the secret alone is the documented companion of --client-id, though).
  if ((id || secret) && flags.clientId === undefined) {
    const [set, unset] = id ? [ENV.clientId, ENV.clientSecret] : [ENV.clientSecret, ENV.clientId]
    throw new InputError('usage', `${set} is set (${(id ?? secret)!.source === 'env' ? 'environment' : './.env'}) but ${unset} is not`, {
      hint: `Set both to use that client, or unset ${set} to use the profile's saved client.`,
    })
  }
  const saved = ctx.store.getProfile(ctx.profile).client
  return saved ? {clientId: saved.id, clientSecret: saved.secret, authMethod: saved.authMethod, source: 'profile'} : undefined
}

/** No client at all: none on the command line, in the environment, or saved in the profile. */
export function noClientError(ctx: WalkthroughContext, facts: {tokenDemandedBy?: string} = {}): ConfigError {
  return new ConfigError('no_client', `${facts.tokenDemandedBy ? `${facts.tokenDemandedBy} asks for a token, but ` : ''}profile "${ctx.profile}" has no client`, {
    hint: `Register one with \`ap-demo setup client\`, or name one: --client-id <id> with ${ENV.clientSecret} (or set ${ENV.clientId} and ${ENV.clientSecret})${facts.tokenDemandedBy ? '; or sign a user in: ap-demo login' : ''}.`,
    details: {profile: ctx.profile, ...(facts.tokenDemandedBy ? {url: facts.tokenDemandedBy} : {})},
  })
}

/** The client to mint with: the one on the command line, else the configured one. */
export function resolveClientCredentials(ctx: WalkthroughContext, env: Environment, flags: {clientId?: string; clientSecret?: string; clientKey?: ClientKey} = {}): ClientCredentials {
  const credentials = flagClientCredentials(flags, env) ?? configuredClientCredentials(ctx, env, flags)
  if (!credentials) throw noClientError(ctx)
  return credentials
}

/** The scopes the profile's resource declares, when the profile holds the resource with that uri. */
export function knownResourceScopes(ctx: WalkthroughContext, uri: string): string[] | undefined {
  const resource = ctx.store.getProfile(ctx.profile).resource
  return resource && resource.uri === uri ? resource.scopes.map((s) => s.name) : undefined
}

/**
 * After invalid_client: does the server still know the client? Asked of the admin API when a key
 * is at hand (GET /admin/clients/{id}: 404 = unknown, e.g. a --memory stack restarted); undefined
 * when it cannot tell.
 */
async function clientKnownToServer(ctx: WalkthroughContext, clientId: string): Promise<boolean | undefined> {
  if (!ctx.adminKey) return undefined
  const [{adminClient}, {AdminApiError}] = await Promise.all([import('./resource.js'), import('../admin/client.js')])
  try {
    await adminClient(ctx).getClient(clientId)
    return true
  } catch (error) {
    // A problem+json 404 is the admin API's own answer; a bare 404 may be a wrong --admin-url.
    return error instanceof AdminApiError && error.kind === 'not_found' && typeof error.body === 'object' && error.body !== null ? false : undefined
  }
}

export interface MintRequest {
  scopes: string[]
  /** RFC 8707 resources; empty = mint without a resource (aud = the issuer). */
  resources: string[]
  noCache?: boolean
  /**
   * The authorization server was found through an MCP server's resource metadata and need not be
   * Authplane: its metadata may lack jwks_uri and its tokens may be opaque (RFC 6749 §1.4: a client
   * does not read its access tokens).
   */
  discovered?: boolean
}

export interface MintResult {
  token: TokenResult
  header: Record<string, unknown>
  claims: Record<string, unknown>
  clientId: string
  /** The token is not a JWT: header and claims are empty. */
  opaque?: boolean
  /** Set when the token's aud does not contain the requested resource (contract §7 pitfall 2). */
  audienceWarning?: string
  /** RFC 9449: the thumbprint of the key the token was requested for (compare with claims.cnf.jkt). */
  dpopThumbprint?: string
  /** The server does not announce the client authentication used (private_key_jwt): one line for the user. */
  authWarning?: string
}

/**
 * Step 5a (contract §4/§6): a client_credentials token bound to the resource, through the
 * persisted cache. A cache hit needs no request at all (not even discovery): the cache key holds
 * the issuer, client, scopes and resources.
 */
export async function mintToken(ctx: WalkthroughContext, credentials: ClientCredentials, request: MintRequest): Promise<MintResult> {
  const cache = new StoreTokenCache(ctx.store, ctx.profile, credentialDigest(credentials))
  const dpop = ctx.dpop
  let token: TokenResult | undefined
  let authWarning: string | undefined
  if (!request.noCache) {
    const hit = cache.get(tokenCacheKey(ctx.issuer, credentials.clientId, request.scopes, request.resources, dpop?.key.thumbprint))
    if (hit) token = {...hit.result, fromCache: true}
  }
  if (!token) {
    // Loaded only on a cache miss: a cached mint needs neither oauth4webapi nor the network.
    const {AuthplaneClient} = await import('../authplane/client.js')
    const client = await AuthplaneClient.create({
      issuer: ctx.issuer,
      auth: credentials.key
        ? {clientId: credentials.clientId, privateKey: credentials.key, method: 'private_key_jwt'}
        : {clientId: credentials.clientId, clientSecret: credentials.clientSecret, method: credentials.authMethod},
      timeoutMs: ctx.requestTimeoutMs,
      cache,
      onRequest: ctx.observer,
      requireJwksUri: !request.discovered,
      ...(dpop ? {dpop: {key: dpop.key, handle: dpop.handle}} : {}),
    })
    const methods = client.announcedAuthMethods
    if (credentials.key && !methods.includesOurs) {
      authWarning = `${ctx.issuer} does not announce private_key_jwt (token_endpoint_auth_methods_supported: ${methods.announced.join(', ') || 'none listed'}); sending the client assertion anyway`
    }
    try {
      token = await client.clientCredentials(request.scopes, request.resources, {noCache: request.noCache})
    } catch (error) {
      if (error instanceof AuthplaneOAuthError) {
        const discovered = Boolean(request.discovered)
        throw new TokenRequestRefused(error, {
          issuer: ctx.issuer,
          clientId: credentials.clientId,
          clientSource: credentials.source,
          discovered,
          resource: request.resources[0],
          scopes: request.scopes,
          resourceScopes: request.resources[0] === undefined ? undefined : knownResourceScopes(ctx, request.resources[0]),
          clientKnown: error.code === 'invalid_client' && !discovered ? await clientKnownToServer(ctx, credentials.clientId) : undefined,
          authMethod: credentials.authMethod,
          announcedAuthMethods: methods.announced,
        })
      }
      throw error
    }
  }
  let described
  try {
    described = describeToken(token.accessToken)
  } catch {
    // RFC 6749 §1.4: a client does not read its access tokens; a server may issue opaque ones.
    return {token, header: {}, claims: {}, clientId: credentials.clientId, opaque: true, ...(dpop ? {dpopThumbprint: dpop.key.thumbprint} : {}), ...(authWarning ? {authWarning} : {})}
  }
  const header = described.header as Record<string, unknown>
  const claims = described.claims as Record<string, unknown>
  const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : typeof claims.aud === 'string' ? [claims.aud] : []
  let audienceWarning: string | undefined
  const wanted = request.resources[0]
  if (wanted !== undefined && !aud.includes(wanted)) {
    audienceWarning = `the token's aud ${JSON.stringify(aud)} does not contain the requested resource "${wanted}"; the MCP server will refuse it`
  } else if (wanted === undefined) {
    audienceWarning = `no resource was requested, so aud is ${JSON.stringify(aud)}; resource servers refuse such tokens`
  }
  const result: MintResult = {token, header, claims, clientId: credentials.clientId, audienceWarning}
  if (dpop) result.dpopThumbprint = dpop.key.thumbprint
  if (authWarning) result.authWarning = authWarning
  return result
}

/** Forgets the cached token for this request, e.g. after a server refused it. */
export function forgetCachedToken(ctx: WalkthroughContext, credentials: ClientCredentials, request: MintRequest): void {
  new StoreTokenCache(ctx.store, ctx.profile).delete(tokenCacheKey(ctx.issuer, credentials.clientId, request.scopes, request.resources, ctx.dpop?.key.thumbprint))
}

export function scopesOf(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean)
}

/** The scopes to request when none are given: the saved client's ceiling, else mcp:echo. */
export function defaultScopes(ctx: WalkthroughContext, credentials: ClientCredentials): string[] {
  const saved = credentials.source === 'profile' ? ctx.store.getProfile(ctx.profile).client?.scope : undefined
  const scopes = scopesOf(saved)
  return scopes.length > 0 ? scopes : ['mcp:echo']
}

/**
 * `token mint`: the client from the flags, the environment or the profile; the scopes asked for,
 * else the client's; the configured resource unless `withResource` is false. With `decode` the
 * token must be a JWT; otherwise it is handed out as issued, opaque or not.
 */
export async function mintForResource(
  ctx: WalkthroughContext,
  env: Environment,
  request: {clientId?: string; clientSecret?: string; clientKeyFile?: string; scopes?: string[]; withResource: boolean; noCache?: boolean; decode?: boolean},
): Promise<MintResult> {
  const clientKey = request.clientKeyFile === undefined ? undefined : await loadClientKey(request.clientKeyFile)
  const credentials = resolveClientCredentials(ctx, env, {clientId: request.clientId, clientSecret: request.clientSecret, clientKey})
  const scopes = request.scopes ?? defaultScopes(ctx, credentials)
  const minted = await mintToken(ctx, credentials, {scopes, resources: request.withResource ? [ctx.resource] : [], noCache: request.noCache})
  if (request.decode && minted.opaque) {
    throw new CheckFailedError('opaque_token', 'the access token is opaque (not a JWT), so --decode cannot show claims', {
      hint: 'Drop --decode to print the token as it is; only the server that issued it can say what it means (RFC 7662 introspection).',
      details: {issuer: ctx.issuer},
    })
  }
  return minted
}
