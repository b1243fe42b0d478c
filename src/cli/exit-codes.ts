/** Documented exit codes (README "Exit codes"). Keep this table and the README in step. */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** A check found the wrong behaviour (the server answered, but wrongly), a tool that reported an error, a doctor finding other than ok/no_auth_required. A failing verify step whose request failed exits with that failure's code instead. */
  CHECK_FAILED: 1,
  /** Bad usage: unknown or invalid flag, argument or input; a prompt needed where none can be shown. */
  USAGE: 2,
  /** Credentials refused: admin key, client secret, or the access token at the MCP server (401/403). */
  AUTH: 3,
  /** A server could not be reached, timed out, or failed (5xx, circuit breaker open, a redirect, unusable RFC 9728 metadata). */
  UNREACHABLE: 4,
  /** The server refused the request's content: invalid_scope, invalid_target, validation errors, not found. */
  REJECTED: 5,
  /** Existing state disagrees: a resource with the same slug but another URI or scopes, a port already in use. */
  CONFLICT: 6,
  /** Local configuration is wrong: issuer mismatch, a store, file or directory that cannot be read or written (EACCES, EROFS, ENOSPC, ENOTDIR, ...), a missing or damaged stack data file, missing saved client, Docker (or its compose plugin) missing, a native module (better-sqlite3's) built for another Node or never built. */
  CONFIG: 7,
  /** Cancelled by the user at a prompt (Ctrl-C), as shells report SIGINT. Nothing was changed. */
  CANCELLED: 130,
  /** No such command (the closest one is suggested), as shells report a command not found. */
  UNKNOWN_COMMAND: 127,
  /** A bug in ap-demo. Please report it. */
  INTERNAL: 70,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]
