import type {Environment} from '../config/settings.js'
import {findLogin} from '../login/sessions.js'
import type {WalkthroughContext} from './context.js'
import type {DiscoveredAuth} from './discovered-auth.js'
import type {BrowserOptions} from './login.js'
import {configuredClientCredentials, defaultScopes, flagClientCredentials, loadClientKey, noClientError} from './token.js'
import {tokenDemanded, withResourceToken} from './tool.js'

export interface McpAuthRequest {
  /** --client-id / --client-secret (the secret may come from the environment). */
  clientId?: string
  clientSecret?: string
  /** --client-key: authenticate the --client-id client with private_key_jwt (RFC 7523). */
  clientKeyFile?: string
  /** --discover: find the authorization server from the MCP server's 401. */
  discover?: boolean
  /** --issuer as given on the command line (not from the environment or profile). */
  issuerFlag?: string
  scopes?: string[]
  noCache?: boolean
  env: Environment
  /** Each discovery step, for the human output. */
  onStep?: (line: string) => void
  /** A token whose audience does not fit (the MCP server will refuse it). */
  onWarning?: (message: string) => void
  /** A 403 insufficient_scope answered by minting a token with the scopes it names (step-up). */
  onStepUp?: (scopes: string[]) => void
  /** How a step-up of the signed-in user's token reaches the browser (--no-browser, --callback-port, --login-timeout). */
  browser?: BrowserOptions
  /** The browser address of a step-up, and whether a browser was opened for it. */
  onUserStepUp?: (scopes: string[], attempt: number) => void
}

export interface AuthenticatedCall<T> {
  value: T
  /** How the token was obtained: the configured issuer, a discovery, or no token at all. */
  auth:
    | {mode: 'configured'; issuer: string; resource: string; clientId: string; tokenFromCache: boolean; steppedUpTo?: string[]}
    | ({mode: 'discovered'} & DiscoveredAuth)
    | {mode: 'user'; issuer: string; resource: string; clientId: string; sub: string | null; scope: string | null; refreshed: boolean; steppedUpTo?: string[][]}
    | {mode: 'none'}
}

/** True when the token's issuer comes from the MCP server rather than from the settings. */
export function discovering(request: Pick<McpAuthRequest, 'discover' | 'clientId' | 'issuerFlag'>): boolean {
  return Boolean(request.discover) || (request.clientId !== undefined && request.issuerFlag === undefined)
}

/**
 * The one authenticated-call path of `mcp call` and `mcp tools`. Three ways to a token: the
 * signed-in user's (`ap-demo login` for this MCP server), unless a client is named or DPoP asked
 * for; the configured one (issuer, resource and client from flags, environment or profile: the
 * tier-02 walkthrough); or discovery from the MCP server itself. Without any client the server is
 * called without a token first: one that needs none just answers.
 */
export async function withMcpToken<T>(ctx: WalkthroughContext, request: McpAuthRequest, use: (accessToken: string | undefined, ctx: WalkthroughContext) => Promise<T>): Promise<AuthenticatedCall<T>> {
  const login = request.clientId === undefined && request.clientKeyFile === undefined && !ctx.dpop ? findLogin(ctx.store, ctx.profile, ctx.mcpUrl) : undefined
  if (login) {
    const [{withUserToken}, {DEFAULT_LOGIN_TIMEOUT_SECONDS}] = await Promise.all([import('./user-token.js'), import('./login.js')])
    const browser = request.browser ?? {timeoutMs: DEFAULT_LOGIN_TIMEOUT_SECONDS * 1000}
    const out = await withUserToken(ctx, login, (token) => use(token, ctx), {browser, onStep: request.onStep, onStepUp: request.onUserStepUp})
    const l = out.login
    return {
      value: out.value,
      auth: {mode: 'user', issuer: l.issuer, resource: l.resource, clientId: l.clientId, sub: l.sub ?? null, scope: l.scope ?? null, refreshed: out.refreshed, ...(out.steppedUpTo.length > 0 ? {steppedUpTo: out.steppedUpTo} : {})},
    }
  }
  const clientKey = request.clientKeyFile === undefined ? undefined : await loadClientKey(request.clientKeyFile)
  const given = flagClientCredentials({clientId: request.clientId, clientSecret: request.clientSecret, clientKey}, request.env)
  const configured = configuredClientCredentials(ctx, request.env, {clientId: request.clientId})
  if (discovering(request)) {
    const {withDiscoveredAuth} = await import('./discovered-auth.js')
    const outcome = await withDiscoveredAuth(
      ctx,
      {credentials: given, configuredCredentials: configured, expectedIssuer: request.issuerFlag, scopes: request.scopes, noCache: request.noCache, onStep: request.onStep, onStepUp: request.onStepUp},
      use,
    )
    if (outcome.minted?.authWarning) request.onWarning?.(outcome.minted.authWarning)
    if (outcome.minted?.audienceWarning && !outcome.minted.opaque) request.onWarning?.(outcome.minted.audienceWarning)
    return {value: outcome.value, auth: outcome.auth ? {mode: 'discovered', ...outcome.auth} : {mode: 'none'}}
  }
  const credentials = given ?? configured
  if (!credentials) {
    try {
      return {value: await use(undefined, ctx), auth: {mode: 'none'}}
    } catch (error) {
      if (tokenDemanded(error)) throw noClientError(ctx, {tokenDemandedBy: ctx.mcpUrl})
      throw error
    }
  }
  const scopes = request.scopes ?? defaultScopes(ctx, credentials)
  const {minted, value, steppedUpTo} = await withResourceToken(ctx, credentials, {scopes, resources: [ctx.resource], noCache: request.noCache}, (m) => {
    if (m.authWarning) request.onWarning?.(m.authWarning)
    if (m.audienceWarning) request.onWarning?.(m.audienceWarning)
    return use(m.token.accessToken, ctx)
  }, {onStepUp: request.onStepUp})
  return {value, auth: {mode: 'configured', issuer: ctx.issuer, resource: ctx.resource, clientId: credentials.clientId, tokenFromCache: minted.token.fromCache, ...(steppedUpTo ? {steppedUpTo} : {})}}
}
