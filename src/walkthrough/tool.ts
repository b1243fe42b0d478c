import type {CallToolResult, Tool} from '@modelcontextprotocol/client'

import {ApDemoError, InputError, CredentialsError} from '../errors.js'
import {buildToolArguments, type NearMiss} from '../mcp/arguments.js'
import {callTool, listTools, resultText, withMcpSession, type McpSession, type McpSessionOptions} from '../mcp/client.js'
import {McpAuthRejectedError} from '../mcp/errors.js'
import {diagnoseRejection, parseWwwAuthenticate} from '../mcp/diagnose.js'
import type {McpEra} from '../mcp/protocol.js'
import type {WalkthroughContext} from './context.js'
import {forgetCachedToken, knownResourceScopes, mintToken, scopesOf, type ClientCredentials, type MintRequest, type MintResult} from './token.js'

export interface ToolCallOutcome {
  tool: Tool
  arguments: Record<string, unknown>
  result: CallToolResult
  text: string
  session: McpConnectionInfo
}

/** How the MCP connection opened: the era and revision negotiated, the server, the 2025 session. */
export interface McpConnectionInfo {
  id?: string
  serverInfo?: {name: string; version: string}
  protocolVersion?: string
  era?: McpEra
}

function connectionInfo(session: McpSession): McpConnectionInfo {
  return {id: session.sessionId, serverInfo: session.serverInfo, protocolVersion: session.protocolVersion, era: session.era}
}

/** The session options every MCP call of a walkthrough context shares. */
export function sessionOptions(ctx: WalkthroughContext, accessToken: string | undefined): McpSessionOptions {
  return {url: ctx.mcpUrl, accessToken, timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer, dpop: ctx.dpop?.handle, dpopSchemes: ctx.dpop?.schemes, protocol: ctx.mcpProtocol}
}

/** A 401/403 from the MCP server, explained: which of issuer, audience, scope or expiry is wrong. */
export async function explainMcpError(ctx: WalkthroughContext, accessToken: string | undefined, error: unknown): Promise<unknown> {
  if (!(error instanceof McpAuthRejectedError)) return error
  // A 401 to a call made without a token is a challenge, not a verdict: discovery reads it as it is.
  if (accessToken === undefined && error.rejection.status === 401) return error
  const d = await diagnoseRejection(error.rejection, accessToken, {timeoutMs: ctx.requestTimeoutMs})
  return new CredentialsError(`token_rejected_${d.cause}`, d.message, {
    hint: d.hint,
    details: {httpStatus: d.status, error: d.oauthError ?? null, error_description: d.oauthErrorDescription ?? null, expected: d.expected, token: d.token},
    cause: error,
  })
}

async function explained<T>(ctx: WalkthroughContext, accessToken: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw await explainMcpError(ctx, accessToken, error)
  }
}

/** The 401 challenge behind a failed call made without a token: where discovery starts. */
export function tokenDemanded(error: unknown): McpAuthRejectedError | undefined {
  const rejected = error instanceof McpAuthRejectedError ? error : error instanceof ApDemoError && error.cause instanceof McpAuthRejectedError ? error.cause : undefined
  return rejected?.rejection.status === 401 ? rejected : undefined
}

/**
 * The scopes a 403 `insufficient_scope` asks for (the challenge's `scope`, MCP authorization
 * "scope challenge"), added to those already held; undefined when it asks for nothing new.
 */
export function stepUpScopes(error: unknown, held: readonly string[]): {needed: string[]; wanted: string[]} | undefined {
  const rejected = error instanceof ApDemoError && error.code === 'token_rejected_scope' ? error.cause : undefined
  if (!(rejected instanceof McpAuthRejectedError) || rejected.rejection.status !== 403) return undefined
  const needed = scopesOf(parseWwwAuthenticate(rejected.rejection.wwwAuthenticate)?.params.scope).filter((s) => !held.includes(s))
  return needed.length === 0 ? undefined : {needed, wanted: [...held, ...needed]}
}

/** The scopes the client may request, when ap-demo knows them (the saved client's ceiling). */
function clientCeiling(ctx: WalkthroughContext, credentials: ClientCredentials): string[] | undefined {
  if (credentials.source !== 'profile') return undefined
  const saved = ctx.store.getProfile(ctx.profile).client
  return saved && saved.id === credentials.clientId ? scopesOf(saved.scope) : undefined
}

export interface ResourceTokenOptions {
  /** Told when a 403 insufficient_scope is answered by minting with more scopes (step-up). */
  onStepUp?: (scopes: string[]) => void
}

/**
 * Mints (or reuses) the token, then runs `use` with it. A cached token the MCP server refuses
 * (the stack was restarted with a new key, the client was deleted, ...) is forgotten and the run
 * retried once with a freshly minted one; a fresh token that is refused is reported as it is.
 * A 403 insufficient_scope naming scopes the client may request is stepped up once: a token with
 * them is minted and the run retried (MCP authorization, step-up authorization flow).
 */
