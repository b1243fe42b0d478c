// Every failure the user can cause ends here: one typed error with a one-line message, a hint that
// says what to do, and one of the documented exit codes below. The base command renders it; no
// other place decides an exit code.

/** Documented exit codes (README "Exit codes"). Keep this table and the README in step. */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** A check failed: a `verify` step, a tool that reported an error. */
  CHECK_FAILED: 1,
  /** Bad usage: unknown or invalid flag, argument or input; a prompt needed where none can be shown. */
  USAGE: 2,
  /** Credentials refused: admin key, client secret, or the access token at the MCP server (401/403). */
  AUTH: 3,
  /** A server could not be reached, timed out, or failed (5xx, circuit breaker open, unusable RFC 9728 metadata). */
  UNREACHABLE: 4,
  /** The server refused the request's content: invalid_scope, invalid_target, validation errors, not found. */
  REJECTED: 5,
  /** Existing state disagrees: a resource with the same slug but another URI or scopes, a port already in use. */
  CONFLICT: 6,
  /** Local configuration is wrong: issuer mismatch, unreadable store, missing saved client, Docker (or its compose plugin) missing. */
  CONFIG: 7,
  /** Cancelled by the user at a prompt (Ctrl-C), as shells report SIGINT. Nothing was changed. */
  CANCELLED: 130,
  /** A bug in ap-demo. Please report it. */
  INTERNAL: 70,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export const exitCodeDescriptions: Record<ExitCodeValue, string> = {
  0: 'success',
  1: 'a check failed (verify step, tool error)',
  2: 'usage error (bad flag or input, prompt needed without a terminal)',
  3: 'credentials refused (admin key, client secret, access token)',
  4: 'server unreachable, timed out or failing (5xx, circuit open, unusable resource metadata)',
  5: 'request rejected by the server (invalid_scope, invalid_target, validation, not found)',
  6: 'conflict with existing state (resource differs, port in use)',
  7: 'local configuration problem (issuer mismatch, store, missing client, no docker/compose)',
  70: 'internal error in ap-demo',
  130: 'cancelled at a prompt (Ctrl-C); nothing was changed',
}

export interface ApDemoErrorOptions {
  hint?: string
  exitCode: ExitCodeValue
  /** Extra machine-readable fields for the JSON envelope (OAuth error, HTTP status, ...). */
  details?: Record<string, unknown>
  cause?: unknown
}

export class ApDemoError extends Error {
  readonly code: string
  readonly hint?: string
  readonly exitCode: ExitCodeValue
  readonly details: Record<string, unknown>

  constructor(code: string, message: string, options: ApDemoErrorOptions) {
    super(message, {cause: options.cause})
    this.name = 'ApDemoError'
    this.code = code
    this.hint = options.hint
    this.exitCode = options.exitCode
    this.details = options.details ?? {}
  }
}

export function usageError(message: string, hint?: string): ApDemoError {
  return new ApDemoError('usage', message, {exitCode: ExitCode.USAGE, hint})
}

/** Maps a Node listen error to a clear message; other errors pass through. */
export function listenError(err: unknown, what: string): unknown {
  const e = err as NodeJS.ErrnoException & {port?: number; address?: string; hostname?: string}
  if (e?.code === 'EADDRINUSE') {
    return new ApDemoError('port_in_use', `${what}: port ${e.port ?? '?'} on ${e.address ?? 'this host'} is already in use`, {
      exitCode: ExitCode.CONFLICT,
      hint: 'Stop the other process (is a stack already running?) or pick another port with --port/--admin-port/--mcp-port (0 = any free port).',
      details: {port: e.port, address: e.address},
      cause: err,
    })
  }
  if (e?.code === 'EACCES') {
    return new ApDemoError('port_forbidden', `${what}: not allowed to listen on port ${e.port ?? '?'}`, {
      exitCode: ExitCode.CONFLICT,
      hint: 'Ports below 1024 need privileges; choose a port above 1024.',
      cause: err,
    })
  }
  if (e?.code === 'EADDRNOTAVAIL' || e?.code === 'ENOTFOUND') {
    return new ApDemoError('bad_host', `${what}: cannot listen on host ${e.address ?? e.hostname ?? '?'}`, {
      exitCode: ExitCode.USAGE,
      hint: 'Use an address of this machine for --host, e.g. 127.0.0.1 or 0.0.0.0.',
      cause: err,
    })
  }
  return err
}
