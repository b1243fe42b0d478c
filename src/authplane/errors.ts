/**
 * Typed errors of the Authplane client (contract §4 "Errors"). Every error carries a stable `code`
 * the CLI maps to an exit code and a hint, the HTTP `statusCode` when a response was received, the
 * server's `error_description` (`description`) and its OAuth `error` value (`oauthError`).
 */

export interface AuthplaneErrorDetails {
  code: string
  statusCode?: number
  description?: string
  oauthError?: string
  cause?: unknown
}

export class AuthplaneError extends Error {
  readonly code: string
  readonly statusCode: number | undefined
  readonly description: string | undefined
  readonly oauthError: string | undefined

  constructor(message: string, details: AuthplaneErrorDetails) {
    super(message, details.cause === undefined ? undefined : {cause: details.cause})
    this.name = new.target.name
    this.code = details.code
    this.statusCode = details.statusCode
    this.description = details.description
    this.oauthError = details.oauthError
  }
}

/** Options the caller gave are unusable (bad issuer URL, http:// outside development mode). No request was made. */
export class AuthplaneConfigError extends AuthplaneError {
  constructor(message: string, cause?: unknown) {
    super(message, {code: 'invalid_configuration', cause})
  }
}

/** HTTP status >= 500 from the authorization server (contract §4). */
export class AuthplaneServerError extends AuthplaneError {
  constructor(message: string, details: Omit<AuthplaneErrorDetails, 'code'> & {statusCode: number}) {
    super(message, {...details, code: 'server_error'})
  }
}

/**
 * An RFC 6749 §5.2 error response (`invalid_client`, `invalid_scope`, RFC 8707 `invalid_target`, ...).
 * `code` is the OAuth `error` value itself.
 */
export class AuthplaneOAuthError extends AuthplaneError {
  constructor(message: string, details: Omit<AuthplaneErrorDetails, 'code'> & {oauthError: string; statusCode: number}) {
    super(message, {...details, code: details.oauthError})
  }
}

/** `consent_required` / `interaction_required`: a human must act at `consentUrl` (body field `consent_url`). */
export class AuthplaneConsentRequiredError extends AuthplaneOAuthError {
  readonly consentUrl: string | undefined

  constructor(
    message: string,
    details: Omit<AuthplaneErrorDetails, 'code'> & {oauthError: string; statusCode: number; consentUrl?: string},
  ) {
    super(message, details)
    this.consentUrl = details.consentUrl
  }
}

/** The request never got an HTTP response (connection refused, DNS, reset). */
export class AuthplaneNetworkError extends AuthplaneError {
  constructor(message: string, cause?: unknown) {
    super(message, {code: 'network_error', cause})
  }
}

/** The per-request timeout (default 10 s, contract §4) elapsed. */
export class AuthplaneTimeoutError extends AuthplaneError {
  readonly timeoutMs: number

  constructor(message: string, timeoutMs: number, cause?: unknown) {
    super(message, {code: 'timeout', cause})
    this.timeoutMs = timeoutMs
  }
}

/** A response that violates RFC 8414 / RFC 6749 / contract §4 (bad JSON, bad field, redirect, unexpected status). */
export class AuthplaneProtocolError extends AuthplaneError {
  constructor(message: string, details: Omit<AuthplaneErrorDetails, 'code'> = {}) {
    super(message, {...details, code: 'protocol_error'})
  }
}

/** The metadata `issuer` is not byte-for-byte the configured issuer (RFC 8414 §3.3, contract §7.1). */
export class AuthplaneIssuerMismatchError extends AuthplaneError {
  readonly expected: string
  readonly actual: unknown

  constructor(expected: string, actual: unknown, metadataUrl: string) {
    super(
      `Issuer mismatch: the metadata at ${metadataUrl} announces issuer ${JSON.stringify(actual)} ` +
        `but the configured issuer is ${JSON.stringify(expected)}. They must be identical byte for byte ` +
        `(watch for a trailing slash, or localhost vs 127.0.0.1 vs a Docker host name); ` +
        `configure exactly the issuer the server announces.`,
      {code: 'issuer_mismatch', statusCode: 200},
    )
    this.expected = expected
    this.actual = actual
  }
}

/** The circuit breaker is open; no request was sent. `reopensAt` is when requests are allowed again (epoch ms). */
export class AuthplaneCircuitOpenError extends AuthplaneError {
  readonly reopensAt: number

  constructor(reopensAt: number, now: number) {
    const seconds = Math.max(0, Math.ceil((reopensAt - now) / 1000))
    super(
      `Circuit breaker open after repeated failures talking to the authorization server; ` +
        `no request sent. Next attempt allowed in ${seconds} s (at ${new Date(reopensAt).toISOString()}).`,
      {code: 'circuit_open'},
    )
    this.reopensAt = reopensAt
  }
}

/** OAuth error codes that are mapped to AuthplaneOAuthError (contract §4). */
export const OAUTH_ERROR_CODES = [
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'invalid_grant',
  'invalid_request',
  'unsupported_grant_type',
  'access_denied',
  'invalid_target',
] as const

export const CONSENT_ERROR_CODES = ['consent_required', 'interaction_required'] as const

/**
 * Which failures count toward the circuit breaker (contract §4): transport failures, timeouts, 5xx,
 * protocol errors, and client-authentication failures. Other OAuth 4xx errors are the caller's
 * request being wrong, not the server being unhealthy, so they neither count nor reset.
 */
export function countsTowardBreaker(err: unknown): boolean {
  if (err instanceof AuthplaneConsentRequiredError) return false
  if (err instanceof AuthplaneOAuthError) return err.code === 'invalid_client' || err.code === 'unauthorized_client'
  return (
    err instanceof AuthplaneNetworkError ||
    err instanceof AuthplaneTimeoutError ||
    err instanceof AuthplaneServerError ||
    err instanceof AuthplaneProtocolError
  )
}
