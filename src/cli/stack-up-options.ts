import {inputError, InputError} from '../errors.js'
import {requireAbsoluteUrl} from '../http/url.js'
import {announcedOrigin, weakAdminKeyReason} from '../stack/announce.js'
import {ADMIN_KEY_SHAPE} from '../stack/authserver/domain/config.js'
import {normalizeAuthority} from '../stack/mcp-server/host-guard.js'
import type {StackOptions} from '../stack/types.js'
import {checkEmail, userPassword} from '../walkthrough/user.js'
import {corsOrigins, mcpPolicy, type McpPolicy, type McpPolicyFlags} from './mcp-policy.js'

/** The embedded-only flags of `stack up`, as oclif parsed them. */
export interface EmbeddedStackFlags extends McpPolicyFlags {
  host: string
  port: number
  'admin-port': number
  'mcp-port': number
  issuer?: string
  resource?: string
  'token-ttl'?: number
  'max-sessions'?: number
  'mcp-allowed-host'?: string[]
  'cors-origin'?: string[]
  'rate-limit': boolean
  'rate-limit-rps': number
  'rate-limit-burst': number
  'auth-fail-max': number
  'auth-fail-window': number
  'auth-lockout': number
  'dpop-require-nonce': boolean
  'dcr-mode': string
  'require-scope': boolean
  'dcr-default-token-expiry': number
  'dcr-default-refresh-expiry': number
  cimd: boolean
  'cimd-require-https': boolean
  'cimd-allow-private-addresses': boolean
  user?: string
}

export interface EmbeddedStackPlan {
  options: StackOptions
  policy: McpPolicy
  /** AUTHPLANE_ADMIN_API_KEY when set: the stack uses it instead of its own key. */
  envKey?: string
  /** The local user to create or keep (`--user`), with where its password came from. */
  user?: {email: string; password: string; generated: boolean}
}

/** A boolean variable as the real server reads one (getEnvBool): true, 1 or yes, in any case. */
function envBool(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes'].includes(value.toLowerCase())
}

/**
 * Turns the flags of `stack up` into the options of `startStack`, refusing what the stack (or the
 * real authserver at boot) would refuse, before anything listens.
 */
export function embeddedStackPlan(flags: EmbeddedStackFlags, dataDir: string | undefined, lookup: (name: string) => string | undefined): EmbeddedStackPlan {
  const issuer = flags.issuer ?? announcedOrigin(flags.host, flags.port)
  const resource = flags.resource ?? (flags['mcp-port'] === 0 ? undefined : `${announcedOrigin(flags.host, flags['mcp-port'])}/mcp`)
  for (const [name, value] of [['--issuer', issuer], ['--resource', resource]] as const) {
    if (value !== undefined) requireAbsoluteUrl(value, name)
  }
  for (const entry of flags['mcp-allowed-host'] ?? []) {
    if (normalizeAuthority(entry.trim()) === undefined) throw inputError(`--mcp-allowed-host "${entry}" is not a host[:port]`, 'Example: --mcp-allowed-host mcp.example:8080')
  }
  const policy = mcpPolicy(flags)
  const user = flags.user === undefined ? undefined : {email: checkEmail(flags.user, '--user'), ...userPassword(lookup)}
  // The exported variable only: a ./.env written for the Docker topology must not change the
  // embedded stack's admin key.
  const envKey = process.env.AUTHPLANE_ADMIN_API_KEY?.trim() || undefined
  // Saved into the profile and sent in every admin request's Authorization header: a line break
  // in it would split that header, so it is refused here, naming where it came from.
  if (envKey && !ADMIN_KEY_SHAPE.test(envKey)) {
    throw new InputError('bad_admin_key', 'refusing to start: AUTHPLANE_ADMIN_API_KEY holds a line break, a space or another character that is not visible ASCII', {hint: 'Set it to one line, e.g. export AUTHPLANE_ADMIN_API_KEY=$(openssl rand -hex 32), or unset it to have a key generated.'})
  }
  if (envKey && issuer) {
    const reason = weakAdminKeyReason(issuer, envKey)
    if (reason) throw new InputError('weak_admin_key', `refusing to start: ${reason}`, {hint: 'Set AUTHPLANE_ADMIN_API_KEY to a random value of 16+ characters (or unset it to have one generated).'})
  }
  const options: StackOptions = {
    host: flags.host,
    port: flags.port,
    adminPort: flags['admin-port'],
    mcpPort: flags['mcp-port'],
    issuer,
    resource,
    adminKey: envKey,
    dataDir,
    tokenTtlSeconds: flags['token-ttl'],
    maxSessions: flags['max-sessions'],
    mcpAllowedHosts: flags['mcp-allowed-host'],
    corsOrigins: corsOrigins(flags['cors-origin']),
    rateLimit: {
      enabled: flags['rate-limit'],
      requestsPerSecond: flags['rate-limit-rps'],
      burst: flags['rate-limit-burst'],
      authFailMax: flags['auth-fail-max'],
      authFailWindowSeconds: flags['auth-fail-window'],
      authLockoutSeconds: flags['auth-lockout'],
    },
    dpop: {requireNonce: flags['dpop-require-nonce']},
    requireScope: flags['require-scope'],
    userTokenTtlSeconds: flags['dcr-default-token-expiry'],
    refreshTokenTtlSeconds: flags['dcr-default-refresh-expiry'],
    // The variables docker-compose.yml hands the real server: an issuer that is not localhost
    // needs both, here as there (.env.example says so).
    session: {secret: lookup('AUTHPLANE_SESSION_SECRET') ?? '', secure: envBool(lookup('AUTHPLANE_SESSION_SECURE'))},
    cimd: {enabled: flags.cimd, requireHttps: flags['cimd-require-https'], allowPrivateAddresses: flags['cimd-allow-private-addresses']},
    dcrMode: flags['dcr-mode'] as 'open' | 'admin_only',
    mcpDpop: policy.dpop,
    mcpDpopNonce: policy.dpopNonce,
    toolScopes: policy.toolScopes,
    mcpProtocol: policy.protocol,
  }
  return {options, policy, envKey, user}
}
