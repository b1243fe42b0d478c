import {AdminApiError, type AdminKeySource} from '../admin/client.js'
import {
  AuthplaneCircuitOpenError,
  AuthplaneConfigError,
  AuthplaneConsentRequiredError,
  AuthplaneError,
  AuthplaneIssuerMismatchError,
  AuthplaneOAuthError,
} from '../authplane/errors.js'
import {ClientKeyError} from '../authplane/client-key-errors.js'
import {DpopKeyError, DpopNonceError, DpopTokenTypeError} from '../authplane/dpop-errors.js'
import {
  ApDemoError,
  CancelledError,
  CheckFailedError,
  ConfigError,
  ConflictError,
  CredentialsError,
  FileError,
  InputError,
  NeedsInputError,
  RejectedError,
  UnreachableError,
} from '../errors.js'
import {filesystemErrorCode} from '../files.js'
import {HttpRedirectError, HttpUnreachableError, InvalidRequestError} from '../http/request.js'
import {AuthServerConfigError} from '../stack/authserver/domain/config.js'
import {StackFileError} from '../stack/errors.js'
import {McpAuthRejectedError, McpDiscoveryError, McpProtocolError, McpProtocolVersionError, McpToolArgumentError, McpUnknownFlagError, McpUnreachableError} from '../mcp/errors.js'
import {LEGACY_REVISION, MCP_PROTOCOL_ENV, MODERN_REVISION} from '../mcp/protocol.js'
import {DoctorFoundProblem} from '../doctor/findings.js'
import {TokenRequestRefused} from '../walkthrough/errors.js'
import {VerifyFailed} from '../walkthrough/verify-failed.js'
import {ExitCode, type ExitCodeValue} from './exit-codes.js'

/** An error as the user sees it: one line, a hint, an exit code, and facts for --json. */
export class CliError extends Error {
  readonly code: string
  readonly hint?: string
  readonly exitCode: ExitCodeValue
  readonly details: Record<string, unknown>
  /** The command has already shown it in full on stdout (doctor's report): no Error/Hint lines. */
  readonly shown: boolean

  constructor(code: string, message: string, options: {exitCode: ExitCodeValue; hint?: string; details?: Record<string, unknown>; cause?: unknown; shown?: boolean}) {
    super(message, {cause: options.cause})
    this.name = 'CliError'
    this.code = code
    this.hint = options.hint
    this.exitCode = options.exitCode
    this.details = options.details ?? {}
    this.shown = options.shown ?? false
  }
}

/** Where a client came from, in the words of a hint. */
const CLIENT_SOURCES: Record<string, string> = {
  flag: '--client-id/--client-secret',
  env: 'the environment (AUTHPLANE_CLIENT_ID/AUTHPLANE_CLIENT_SECRET)',
  '.env': './.env (AUTHPLANE_CLIENT_ID/AUTHPLANE_CLIENT_SECRET)',
  profile: 'the profile',
}

