// The MCP layer's typed errors, in a module of their own so that mapping them to exit codes
// does not load the MCP SDK (src/cli/error-map.ts is imported by every command).

/**
 * Text an MCP server chose (a -32022 message, its `supported` list), made safe to print: control
 * characters (terminal escapes among them) become `?` and it is cut at 200 characters. The one
 * helper of issue 18 for it, to be replaced by the project's escaping rule (issue 19) when that lands.
 */
export function serverText(value: string): string {
  const printable = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  return printable.length > 200 ? `${printable.slice(0, 199)}…` : printable
}

/** What the MCP server answered when it refused the token (401/403), kept for the diagnosis. */
export interface McpRejection {
  status: number
  wwwAuthenticate: string | null
  body: unknown
  /** The scheme of the refused request's Authorization header (`Bearer`, `DPoP`), if it had one. */
  scheme?: string
}

export class McpAuthRejectedError extends Error {
  constructor(
    readonly url: string,
    readonly rejection: McpRejection,
  ) {
    const desc = (rejection.body as {error_description?: string} | undefined)?.error_description
    super(`the MCP server refused the token (HTTP ${rejection.status}${desc ? `: ${desc}` : ''})`)
    this.name = 'McpAuthRejectedError'
  }
}

export class McpUnreachableError extends Error {
  constructor(readonly url: string, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'McpUnreachableError'
  }
}

export class McpProtocolError extends Error {
  constructor(readonly url: string, readonly status: number | undefined, message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'McpProtocolError'
  }
}

export class McpToolArgumentError extends Error {
  constructor(readonly tool: string, message: string, readonly schema: unknown) {
    super(message)
    this.name = 'McpToolArgumentError'
  }
}

/** `mcp call --dpopp`: not a property of the tool's schema, and one or two typos away from a flag of the command. */
export class McpUnknownFlagError extends McpToolArgumentError {
  constructor(tool: string, readonly flag: string, readonly suggestion: string, schemaSummary: string, schema: unknown) {
    super(tool, `unknown flag --${flag}: did you mean --${suggestion}? (tool arguments come from the tool's schema: ${schemaSummary})`, schema)
    this.name = 'McpUnknownFlagError'
  }
}

export type McpDiscoveryProblem = 'resource_metadata_missing' | 'resource_metadata_unavailable' | 'resource_metadata_invalid' | 'resource_mismatch'

/** The MCP server's RFC 9728 metadata cannot be used to find its authorization server. */
export class McpDiscoveryError extends Error {
  constructor(
    readonly url: string,
    readonly problem: McpDiscoveryProblem,
    message: string,
  ) {
    super(message)
    this.name = 'McpDiscoveryError'
  }
}

/**
 * The MCP server and ap-demo have no protocol revision in common for this connection: a JSON-RPC
 * `-32022` (unsupported protocol version, with the server's `supported` list), or a pinned
 * revision the server's `server/discover` did not offer (or that a 2025-era server never answers).
 */
export class McpProtocolVersionError extends Error {
  constructor(
    readonly url: string,
    /** What ap-demo was asked to speak: --protocol or AP_DEMO_MCP_PROTOCOL (`auto` negotiates). */
    readonly choice: string,
    /** The revision the refused request carried, when known. */
    readonly requested: string | undefined,
    /** The server's revisions: `-32022`'s `data.supported`, or `server/discover`'s `supportedVersions`. */
    readonly supported: string[] | undefined,
    /** Why, in the server's or the SDK's words. */
    readonly detail: string,
    options?: {cause?: unknown},
  ) {
    super(
      `the MCP server does not speak protocol revision ${requested ?? choice}${supported && supported.length > 0 ? ` (it supports ${supported.join(', ')})` : ''}: ${detail}`,
      options,
    )
    this.name = 'McpProtocolVersionError'
  }
}
