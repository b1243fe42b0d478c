// The typed errors of ap-demo's own layers (config, http, walkthrough, wizard, docker). Each says
// what failed and carries the facts (which URL, file, status, value) as `details`; the class says
// what kind of failure it is. None of them knows an exit code: `src/cli/error-map.ts` is the one
// place that turns an error into what the user sees and the exit code that ends the process.

export interface ErrorFacts {
  /** What to do about it, when the layer that failed knows better than the CLI. */
  hint?: string
  /** Machine-readable facts for the JSON envelope (URL, file, HTTP status, OAuth error, ...). */
  details?: Record<string, unknown>
  cause?: unknown
}

export class ApDemoError extends Error {
  readonly hint?: string
  readonly details: Record<string, unknown>

  constructor(
    /** A stable machine-readable name (`error.code` in the JSON envelope). */
    readonly code: string,
    message: string,
    facts: ErrorFacts = {},
  ) {
    super(message, {cause: facts.cause})
    this.name = new.target.name
    this.hint = facts.hint
    this.details = facts.details ?? {}
  }
}

/** A value the user gave (flag, argument, answer, environment variable) cannot be used as it is. */
export class InputError extends ApDemoError {}

/** A prompt is needed but none can be shown (no terminal, --no-input, CI). */
export class NeedsInputError extends InputError {}

/** A check found the server behaving wrongly; `details.httpStatus` says what it answered. */
export class CheckFailedError extends ApDemoError {}

/** Credentials were refused or are missing for the server that asks for them. */
export class CredentialsError extends ApDemoError {}

/** A server could not be reached, timed out or is failing; `details.url` names it. */
export class UnreachableError extends ApDemoError {}

/** The server understood the request and refused its content (validation, not found, ...). */
export class RejectedError extends ApDemoError {}

/** Existing state disagrees with what was asked (a resource differs, a port is taken). */
export class ConflictError extends ApDemoError {}

/** The local configuration is wrong or incomplete (store, .env, saved client, Docker setup). */
export class ConfigError extends ApDemoError {}

/** A local file could not be read or written; `path` names it. */
export class FileError extends ConfigError {
  constructor(
    code: string,
    readonly path: string,
    message: string,
    facts: ErrorFacts = {},
  ) {
    super(code, message, {...facts, details: {path, ...facts.details}})
  }
}

/** The user stopped at a prompt; nothing was changed. */
export class CancelledError extends ApDemoError {}

export function inputError(message: string, hint?: string, details?: Record<string, unknown>): InputError {
  return new InputError('usage', message, {hint, details})
}

/** Why a server cannot listen, as facts: the errno, port and address (the CLI decides the rest). */
export function listenError(err: unknown, what: string): unknown {
  const e = err as NodeJS.ErrnoException & {port?: number; address?: string; hostname?: string}
  if (e?.code === 'EADDRINUSE') {
    return new ConflictError('port_in_use', `${what}: port ${e.port ?? '?'} on ${e.address ?? 'this host'} is already in use`, {
      hint: 'Stop the other process (is a stack already running?) or pick another port with --port/--admin-port/--mcp-port (0 = any free port).',
      details: {port: e.port, address: e.address},
      cause: err,
    })
  }
  if (e?.code === 'EACCES') {
    return new ConflictError('port_forbidden', `${what}: not allowed to listen on port ${e.port ?? '?'}`, {
      hint: 'Ports below 1024 need privileges; choose a port above 1024.',
      details: {port: e.port},
      cause: err,
    })
  }
  if (e?.code === 'EADDRNOTAVAIL' || e?.code === 'ENOTFOUND') {
    return new InputError('bad_host', `${what}: cannot listen on host ${e.address ?? e.hostname ?? '?'}`, {
      hint: 'Use an address of this machine for --host, e.g. 127.0.0.1 or 0.0.0.0.',
      details: {host: e.address ?? e.hostname},
      cause: err,
    })
  }
  return err
}