/** Walkthrough errors whose message or hint depends on their facts. */
function fromWalkthroughError(err: ApDemoError): CliError | undefined {
  if (err instanceof TokenRequestRefused) {
    const mapped = fromLayerError(err.cause)!
    const {issuer, clientId, clientSource, discovered, clientKnown} = err.facts
    const clientRefused = err.code === 'invalid_client' || err.code === 'unauthorized_client'
    const undeclared = err.code === 'invalid_scope' && /not declared by the target resource/i.test(err.cause.description ?? '')
    let hint = mapped.hint
    if (err.facts.authMethod === 'private_key_jwt' && err.code === 'invalid_client') {
      const announced = err.facts.announcedAuthMethods ?? []
      hint = announced.includes('private_key_jwt')
        ? `${issuer} refused the client assertion of "${clientId}": its public key (the one --client-key belongs to) must be registered for that client there, and the machine's clock right (the assertion lives 60 s).`
        : `${issuer} does not announce private_key_jwt (it announces ${announced.join(', ') || 'nothing'}): its token endpoint reads only client secrets, as Authplane's does. Use a client with a secret there (--client-secret), or a server that supports RFC 7523 client assertions.`
    } else if (discovered) {
      // Someone else's server: Authplane's admin flow (rotate the saved client, register the resource) does not apply.
      hint = clientRefused
        ? `${issuer} refused client "${clientId}" (from ${clientSource}): it must be a client_credentials client registered at that server, with its current secret.`
        : `${issuer} (named by the MCP server's resource metadata) refused the request; --print-curl shows it, and --scope overrides the scope it asked for.`
    } else if (undeclared) {
      // No client can fix this: the resource itself lacks the scope, and its scopes are set when it is registered.
      hint = undeclaredScopeHint(err.facts, err.cause.description ?? '')
    } else if (err.code === 'invalid_client' && clientKnown === false) {
      hint = `${issuer} does not know client "${clientId}" (the admin API answers 404 for it): it was deleted, or the server forgot it (a --memory stack forgets everything on restart). Register a new one: ap-demo setup client --new`
    } else if (err.code === 'invalid_client' && clientKnown === undefined && clientSource === 'profile') {
      hint = `${mapped.hint} Or the server no longer knows this client (a --memory stack forgets it on restart): ap-demo setup client --new`
    } else if (clientSource !== 'profile' && clientRefused) {
      // Not a client ap-demo saved: `setup client --rotate` cannot help it.
      hint = `${issuer} refused client "${clientId}" from ${CLIENT_SOURCES[clientSource] ?? clientSource}: check that id and secret against the server that issued them.`
    } else if (clientSource !== 'profile' && err.code === 'invalid_scope') {
      hint = `Client "${clientId}" (from ${CLIENT_SOURCES[clientSource] ?? clientSource}) may not have that scope at ${issuer}: ask with --scope for one it was registered with.`
    }
    const message = discovered ? `${mapped.message} at ${issuer}` : mapped.message
    return new CliError(mapped.code, message, {exitCode: mapped.exitCode, hint, details: {...mapped.details, ...err.details}, cause: err})
  }
  return undefined
}

/** invalid_scope "not declared by the target resource": register the resource again with the scope. */
function undeclaredScopeHint(facts: TokenRequestRefused['facts'], description: string): string {
  const named = /scope "([^"]+)"/.exec(description)?.[1]
  const wanted = [...new Set([...(facts.resourceScopes ?? []), ...(facts.scopes ?? []), ...(named ? [named] : [])])]
  const scopeFlags = wanted.length > 0 ? wanted.map((s) => `--scope ${s}`).join(' ') : '--scope <scope> ...'
  const resource = facts.resource ? `The resource ${facts.resource}` : 'The resource'
  const declared = facts.resourceScopes ?? []
  // Most often a mistyped scope: asking only for what the resource declares fixes it, and keeps the resource.
  const typo = named && declared.length > 0 && !declared.includes(named) ? `If "${named}" is a mistake, ask only for what it declares: ap-demo setup client --scope "${declared.join(' ')}" (or --scope on this command). Else ` : ''
  const again = `register it again with every scope, then a client that may ask for them: ap-demo clean --yes; ap-demo setup resource ${scopeFlags}; ap-demo setup client --new --scope "${wanted.join(' ') || '<scopes>'}" (clean deletes only a resource ap-demo created).`
  return `${resource} does not declare ${named ? `"${named}"` : 'that scope'}. ${typo}${typo ? again : `A resource's scopes are set when it is registered: ${again}`}`
}

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
  invalid_dpop_proof:
    'The authorization server refused the DPoP proof. Proofs carry this machine\'s time (iat): check its clock; and a proof is single-use, so a replayed request is refused (docs/dpop.md).',
  unsupported_grant_type: 'The server does not support client_credentials for this client.',
  access_denied: 'The authorization server denied the request; check the client\'s status (suspended or revoked clients are refused).',
  invalid_grant: 'The grant was refused by the authorization server.',
}

