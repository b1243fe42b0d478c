import {AdminApiError} from './admin/client.js'
import {
  AuthplaneCircuitOpenError,
  AuthplaneConfigError,
  AuthplaneConsentRequiredError,
  AuthplaneError,
  AuthplaneIssuerMismatchError,
  AuthplaneOAuthError,
} from './authplane/errors.js'
import {ApDemoError, ExitCode} from './errors.js'
import {HttpUnreachableError, InvalidRequestError} from './http/request.js'
import {TraceFileError} from './trace/files.js'
import {McpAuthRejectedError, McpDiscoveryError, McpProtocolError, McpToolArgumentError, McpUnreachableError} from './mcp/errors.js'

const START_HINT = 'Is the server running? Start the embedded one with `ap-demo stack up`, or check --issuer / --admin-url / --mcp-url (and the profile: ap-demo config show).'

/** Contract §7: the pitfalls users hit, each with what to do about it. */
const OAUTH_HINTS: Record<string, string> = {
  invalid_client:
    'The client id or secret was refused. The secret is shown once at creation: rotate it with `ap-demo setup client --rotate`, or create a new client with `ap-demo setup client --new` (a client made with token_endpoint_auth_method "none" has no secret at all).',
  unauthorized_client: 'The client may not use client_credentials. Create one that can: ap-demo setup client --new',
  invalid_target:
    'The resource must equal a registered resource uri byte for byte (the slug does not match; a trailing slash counts). Register it with `ap-demo setup resource --uri <uri>` or pass the registered uri with --resource.',
  invalid_scope:
    'The scope name must agree everywhere: the resource\'s scopes, the client\'s scope ceiling and the request. Check with `ap-demo config show`; fix the client with `ap-demo setup client --new --scope <scope>`.',
  invalid_request: 'The authorization server could not parse the request; rerun with --print-curl to see it.',
  unsupported_grant_type: 'The server does not support client_credentials for this client.',
  access_denied: 'The authorization server denied the request; check the client\'s status (suspended or revoked clients are refused).',
  invalid_grant: 'The grant was refused by the authorization server.',
}

