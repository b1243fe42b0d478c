import {inputError} from '../errors.js'
import type {McpProtocolMode} from '../stack/types.js'

export interface McpPolicyFlags {
  'mcp-dpop'?: string
  'mcp-dpop-nonce'?: boolean
  'tool-scope'?: string[]
  'mcp-protocol'?: string
}

export interface McpPolicy {
  dpop: 'off' | 'allowed' | 'required'
  dpopNonce: boolean
  toolScopes: Record<string, string>
  /** The protocol eras served at /mcp (--mcp-protocol). */
  protocol: McpProtocolMode
}

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** The MCP server's DPoP mode, per-tool scopes and protocol eras, from --mcp-dpop, --mcp-dpop-nonce, --tool-scope and --mcp-protocol. */
export function mcpPolicy(flags: McpPolicyFlags): McpPolicy {
  const dpop = (flags['mcp-dpop'] ?? 'off') as McpPolicy['dpop']
  if (flags['mcp-dpop-nonce'] && dpop === 'off') {
    throw inputError('--mcp-dpop-nonce needs DPoP at the MCP server', 'Add --mcp-dpop allowed (or required).')
  }
  const toolScopes: Record<string, string> = {}
  for (const entry of flags['tool-scope'] ?? []) {
    const at = entry.indexOf('=')
    const tool = entry.slice(0, Math.max(at, 0)).trim()
    const scope = entry.slice(at + 1).trim()
    if (at <= 0 || tool === '' || !SCOPE_TOKEN.test(scope)) {
      throw inputError(`--tool-scope "${entry}" is not TOOL=SCOPE (one scope, no spaces)`, 'Example: --tool-scope whoami=mcp:whoami (repeat the flag for more tools).')
    }
    if (toolScopes[tool] !== undefined && toolScopes[tool] !== scope) {
      throw inputError(`--tool-scope gives tool "${tool}" two scopes (${toolScopes[tool]} and ${scope})`, 'One scope per tool.')
    }
    toolScopes[tool] = scope
  }
  return {dpop, dpopNonce: Boolean(flags['mcp-dpop-nonce']), toolScopes, protocol: (flags['mcp-protocol'] ?? 'both') as McpProtocolMode}
}

/** --cors-origin values: each `scheme://host[:port]` (no path) or `*`. */
export function corsOrigins(values: readonly string[] | undefined): string[] | undefined {
  for (const origin of values ?? []) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) throw inputError(`--cors-origin "${origin}" is not a web origin`, 'An origin is scheme://host[:port], no path: --cors-origin http://localhost:6274')
  }
  return values === undefined ? undefined : [...values]
}
