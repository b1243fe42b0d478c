// The MCP protocol revisions ap-demo speaks, and how a user picks one. Kept free of the MCP SDK so
// that flags, settings and the error map can name them without loading it (start-up, issue 12).
import {inputError} from '../errors.js'

/**
 * The two protocol eras (the SDK's words): `legacy` is every revision that opens with `initialize`
 * and a session (2024-10-07 … 2025-11-25); `modern` starts with 2026-07-28, stateless, opened by
 * `server/discover`, with the protocol version in every request's `_meta` and headers.
 */
export type McpEra = 'legacy' | 'modern'

/** How ap-demo names itself to MCP servers (initialize's clientInfo, the 2026-07-28 `_meta`). */
export const CLIENT_INFO = {name: 'ap-demo', version: '0.1.0'}

/** The newest revision of each era, the one ap-demo offers. */
export const LEGACY_REVISION = '2025-11-25'
export const MODERN_REVISION = '2026-07-28'

/** JSON-RPC `-32022` (2026-07-28): the request's protocol version is not one the server speaks. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022

/**
 * The per-request `_meta` envelope of the 2026-07-28 era (protocol version, client info, client
 * capabilities), as the SDK's client attaches it: for ap-demo's own raw probes.
 */
export function modernMeta(): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
    'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    'io.modelcontextprotocol/clientCapabilities': {},
  }
}

/** `--protocol`: negotiate (probe with server/discover, fall back to initialize), or one revision only. */
export const MCP_PROTOCOL_CHOICES = ['auto', LEGACY_REVISION, MODERN_REVISION] as const
export type McpProtocolChoice = (typeof MCP_PROTOCOL_CHOICES)[number]

/** The environment variable that pins the revision when --protocol is not given. */
export const MCP_PROTOCOL_ENV = 'AP_DEMO_MCP_PROTOCOL'

/** The era a revision string belongs to: revision identifiers are ISO dates. */
export function eraOf(revision: string): McpEra {
  return revision >= MODERN_REVISION ? 'modern' : 'legacy'
}

/**
 * The choice from --protocol, else the environment variable, else `auto`. A bad value names where
 * it came from (the flag's own options are checked by oclif; the variable is checked here).
 */
export function resolveMcpProtocol(flag: string | undefined, fromEnv: string | undefined): McpProtocolChoice {
  const value = flag ?? fromEnv
  if (value === undefined || value === '') return 'auto'
  if ((MCP_PROTOCOL_CHOICES as readonly string[]).includes(value)) return value as McpProtocolChoice
  const where = flag === undefined ? `${MCP_PROTOCOL_ENV}="${value}"` : `--protocol "${value}"`
  throw inputError(`${where} is not an MCP protocol choice`, `Use auto (negotiate: 2026-07-28 when the server speaks it, else 2025-11-25), ${LEGACY_REVISION} or ${MODERN_REVISION}.`, {
    protocol: value,
    choices: [...MCP_PROTOCOL_CHOICES],
  })
}

/** How a connection opened, in a few words: `2026-07-28 (server/discover, stateless)`. */
export function describeConnection(session: {era?: McpEra; protocolVersion?: string; sessionId?: string}): string {
  const version = session.protocolVersion ?? '?'
  if (session.era === 'modern') return `${version} (server/discover, stateless)`
  return `${version} (initialize${session.sessionId ? `, session ${session.sessionId}` : ''})`
}