/** A refused admin key, by where it came from: the environment silently overrides the profile's saved key. */
const ADMIN_KEY_HINTS: Record<AdminKeySource | 'unknown', string> = {
  env: 'The key came from AUTHPLANE_ADMIN_API_KEY in the environment, which overrides the profile\'s saved key: unset it (unset AUTHPLANE_ADMIN_API_KEY) or set it to the key the server was started with.',
  '.env': 'The key came from AUTHPLANE_ADMIN_API_KEY in ./.env, which overrides the profile\'s saved key: remove that line or set it to the key the server was started with.',
  flag: 'The key came from --admin-key: pass the key the server was started with (`ap-demo stack up` prints how to get it).',
  profile: 'The key is the one saved in the profile (ap-demo config show): the server now runs with another one. Rerun `ap-demo stack up` (it saves its key), or set AUTHPLANE_ADMIN_API_KEY (or --admin-key) to the server\'s key.',
  prompt: 'The key typed at the prompt was refused: use the key the server was started with.',
  unknown: 'Set AUTHPLANE_ADMIN_API_KEY (or --admin-key) to the key the server was started with; for `ap-demo stack up` it is printed at start.',
}

const DPOP_KEY_HINTS: Record<DpopKeyError['problem'], string> = {
  unreadable: 'Check the path given to --dpop-key.',
  malformed: '--dpop-key takes a PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"), e.g. made with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out agent.pem',
  encrypted: 'Write an unencrypted copy (it asks for the passphrase): openssl pkey -in <file> -out agent.pem; keep it mode 0600.',
  unsupported_algorithm: 'DPoP proofs are signed with ES256 (a P-256 EC key) or RS256 (an RSA key of 2048 bits or more): openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out agent.pem',
}

/** Node's ABI numbers (process.versions.modules) of the Node lines ap-demo meets. */
const NODE_ABI: Record<string, string> = {'108': 'Node 18', '115': 'Node 20', '120': 'Node 21', '127': 'Node 22', '131': 'Node 23', '137': 'Node 24', '141': 'Node 25'}

/**
 * A native addon (better-sqlite3's, for the embedded stack) that this Node cannot load: built for
 * another Node (NODE_MODULE_VERSION), never built (npm ci --ignore-scripts, a failed compile), or
 * built against another C library. Local configuration, fixed by rebuilding it in the package
 * that holds it; never "a bug in ap-demo".
 */
function nativeAddonError(err: unknown): CliError | undefined {
  for (let e = err as (Error & {code?: string; cause?: unknown}) | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.message !== 'string') return undefined
    const missing = /^Could not locate the bindings file\. Tried:\s*\n\s*→ (\S+)/.exec(e.message)
    const failed = e.code === 'ERR_DLOPEN_FAILED' ? (/^The module '([^']+)'/.exec(e.message) ?? /(\/\S+\.node)\b/.exec(e.message)) : null
    const file = missing?.[1] ?? failed?.[1]
    if (!file || !/[\\/]node_modules[\\/]/.test(file)) continue
    const [, root = '.', addon = 'the native module'] = /^(.*)[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file) ?? []
    const rebuild = `cd ${root} && npm rebuild ${addon}`
    const needs = 'it needs a prebuilt binary for this platform and Node, else python3, make and a C++ compiler (README, "Quick start")'
    const here = `Node ${process.versions.node} (NODE_MODULE_VERSION ${process.versions.modules})`
    const abi = /NODE_MODULE_VERSION (\d+)\. This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)/.exec(e.message)
    const details = {path: file, addon, node: process.versions.node, nodeModuleVersion: process.versions.modules, rebuild}
    if (abi) {
      const built = `NODE_MODULE_VERSION ${abi[1]}${NODE_ABI[abi[1]!] ? `, ${NODE_ABI[abi[1]!]}` : ''}`
      return new CliError('native_module_mismatch', `${addon}'s native module was built for another Node.js (${built}) than this ${here}`, {
        exitCode: ExitCode.CONFIG,
        hint: `Rebuild it for this Node (after switching Node versions, e.g. with nvm): ${rebuild}; ${needs}.`,
        details: {...details, builtFor: abi[1]},
        cause: err,
      })
    }
    return new CliError(missing ? 'native_module_missing' : 'native_module_unloadable', missing ? `${addon}'s native module was never built (no ${file})` : `${addon}'s native module cannot be loaded by ${here}: ${e.message.split('\n')[0]}`, {
      exitCode: ExitCode.CONFIG,
      hint: `Build it for this Node: ${rebuild}; ${needs}.`,
      details,
      cause: err,
    })
  }
  return undefined
}

