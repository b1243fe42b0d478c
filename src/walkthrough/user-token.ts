// `mcp call` and `mcp tools` with the signed-in user's token. Above the MCP client: a refused
// token is refreshed once; a 403 insufficient_scope naming scopes the token lacks is answered with
// a new authorization for the union of the scopes held and those asked for (MCP authorization
// 2025-11-25, "Step-Up Authorization Flow"), at most MAX_STEP_UPS times in one command, and
// never for scopes the token already holds (that would loop: the server refuses for another reason).
import type {LoginRecord} from '../config/store.js'
import {ApDemoError, CredentialsError} from '../errors.js'
import {parseWwwAuthenticate} from '../mcp/diagnose.js'
import {McpAuthRejectedError} from '../mcp/errors.js'
import type {AuthorizationServerInfo} from '../login/metadata.js'
import type {WalkthroughContext} from './context.js'
import {authorizeInBrowser, completeSignIn, openListener, type BrowserOptions, type SignInTarget} from './login.js'
import {scopesOf} from './token.js'
import {freshLogin, heldScopes, loginServer} from './user-session.js'

/** Re-authorizations one command may make for more scope (the conformance suite allows three attempts in all). */
export const MAX_STEP_UPS = 2

export interface UserTokenOptions {
  browser: BrowserOptions
  onStep?: (line: string) => void
  /** Told before each step-up: the scopes asked for, and which attempt it is. */
  onStepUp?: (scopes: string[], attempt: number) => void
}

export interface UserTokenOutcome<T> {
  value: T
  login: LoginRecord
  /** A refresh happened in this command (before expiry, or after the server refused the token). */
  refreshed: boolean
  /** The scopes of each step-up, in order. */
  steppedUpTo: string[][]
}

/** The MCP server's refusal behind a failed call, if that is what it was. */
function rejectionOf(error: unknown): McpAuthRejectedError | undefined {
  if (error instanceof McpAuthRejectedError) return error
  return error instanceof ApDemoError && error.cause instanceof McpAuthRejectedError ? error.cause : undefined
}

/** A 403 whose challenge (or body) says insufficient_scope: the scopes it names. */
export function insufficientScope(rejected: McpAuthRejectedError): string[] | undefined {
  if (rejected.rejection.status !== 403) return undefined
  const challenge = parseWwwAuthenticate(rejected.rejection.wwwAuthenticate)
  const bodyError = (rejected.rejection.body as {error?: unknown} | undefined)?.error
  if (challenge?.params.error !== 'insufficient_scope' && bodyError !== 'insufficient_scope') return undefined
  return scopesOf(challenge?.params.scope)
}

export async function withUserToken<T>(ctx: WalkthroughContext, kept: LoginRecord, use: (accessToken: string) => Promise<T>, options: UserTokenOptions): Promise<UserTokenOutcome<T>> {
  let {login, refreshed} = await freshLogin(ctx, kept)
  let retriedAfterRefusal = false
  const steppedUpTo: string[][] = []
  for (;;) {
    try {
      return {value: await use(login.accessToken), login, refreshed, steppedUpTo}
    } catch (error) {
      const rejected = rejectionOf(error)
      if (!rejected) throw error
      if (rejected.rejection.status === 401) {
        // A token the server no longer takes (a restarted server, a revoked grant): refreshed once.
        if (retriedAfterRefusal || !login.refreshToken) throw signInAgain(error, login)
        retriedAfterRefusal = true
        ;({login} = await freshLogin(ctx, login, {force: true}))
        refreshed = true
        continue
      }
      const wanted = insufficientScope(rejected)
      if (wanted === undefined) throw error
      const held = heldScopes(login)
      const missing = wanted.filter((s) => !held.includes(s))
      if (missing.length === 0) throw stuck(error, login, wanted)
      if (steppedUpTo.length >= MAX_STEP_UPS) throw tooMany(error, login, wanted, steppedUpTo)
      const scopes = [...new Set([...held, ...wanted])]
      options.onStepUp?.(scopes, steppedUpTo.length + 1)
      steppedUpTo.push(scopes)
      login = await stepUp(ctx, login, scopes, options)
    }
  }
}

/** A new authorization for `scopes` with the same server, client and resource; the new tokens replace the old. */
async function stepUp(ctx: WalkthroughContext, login: LoginRecord, scopes: string[], options: UserTokenOptions): Promise<LoginRecord> {
  const server = loginServer(login)
  const info: AuthorizationServerInfo = {metadata: server, source: login.server.source as AuthorizationServerInfo['source'], issuerChecked: true, misses: [], ...(login.server.metadataUrl ? {metadataUrl: login.server.metadataUrl} : {})}
  const target: SignInTarget = {mcpUrl: login.mcpUrl, resource: login.resource, server: info, resourceMetadata: {via: 'none'}, scopes, scopeSource: 'challenge'}
  const listener = await openListener(ctx, login.issuer, options.browser.callbackPort)
  try {
    const authorized = await authorizeInBrowser(ctx, {server, resource: login.resource, scopes}, {client: login.client, action: 'reused'}, listener, options.browser, options.onStep)
    return await completeSignIn(ctx, target, authorized)
  } finally {
    await listener.close()
  }
}

function signInAgain(error: unknown, login: LoginRecord): unknown {
  if (!(error instanceof ApDemoError)) return error
  return new CredentialsError(error.code, error.message, {hint: `${error.hint ? `${error.hint} ` : ''}The signed-in user's token was refused${login.refreshToken ? ' even after a refresh' : ''}: sign in again with ap-demo login --mcp-url ${login.mcpUrl}.`, details: error.details, cause: error.cause})
}

function stuck(error: unknown, login: LoginRecord, wanted: string[]): unknown {
  if (!(error instanceof ApDemoError)) return error
  return new CredentialsError(error.code, error.message, {
    hint: `The server asks for "${wanted.join(' ')}", which the token already holds ("${heldScopes(login).join(' ')}"): a new authorization would get the same answer, so ap-demo does not ask again. The server refuses for another reason; check its logs.`,
    details: {...error.details, requiredScopes: wanted, heldScopes: heldScopes(login)},
    cause: error.cause,
  })
}

function tooMany(error: unknown, login: LoginRecord, wanted: string[], steps: string[][]): unknown {
  if (!(error instanceof ApDemoError)) return error
  return new CredentialsError(error.code, error.message, {
    hint: `After ${steps.length} step-up authorizations (${steps.map((s) => `"${s.join(' ')}"`).join(', ')}) the server still asks for "${wanted.join(' ')}"; ap-demo stops rather than loop. Sign in with every scope at once: ap-demo login --mcp-url ${login.mcpUrl} --scope ... `,
    details: {...error.details, requiredScopes: wanted, stepUps: steps},
    cause: error.cause,
  })
}