export async function withResourceToken<T>(
  ctx: WalkthroughContext,
  credentials: ClientCredentials,
  request: MintRequest,
  use: (minted: MintResult) => Promise<T>,
  options: ResourceTokenOptions = {},
): Promise<{minted: MintResult; value: T; steppedUpTo?: string[]}> {
  let minted = await mintToken(ctx, credentials, request)
  let current = request
  let refreshed = false
  let steppedUpTo: string[] | undefined
  for (;;) {
    try {
      const value = await use(minted)
      return steppedUpTo ? {minted, value, steppedUpTo} : {minted, value}
    } catch (error) {
      const refused = error instanceof ApDemoError && error.code.startsWith('token_rejected_')
      const stepUp = steppedUpTo ? undefined : stepUpScopes(error, current.scopes)
      if (stepUp) {
        const ceiling = clientCeiling(ctx, credentials)
        const beyond = ceiling ? stepUp.needed.filter((s) => !ceiling.includes(s)) : []
        if (beyond.length > 0) throw beyondCeiling(error as ApDemoError, credentials, beyond, ceiling!, knownResourceScopes(ctx, current.resources[0] ?? ctx.resource))
        steppedUpTo = stepUp.wanted
        current = {...current, scopes: stepUp.wanted}
        options.onStepUp?.(stepUp.wanted)
        minted = await mintToken(ctx, credentials, current)
        continue
      }
      if (!refused || !minted.token.fromCache || refreshed) throw error
      refreshed = true
      forgetCachedToken(ctx, credentials, current)
      minted = await mintToken(ctx, credentials, current)
    }
  }
}

/** The diagnosis of the 403 stands; the hint becomes exact: the client may not request the scope. */
function beyondCeiling(error: ApDemoError, credentials: ClientCredentials, beyond: string[], ceiling: string[], resourceScopes: string[] | undefined): ApDemoError {
  const all = [...new Set([...ceiling, ...beyond])]
  const client = `Client ${credentials.clientId} may request only "${ceiling.join(' ')}", so ap-demo cannot step up to ${beyond.join(' ')}.`
  const undeclared = resourceScopes ? beyond.filter((s) => !resourceScopes.includes(s)) : []
  // A new client alone would be refused (invalid_scope, not declared by the target resource): the resource needs the scope first.
  const hint =
    undeclared.length > 0
      ? `${client} The resource does not declare ${undeclared.join(' ')} either (it has "${resourceScopes!.join(' ')}"), and its scopes are set when it is registered: ap-demo clean --yes; ap-demo setup resource ${[...new Set([...resourceScopes!, ...all])].map((s) => `--scope ${s}`).join(' ')}; ap-demo setup client --new --scope "${all.join(' ')}".`
      : `${client} Register a client that may: ap-demo setup client --new --scope "${all.join(' ')}"${resourceScopes ? '' : ' (the resource must declare the scope too)'}.`
  return new CredentialsError(error.code, error.message, {
    hint,
    details: {...error.details, missingScopes: beyond, clientScopes: ceiling, ...(resourceScopes ? {resourceScopes} : {})},
    cause: error.cause,
  })
}

/** The tools the server offers, in one connection (authenticated when a token is given). */
export async function fetchTools(ctx: WalkthroughContext, accessToken: string | undefined): Promise<{tools: Tool[]; session: McpConnectionInfo}> {
  return explained(ctx, accessToken, () =>
    withMcpSession(sessionOptions(ctx, accessToken), async (session) => ({tools: await listTools(session, ctx.requestTimeoutMs), session: connectionInfo(session)})),
  )
}

/**
 * Steps 5b-5c (contract §6): the connection (2025: initialize, initialized, the session header;
 * 2026-07-28: server/discover), then tools/call. The arguments are built from the tool's input
 * schema, so the connection lists the tools first.
 */
export async function runTool(
  ctx: WalkthroughContext,
  accessToken: string | undefined,
  name: string,
  input: {pairs: Array<[string, string]>; json?: string; nearMisses?: NearMiss[]},
  hooks: {onSession?: (session: ToolCallOutcome['session']) => void} = {},
): Promise<ToolCallOutcome> {
  return explained(ctx, accessToken, () =>
    withMcpSession(sessionOptions(ctx, accessToken), async (session) => {
      const info = connectionInfo(session)
      hooks.onSession?.(info)
      const tools = await listTools(session, ctx.requestTimeoutMs)
      const tool = tools.find((t) => t.name === name)
      if (!tool) {
        throw new InputError('unknown_tool', `the MCP server has no tool "${name}"`, {
          hint: `It offers: ${tools.map((t) => t.name).join(', ') || 'no tools'} (ap-demo mcp tools).`,
        })
      }
      const args = buildToolArguments(tool, input.pairs, input.json, input.nearMisses)
      const result = await callTool(session, name, args, ctx.requestTimeoutMs)
      return {
        tool,
        arguments: args,
        result,
        text: resultText(result),
        session: info,
      }
    }),
  )
}