const CLIENT_KEY_HINTS: Record<ClientKeyError['problem'], string> = {
  unreadable: 'Check the path given to --client-key.',
  malformed: '--client-key takes a PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"), e.g. made with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.pem',
  encrypted: 'Write an unencrypted copy (it asks for the passphrase): openssl pkey -in <file> -out client.pem; keep it mode 0600.',
  unsupported_algorithm: 'Use an EC key on P-256 (ES256), P-384 or P-521, an RSA key of 2048 bits or more (RS256), or an Ed25519 key.',
}

function fromLayerError(err: unknown): CliError | undefined {
  const addon = nativeAddonError(err)
  if (addon) return addon
  if (err instanceof StackFileError) {
    return new CliError(err.problem === 'filesystem' ? 'filesystem_error' : `data_file_${err.problem}`, `cannot start the stack: ${err.message}`, {
      exitCode: ExitCode.CONFIG,
      hint: err.remedy,
      details: {path: err.file, problem: err.problem, errno: err.errno ?? null},
      cause: err,
    })
  }
  // Any other file the operating system refused: named, with its errno, never "a bug in ap-demo".
  const errno = filesystemErrorCode(err)
  if (errno !== undefined && typeof (err as NodeJS.ErrnoException).path === 'string') {
    const e = err as NodeJS.ErrnoException
    return new CliError('filesystem_error', `${e.path}: ${e.syscall ?? 'access'} failed (${errno})`, {
      exitCode: ExitCode.CONFIG,
      hint: 'Check the permissions of that file or directory, that its parent is a directory, and that the filesystem is writable and not full.',
      details: {path: e.path, errno},
      cause: err,
    })
  }
  if (err instanceof HttpRedirectError) {
    return new CliError('redirected', err.message, {
      exitCode: ExitCode.UNREACHABLE,
      hint: err.location
        ? 'ap-demo does not follow redirects (they would carry the admin key or the token elsewhere): point the URL flag (--admin-url, --mcp-url, --issuer) at where the server really answers.'
        : 'The server answered a redirect without saying where to; check the URL.',
      details: {url: err.url, httpStatus: err.status, location: err.location},
      cause: err,
    })
  }
  if (err instanceof AuthServerConfigError) {
    // The embedded server refuses what the real one refuses at boot (weak admin key, bad limits...).
    return new CliError('stack_config', `cannot start the stack: ${err.message}`, {exitCode: ExitCode.USAGE, hint: 'The real authserver would refuse this setting too; change the flag or variable it names (see `ap-demo stack up --help`).', cause: err})
  }
  if (err instanceof DpopKeyError) {
    // A file named on the command line is bad input (2); the profile's own key is local state (7).
    if (err.file !== undefined) return new CliError(`dpop_key_${err.problem}`, err.message, {exitCode: ExitCode.USAGE, hint: DPOP_KEY_HINTS[err.problem], details: {path: err.file}, cause: err})
    return new CliError(`dpop_key_${err.problem}`, `the profile's DPoP key is unusable: ${err.message}`, {exitCode: ExitCode.CONFIG, hint: 'Use --dpop-key FILE, or remove "dpopKey" from the profile in the store (ap-demo config path) to get a new key; tokens bound to the old key are then useless.', cause: err})
  }
  if (err instanceof ClientKeyError) {
    return new CliError(`client_key_${err.problem}`, err.message, {exitCode: ExitCode.USAGE, hint: CLIENT_KEY_HINTS[err.problem], details: {path: err.file ?? null}, cause: err})
  }
  if (err instanceof HttpUnreachableError) {
    return new CliError(err.reason === 'timeout' ? 'timeout' : 'unreachable', err.message, {exitCode: ExitCode.UNREACHABLE, hint: START_HINT, details: {url: err.url}, cause: err})
  }
  if (err instanceof InvalidRequestError) {
    return new CliError('invalid_request_value', err.message, {exitCode: ExitCode.USAGE, hint: 'Check the admin key and other values for newlines or non-ASCII characters.', cause: err})
  }
  if (err instanceof AdminApiError) {
    const details = {httpStatus: err.status, url: err.request.url, detail: err.detail}
    switch (err.kind) {
      case 'unauthorized':
        return new CliError('admin_key_rejected', `the admin API refused the admin key (${err.detail})`, {
          exitCode: ExitCode.AUTH,
          hint: ADMIN_KEY_HINTS[err.keySource ?? 'unknown'],
          details: {...details, keySource: err.keySource ?? null},
          cause: err,
        })
      case 'forbidden':
        return new CliError('admin_forbidden', `the admin API denied the request: ${err.detail}`, {exitCode: ExitCode.AUTH, details, cause: err})
      case 'not_found': {
        // A 404 on a collection itself means this is not an Authplane admin API at all.
        const collection = /\/admin\/(resources|clients)$/.test(new URL(err.request.url).pathname)
        return new CliError(collection ? 'not_an_admin_api' : 'not_found', collection ? `${new URL(err.request.url).origin} does not serve the Authplane admin API (404 on ${new URL(err.request.url).pathname})` : `not found on the admin API: ${err.detail}`, {
          exitCode: collection ? ExitCode.CONFIG : ExitCode.REJECTED,
          hint: collection ? 'Check --admin-url (ADMIN_URL): the base URL of the admin port, e.g. http://localhost:9001 (9001 by default), not the issuer or MCP port.' : 'It may have been deleted; run the setup command again to recreate it.',
          details,
          cause: err,
        })
      }
      case 'conflict':
        return new CliError('conflict', `the admin API reported a conflict: ${err.detail}`, {exitCode: ExitCode.CONFLICT, details, cause: err})
      case 'server':
        return new CliError('server_error', `the admin API failed: ${err.message}`, {exitCode: ExitCode.UNREACHABLE, hint: 'Check the authorization server\'s logs.', details, cause: err})
      default:
        return new CliError('rejected', `the admin API rejected the request: ${err.detail}`, {exitCode: ExitCode.REJECTED, hint: 'Fix the value it names and retry; --print-curl shows the request sent.', details, cause: err})
    }
  }
  if (err instanceof AuthplaneIssuerMismatchError) {
    return new CliError('issuer_mismatch', `issuer mismatch: the server announces ${JSON.stringify(err.actual)} but ap-demo is configured with ${JSON.stringify(err.expected)}`, {
      exitCode: ExitCode.CONFIG,
      hint: `Use exactly the announced string: --issuer ${typeof err.actual === 'string' ? err.actual : '<issuer>'} (or AUTHPLANE_ISSUER). localhost, 127.0.0.1 and a Docker host name are different issuers; a single trailing slash is not a difference (as in Authplane's SDKs), anything else is.`,
      details: {expected: err.expected, actual: err.actual},
      cause: err,
    })
  }
  if (err instanceof AuthplaneConsentRequiredError) {
    return new CliError(err.code, `the authorization server needs consent: ${err.description ?? err.code}`, {exitCode: ExitCode.AUTH, hint: err.consentUrl ? `Open ${err.consentUrl} to grant it, then retry.` : 'A user must grant consent first.', details: {error: err.oauthError, error_description: err.description ?? null, httpStatus: err.statusCode, consentUrl: err.consentUrl}, cause: err})
  }
  if (err instanceof AuthplaneOAuthError) {
    const exitCode = err.code === 'invalid_client' ? ExitCode.AUTH : ExitCode.REJECTED
    return new CliError(err.code, `token request refused: ${err.code}${err.description ? ` (${err.description})` : ''}`, {
      exitCode,
      hint: OAUTH_HINTS[err.code],
      details: {error: err.oauthError, error_description: err.description ?? null, httpStatus: err.statusCode},
      cause: err,
    })
  }
  if (err instanceof AuthplaneCircuitOpenError) {
    return new CliError('circuit_open', err.message, {exitCode: ExitCode.UNREACHABLE, hint: 'The authorization server failed 5 times in a row; fix it (or the client credentials) and retry after the pause.', cause: err})
  }
  if (err instanceof AuthplaneConfigError) {
    return new CliError('invalid_configuration', err.message, {exitCode: ExitCode.USAGE, hint: 'Check --issuer (an absolute URL; http only for localhost).', cause: err})
  }
  if (err instanceof DpopNonceError) {
    return new CliError('use_dpop_nonce', err.message, {
      exitCode: ExitCode.UNREACHABLE,
      hint: err.nonceReceived
        ? 'ap-demo retried once with the nonce the server sent in DPoP-Nonce, as the Authplane SDK does, and stops there rather than loop: the server must accept its own nonce. Check its logs.'
        : 'The server asked for a DPoP nonce without sending one in a DPoP-Nonce header, so there is nothing to retry with. Check the server.',
      details: {url: err.url, where: err.where, nonceReceived: err.nonceReceived},
      cause: err,
    })
  }
  if (err instanceof DpopTokenTypeError) {
    return new CliError('not_dpop_bound', err.message, {exitCode: ExitCode.UNREACHABLE, hint: 'The authorization server ignored the DPoP proof. Authplane binds the token to the key of a valid DPoP header (token_type DPoP, cnf.jkt); without --dpop a Bearer token is requested.', details: {tokenType: err.tokenType}, cause: err})
  }
  if (err instanceof AuthplaneError) {
    const network = err.code === 'network_error' || err.code === 'timeout'
    return new CliError(err.code, err.message, {exitCode: ExitCode.UNREACHABLE, hint: network ? START_HINT : 'The authorization server answered something unexpected; check its logs and --issuer.', details: {httpStatus: err.statusCode ?? null, error: err.oauthError ?? null, error_description: err.description ?? null}, cause: err})
  }
  if (err instanceof McpAuthRejectedError) {
    return new CliError('mcp_token_rejected', err.message, {exitCode: ExitCode.AUTH, hint: 'Decode the token with ap-demo token mint --decode and compare it with the server\'s resource metadata.', details: {httpStatus: err.rejection.status}, cause: err})
  }
  if (err instanceof McpUnreachableError) {
    return new CliError('mcp_unreachable', err.message, {exitCode: ExitCode.UNREACHABLE, hint: START_HINT, details: {url: err.url}, cause: err})
  }
  if (err instanceof McpProtocolVersionError) {
    return new CliError('mcp_protocol_unsupported', err.message, {
      exitCode: ExitCode.REJECTED,
      hint: protocolHint(err),
      details: {url: err.url, protocol: err.choice, requested: err.requested ?? null, supported: err.supported ?? null},
      cause: err,
    })
  }
  if (err instanceof McpProtocolError) {
    const hint = 'Check --mcp-url (MCP_URL) points at the MCP endpoint itself, e.g. http://localhost:8080/mcp (it ends in /mcp for tier 01).'
    const details = {url: err.url, httpStatus: err.status ?? null, detail: err.message}
    if (err.status === 404 || err.status === 405) {
      // The URL answers, but nothing there speaks MCP: the SDK's wording ("Error POSTing to endpoint") does not say so.
      return new CliError('not_an_mcp_endpoint', `the MCP endpoint ${err.url} answered ${err.status} (not an MCP server there?)`, {exitCode: ExitCode.REJECTED, hint, details, cause: err})
    }
    // A 200 that is neither JSON nor an event stream (a web page, a proxy's login form): nothing speaks MCP there either.
    const contentType = /Unexpected content type: ([^\s);]+)/.exec(err.message)?.[1]
    if (contentType) {
      return new CliError('not_an_mcp_endpoint', `the MCP endpoint ${err.url} answered ${contentType}, not JSON-RPC (not an MCP server there?)`, {exitCode: ExitCode.REJECTED, hint, details, cause: err})
    }
    const first = err.message.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'no detail'
    // No HTTP status: the server answered as an MCP server, and the exchange itself failed (a
    // JSON-RPC error, a result that breaks the tool's output schema): not the URL's fault.
    const answered = err.status === undefined ? 'The MCP server answered, but the exchange failed there: check the tool\'s arguments (ap-demo mcp tools) and the server; --print-curl shows what was sent.' : hint
    return new CliError('mcp_error', `MCP request failed: ${first}`, {exitCode: err.status && err.status >= 500 ? ExitCode.UNREACHABLE : ExitCode.REJECTED, hint: answered, details, cause: err})
  }
  if (err instanceof McpDiscoveryError) {
    const hint =
      err.problem === 'resource_mismatch'
        ? 'A token for that resource could be replayed elsewhere (RFC 9728 §7.3). Check --mcp-url, or use the configured issuer and --resource instead of --discover.'
        : 'The MCP server must publish RFC 9728 metadata (resource, authorization_servers). Without it, pass --issuer and --resource instead of --discover.'
    return new CliError(err.problem, err.message, {exitCode: ExitCode.UNREACHABLE, hint, details: {url: err.url}, cause: err})
  }
  if (err instanceof McpUnknownFlagError) {
    return new CliError('unknown_flag', err.message, {exitCode: ExitCode.USAGE, hint: `ap-demo mcp call --help lists the command's flags; ap-demo mcp tools shows the arguments of "${err.tool}".`, details: {flag: err.flag, suggestion: err.suggestion, tool: err.tool}, cause: err})
  }
  if (err instanceof McpToolArgumentError) {
    return new CliError('invalid_tool_arguments', err.message, {exitCode: ExitCode.USAGE, hint: `See the arguments with: ap-demo mcp tools (schema of "${err.tool}")`, details: {tool: err.tool, schema: err.schema}, cause: err})
  }
  return undefined
}