function fromLayerError(err: unknown): ApDemoError | undefined {
  if (err instanceof HttpUnreachableError) {
    return new ApDemoError(err.reason === 'timeout' ? 'timeout' : 'unreachable', err.message, {exitCode: ExitCode.UNREACHABLE, hint: START_HINT, details: {url: err.url}, cause: err})
  }
  if (err instanceof TraceFileError) {
    return new ApDemoError('trace_not_written', err.message, {exitCode: ExitCode.USAGE, hint: 'Give --har / --diagram a file in a directory that exists and that you may write to.', details: {path: err.path, reason: err.reason}, cause: err})
  }
  if (err instanceof InvalidRequestError) {
    return new ApDemoError('invalid_request_value', err.message, {exitCode: ExitCode.USAGE, hint: 'Check the admin key and other values for newlines or non-ASCII characters.', cause: err})
  }
  if (err instanceof AdminApiError) {
    const details = {httpStatus: err.status, url: err.request.url, detail: err.detail}
    switch (err.kind) {
      case 'unauthorized':
        return new ApDemoError('admin_key_rejected', `the admin API refused the admin key (${err.detail})`, {
          exitCode: ExitCode.AUTH,
          hint: 'Set AUTHPLANE_ADMIN_API_KEY (or --admin-key) to the key the server was started with; for `ap-demo stack up` it is printed at start.',
          details,
          cause: err,
        })
      case 'forbidden':
        return new ApDemoError('admin_forbidden', `the admin API denied the request: ${err.detail}`, {exitCode: ExitCode.AUTH, details, cause: err})
      case 'not_found': {
        // A 404 on a collection itself means this is not an Authplane admin API at all.
        const collection = /\/admin\/(resources|clients)$/.test(new URL(err.request.url).pathname)
        return new ApDemoError(collection ? 'not_an_admin_api' : 'not_found', collection ? `${new URL(err.request.url).origin} does not serve the Authplane admin API (404 on ${new URL(err.request.url).pathname})` : `not found on the admin API: ${err.detail}`, {
          exitCode: collection ? ExitCode.CONFIG : ExitCode.REJECTED,
          hint: collection ? 'Check --admin-url (ADMIN_URL): the admin port, 9001 by default, not the issuer or MCP port.' : 'It may have been deleted; run the setup command again to recreate it.',
          details,
          cause: err,
        })
      }
      case 'conflict':
        return new ApDemoError('conflict', `the admin API reported a conflict: ${err.detail}`, {exitCode: ExitCode.CONFLICT, details, cause: err})
      case 'server':
        return new ApDemoError('server_error', `the admin API failed: ${err.message}`, {exitCode: ExitCode.UNREACHABLE, hint: 'Check the authorization server\'s logs.', details, cause: err})
      default:
        return new ApDemoError('rejected', `the admin API rejected the request: ${err.detail}`, {exitCode: ExitCode.REJECTED, hint: 'Fix the value it names and retry; --print-curl shows the request sent.', details, cause: err})
    }
  }
  if (err instanceof AuthplaneIssuerMismatchError) {
    return new ApDemoError('issuer_mismatch', `issuer mismatch: the server announces ${JSON.stringify(err.actual)} but ap-demo is configured with ${JSON.stringify(err.expected)}`, {
      exitCode: ExitCode.CONFIG,
      hint: `Use exactly the announced string: --issuer ${typeof err.actual === 'string' ? err.actual : '<issuer>'} (or AUTHPLANE_ISSUER). localhost, 127.0.0.1 and a Docker host name are different issuers; so is a trailing slash.`,
      details: {expected: err.expected, actual: err.actual},
      cause: err,
    })
  }
  if (err instanceof AuthplaneConsentRequiredError) {
    return new ApDemoError(err.code, `the authorization server needs consent: ${err.description ?? err.code}`, {exitCode: ExitCode.AUTH, hint: err.consentUrl ? `Open ${err.consentUrl} to grant it, then retry.` : 'A user must grant consent first.', details: {error: err.oauthError, error_description: err.description ?? null, httpStatus: err.statusCode, consentUrl: err.consentUrl}, cause: err})
  }
  if (err instanceof AuthplaneOAuthError) {
    const exitCode = err.code === 'invalid_client' ? ExitCode.AUTH : ExitCode.REJECTED
    return new ApDemoError(err.code, `token request refused: ${err.code}${err.description ? ` (${err.description})` : ''}`, {
      exitCode,
      hint: OAUTH_HINTS[err.code],
      details: {error: err.oauthError, error_description: err.description ?? null, httpStatus: err.statusCode},
      cause: err,
    })
  }
  if (err instanceof AuthplaneCircuitOpenError) {
    return new ApDemoError('circuit_open', err.message, {exitCode: ExitCode.UNREACHABLE, hint: 'The authorization server failed 5 times in a row; fix it (or the client credentials) and retry after the pause.', cause: err})
  }
  if (err instanceof AuthplaneConfigError) {
    return new ApDemoError('invalid_configuration', err.message, {exitCode: ExitCode.USAGE, hint: 'Check --issuer (an absolute URL; http only for localhost).', cause: err})
  }
  if (err instanceof AuthplaneError) {
    const network = err.code === 'network_error' || err.code === 'timeout'
    return new ApDemoError(err.code, err.message, {exitCode: ExitCode.UNREACHABLE, hint: network ? START_HINT : 'The authorization server answered something unexpected; check its logs and --issuer.', details: {httpStatus: err.statusCode ?? null, error: err.oauthError ?? null, error_description: err.description ?? null}, cause: err})
  }
  if (err instanceof McpAuthRejectedError) {
    return new ApDemoError('mcp_token_rejected', err.message, {exitCode: ExitCode.AUTH, hint: 'Decode the token with ap-demo token mint --decode and compare it with the server\'s resource metadata.', details: {httpStatus: err.rejection.status}, cause: err})
  }
  if (err instanceof McpUnreachableError) {
    return new ApDemoError('mcp_unreachable', err.message, {exitCode: ExitCode.UNREACHABLE, hint: START_HINT, details: {url: err.url}, cause: err})
  }
  if (err instanceof McpProtocolError) {
    return new ApDemoError('mcp_error', `MCP request failed: ${err.message}`, {exitCode: err.status && err.status >= 500 ? ExitCode.UNREACHABLE : ExitCode.REJECTED, hint: 'Check --mcp-url points at the MCP endpoint (it ends in /mcp for tier 01).', details: {url: err.url, httpStatus: err.status ?? null}, cause: err})
  }
  if (err instanceof McpDiscoveryError) {
    const hint =
      err.problem === 'resource_mismatch'
        ? 'A token for that resource could be replayed elsewhere (RFC 9728 §7.3). Check --mcp-url, or use the configured issuer and --resource instead of --discover.'
        : 'The MCP server must publish RFC 9728 metadata (resource, authorization_servers). Without it, pass --issuer and --resource instead of --discover.'
    return new ApDemoError(err.problem, err.message, {exitCode: ExitCode.UNREACHABLE, hint, details: {url: err.url}, cause: err})
  }
  if (err instanceof McpToolArgumentError) {
    return new ApDemoError('invalid_tool_arguments', err.message, {exitCode: ExitCode.USAGE, hint: `See the arguments with: ap-demo mcp tools (schema of "${err.tool}")`, details: {tool: err.tool, schema: err.schema}, cause: err})
  }
  return undefined
}

const OCLIF_USAGE_ERRORS = new Set([
  'RequiredArgsError',
  'FailedFlagValidationError',
  'NonExistentFlagsError',
  'UnexpectedArgsError',
  'CLIParseError',
  'ArgInvalidOptionError',
  'FlagInvalidOptionError',
])

/**
 * Turns anything thrown below the commands into one ApDemoError. Layers throw their own typed
 * errors; this is the single place that decides how each one is shown and which exit code it gets.
 */
export function toApDemoError(err: unknown): ApDemoError {
  if (err instanceof ApDemoError) return err
  const mapped = fromLayerError(err)
  if (mapped) return mapped
  const e = err as Error & {oclif?: {exit?: number}; code?: string; parse?: unknown}
  if (e && (OCLIF_USAGE_ERRORS.has(e.constructor?.name) || e.oclif?.exit === 2 || e.parse !== undefined)) {
    // Flag-relationship errors (exclusive, dependsOn) start with a header line that says nothing.
    const first = String(e.message ?? e).split('\n').find((l) => l.trim() !== '' && !/^The following errors? occurred:?$/.test(l.trim())) ?? 'invalid usage'
    return new ApDemoError('usage', first.trim(), {
      exitCode: ExitCode.USAGE,
      hint: 'See the command\'s --help for its flags and examples.',
      cause: err,
    })
  }
  if (e?.name === 'ExitPromptError' || e?.name === 'AbortPromptError') {
    return new ApDemoError('cancelled', 'cancelled at the prompt; nothing was changed', {exitCode: ExitCode.CANCELLED, hint: 'Run the command again when ready.', cause: err})
  }
  const message = e instanceof Error ? e.message : String(err)
  return new ApDemoError('internal', message.split('\n')[0] ?? 'unexpected error', {
    exitCode: ExitCode.INTERNAL,
    hint: 'This is a bug in ap-demo; rerun with DEBUG=1 for the stack trace and report it.',
    cause: err,
  })
}
