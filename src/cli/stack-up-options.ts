import {inputError, InputError} from '../errors.js'
import {requireAbsoluteUrl} from '../http/url.js'
import {announcedOrigin, weakAdminKeyReason} from '../stack/announce.js'
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
    dcrMode: flags['dcr-mode'] as 'open' | 'admin_only',
    mcpDpop: policy.dpop,
    mcpDpopNonce: policy.dpopNonce,
    toolScopes: policy.toolScopes,
    mcpProtocol: policy.protocol,
  }
  return {options, policy, envKey, user}
}