/**
 * What to do when the server and ap-demo share no revision: the --protocol that would work, from
 * what the server said it speaks. Not the URL's fault: the server answered as an MCP server.
 */
function protocolHint(err: McpProtocolVersionError): string {
  const unpin = err.choice === 'auto' ? '' : ` (or unset ${MCP_PROTOCOL_ENV} if it pins ${err.choice})`
  const supported = err.supported ?? []
  if (supported.length === 0) {
    // No list: a pinned 2026-07-28 met a server of the 2025 era.
    return err.choice === MODERN_REVISION
      ? `The server speaks only the 2025 era (initialize and sessions): use --protocol auto, which falls back to it, or --protocol ${LEGACY_REVISION}${unpin}.`
      : `Use --protocol auto to let ap-demo negotiate${unpin}.`
  }
  if (supported.includes(MODERN_REVISION)) return `Use --protocol ${MODERN_REVISION}, or --protocol auto to negotiate${unpin}.`
  if (supported.includes(LEGACY_REVISION)) return `Use --protocol ${LEGACY_REVISION}, or --protocol auto to negotiate${unpin}.`
  return `ap-demo offers ${LEGACY_REVISION} and ${MODERN_REVISION}; the server speaks only ${supported.join(', ')}, so no --protocol reaches it: use a server (or an SDK version) that speaks one of them.`
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
 * What kind of ap-demo error ends with which exit code. Subclasses come before their base class:
 * the first match wins. A new kind of error is one more line here; an error whose message or hint
 * needs its facts gets a rule in fromWalkthroughError (ours) or fromLayerError (a library's own).
 */
const KIND_EXIT_CODES: Array<[abstract new (...args: any[]) => ApDemoError, ExitCodeValue]> = [
  [NeedsInputError, ExitCode.USAGE],
  [InputError, ExitCode.USAGE],
  [CheckFailedError, ExitCode.CHECK_FAILED],
  [CredentialsError, ExitCode.AUTH],
  [UnreachableError, ExitCode.UNREACHABLE],
  [RejectedError, ExitCode.REJECTED],
  [ConflictError, ExitCode.CONFLICT],
  [FileError, ExitCode.CONFIG],
  [ConfigError, ExitCode.CONFIG],
  [CancelledError, ExitCode.CANCELLED],
]

/**
 * Turns anything thrown below the commands into one CliError: the single place that decides how
 * each failure is shown and which exit code it gets.
 */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err
  if (err instanceof VerifyFailed) {
    const failure = toCliError(err.failure)
    // Against a deployment ap-demo did not start, doctor walks it step by step and names what breaks.
    const doctor = err.report.doctor ? `${failure.hint ? ' Then: ' : ''}${err.report.doctor} walks this deployment from its MCP URL to a working call and names the step that breaks.` : ''
    return new CliError(failure.code, `step "${err.report.failedStep}" failed: ${failure.message}`, {exitCode: failure.exitCode, hint: `${failure.hint ?? ''}${doctor}` || undefined, details: {...failure.details, report: err.report}, cause: err.failure})
  }
  if (err instanceof DoctorFoundProblem) {
    // Not a failure of doctor: its finding. The report (steps, finding, evidence, fix) is on stdout.
    const primary = err.report.findings[0]
    return new CliError(err.report.primary, primary?.summary ?? err.message, {exitCode: ExitCode.CHECK_FAILED, hint: primary?.fix ?? undefined, details: {report: err.report}, cause: err, shown: true})
  }
  if (err instanceof ApDemoError) {
    const custom = fromWalkthroughError(err)
    if (custom) return custom
    const exitCode = KIND_EXIT_CODES.find(([kind]) => err instanceof kind)?.[1] ?? ExitCode.INTERNAL
    return new CliError(err.code, err.message, {exitCode, hint: err.hint, details: err.details, cause: err})
  }
  const mapped = fromLayerError(err)
  if (mapped) return mapped
  const e = err as Error & {oclif?: {exit?: number}; code?: string; parse?: unknown}
  if (e && (OCLIF_USAGE_ERRORS.has(e.constructor?.name) || e.oclif?.exit === 2 || e.parse !== undefined)) {
    return new CliError('usage', usageMessage(e), {
      exitCode: ExitCode.USAGE,
      hint: 'See the command\'s --help for its flags and examples.',
      cause: err,
    })
  }
  if (e?.name === 'ExitPromptError' || e?.name === 'AbortPromptError') {
    return new CliError('cancelled', 'cancelled at the prompt; nothing was changed', {exitCode: ExitCode.CANCELLED, hint: 'Run the command again when ready.', cause: err})
  }
  const message = e instanceof Error ? e.message : String(err)
  return new CliError('internal', message.split('\n')[0] ?? 'unexpected error', {
    exitCode: ExitCode.INTERNAL,
    hint: 'This is a bug in ap-demo; rerun with DEBUG=1 for the stack trace and report it.',
    cause: err,
  })
}

/**
 * An oclif parse error as one line that says what was expected: "Parsing --port" alone does not,
 * so its detail line joins it ("--port: expected an integer but received: abc"); a missing
 * argument is named ("missing argument PROFILE (Profile name.)").
 */
export function usageMessage(e: Error): string {
  const lines = String(e.message ?? e)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^The following errors? occurred:?$/.test(l) && !/^See more help with/.test(l))
  const [first = 'invalid usage', second] = lines
  const parsing = /^Parsing (--?[\w-]+)$/.exec(first)
  if (parsing && second) return `${parsing[1]}: ${second.charAt(0).toLowerCase()}${second.slice(1)}`
  if (/^Missing \d+ required args?:?$/.test(first) && second) {
    const [name, ...description] = second.split(/\s{2,}/)
    return `missing argument ${name!.toUpperCase()}${description.length > 0 ? ` (${description.join(' ')})` : ''}`
  }
  return first
}

/** The verify report's view of a failed step: the same fields as the JSON envelope's error. */
export function describeError(err: unknown): {code: string; message: string; hint: string | null; exitCode: number; [key: string]: unknown} {
  const e = toCliError(err)
  return {code: e.code, message: e.message, hint: e.hint ?? null, exitCode: e.exitCode, ...e.details}
}
