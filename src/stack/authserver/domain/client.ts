// Client registration rules shared by the admin API (`POST/PATCH /admin/clients`) and dynamic
// client registration (`POST /oauth/register`). The real server runs one validator for both
// doors (internal/domain/client/validation.go): every problem is collected and reported in one
// message, `client validation failed: a; b; c`, prefixed with its invalid_client sentinel text.

export type ClientStatus = 'active' | 'suspended' | 'revoked'
export type AuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'

export interface Client {
  id: string
  name: string
  secret_hash: string | null
  redirect_uris: string[]
  grant_types: string[]
  response_types: string[]
  token_endpoint_auth_method: AuthMethod
  scope: string
  status: ClientStatus
  registration_source: string
  agent: boolean
  agent_description: string
  /** OIDC application_type as registered ('' = not stated; reads as "web"). */
  application_type: string
  issued_at: string
  updated_at: string
}

export type DcrMode = 'open' | 'approved_redirects' | 'admin_only'
export const DCR_MODES: readonly DcrMode[] = ['open', 'approved_redirects', 'admin_only']

export const GRANT_AUTHORIZATION_CODE = 'authorization_code'
export const GRANT_REFRESH_TOKEN = 'refresh_token'
export const GRANT_CLIENT_CREDENTIALS = 'client_credentials'
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

const KNOWN_GRANTS = new Set([GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE, GRANT_JWT_BEARER])
export const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const

/**
 * Grants this server honours. The real server always honours authorization_code and
 * refresh_token and adds the optional ones when their switch is on; the embedded server has
 * client_credentials on (the walkthrough's grant) and never serves token exchange or jwt-bearer,
 * which is the real server's default configuration.
 */
export const ENABLED_GRANTS: ReadonlySet<string> = new Set([GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN, GRANT_CLIENT_CREDENTIALS])
const GRANT_SWITCHES: Record<string, string> = {
  [GRANT_CLIENT_CREDENTIALS]: 'AUTHPLANE_CLIENT_CREDENTIALS_ENABLED',
  [GRANT_TOKEN_EXCHANGE]: 'AUTHPLANE_TOKEN_EXCHANGE_ENABLED',
  [GRANT_JWT_BEARER]: 'AUTHPLANE_XAA_ENABLED',
}

/** The real server's invalid_client sentinel text; validation errors are wrapped in it. */
export const INVALID_CLIENT_TEXT = 'client authentication failed'

const MAX_NAME_BYTES = 255
const MAX_REDIRECT_URIS = 10
const MAX_AGENT_DESCRIPTION_BYTES = 255

export interface ClientParams {
  name: string
  redirectUris: string[]
  grantTypes: string[]
  responseTypes: string[]
  authMethod: string
  agentDescription: string
}

/** RFC 7591 defaults as the real server fills them (`CreateParams.Defaults`). */
export function applyDefaults(p: ClientParams): ClientParams {
  return {
    ...p,
    grantTypes: p.grantTypes.length === 0 ? [GRANT_AUTHORIZATION_CODE] : p.grantTypes,
    responseTypes: p.responseTypes.length === 0 ? ['code'] : p.responseTypes,
    authMethod: p.authMethod === '' ? 'none' : p.authMethod,
  }
}

export class ClientValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`${INVALID_CLIENT_TEXT}: client validation failed: ${problems.join('; ')}`)
  }
}

/** A URL split the way Go's net/url does it, enough for the redirect URI rules. */
interface GoUrl {
  scheme: string
  host: string
  hostname: string
  fragment: string
  /** The authority has a `user[:password]@` part. */
  userinfo: boolean
}

/**
 * Parses like Go's `url.Parse` for the parts the rules look at. Returns undefined where Go
 * fails: control characters, spaces in the authority, bad percent escapes, a scheme that starts
 * with a non-letter.
 */
function parseGoUrl(raw: string): GoUrl | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) return undefined
  const hash = raw.indexOf('#')
  const fragment = hash === -1 ? '' : raw.slice(hash + 1)
  let rest = hash === -1 ? raw : raw.slice(0, hash)
  if (/%(?![0-9A-Fa-f]{2})/.test(rest)) return undefined
  let scheme = ''
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest)
  if (m !== null) {
    scheme = m[1]!.toLowerCase()
    rest = rest.slice(m[0].length)
  } else if (/^[^/?]*:/.test(rest)) {
    return undefined // "missing protocol scheme" / "first path segment in URL cannot contain colon"
  }
  let host = ''
  let userinfo = false
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?]/)
    const authority = end === -1 ? rest.slice(2) : rest.slice(2, 2 + end)
    userinfo = authority.includes('@')
    host = authority.slice(authority.lastIndexOf('@') + 1)
    if (/[\s<>"{}|\\^`]/.test(host)) return undefined
  }
  let hostname = host
  if (host.startsWith('[')) {
    const close = host.indexOf(']')
    if (close === -1) return undefined
    hostname = host.slice(1, close)
  } else {
    const colon = host.lastIndexOf(':')
    if (colon !== -1) {
      if (!/^\d*$/.test(host.slice(colon + 1))) return undefined
      hostname = host.slice(0, colon)
    }
  }
  return {scheme, host, hostname, fragment, userinfo}
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1'])

/** One redirect URI (RFC 9700): absolute, no fragment, no userinfo, https except on loopback hosts. */
export function redirectUriProblem(uri: string): string | undefined {
  const u = parseGoUrl(uri)
  if (u === undefined) return `redirect_uri ${goQuote(uri)} is not a valid URL`
  if (u.fragment !== '') return `redirect_uri ${goQuote(uri)} must not contain a fragment`
  if (u.scheme === '' || u.host === '') return `redirect_uri ${goQuote(uri)} must have scheme and host`
  // Not in the real validator: credentials in a redirect URI end up in the browser's history and
  // in every code response, and `https://trusted@evil.example` reads as trusted to a person.
  if (u.userinfo) return `redirect_uri ${goQuote(uri)} must not contain userinfo`
  if (u.scheme === 'http') {
    return LOOPBACK.has(u.hostname) ? undefined : `redirect_uri ${goQuote(uri)} must use https (http allowed only for localhost)`
  }
  if (u.scheme !== 'https') return `redirect_uri ${goQuote(uri)} must use https scheme`
  return undefined
}

/** Go's %q for the strings these messages quote (JSON escaping agrees for printable text). */
export function goQuote(s: string): string {
  return JSON.stringify(s)
}

/**
 * The real server's ValidateGrantTypesEnabled: one message per known grant this server does not
 * honour (unknown grants are left to the grant rule), naming the switch that would enable it.
 */
export function grantsNotEnabled(grantTypes: readonly string[]): string[] {
  return grantTypes.filter((g) => KNOWN_GRANTS.has(g) && !ENABLED_GRANTS.has(g)).map((g) => {
    const sw = GRANT_SWITCHES[g]
    return sw === undefined ? `grant_type ${goQuote(g)} is not enabled on this server` : `grant_type ${goQuote(g)} is not enabled on this server — set ${sw}=true to enable it`
  })
}

/** Every rule the real server checks on a client; throws ClientValidationError listing all failures. */
export function validateClientParams(p: ClientParams): void {
  const problems: string[] = []
  if (p.name.trim() === '') problems.push('client_name is required')
  else if (Buffer.byteLength(p.name) > MAX_NAME_BYTES) problems.push(`client_name exceeds ${MAX_NAME_BYTES} characters`)

  const needsRedirect = p.grantTypes.some((g) => g === GRANT_AUTHORIZATION_CODE || g === GRANT_REFRESH_TOKEN)
  if (p.redirectUris.length === 0 && needsRedirect) problems.push('at least one redirect_uri is required')
  if (p.redirectUris.length > MAX_REDIRECT_URIS) problems.push(`too many redirect_uris (max ${MAX_REDIRECT_URIS})`)
  for (const uri of p.redirectUris) {
    const problem = redirectUriProblem(uri)
    if (problem !== undefined) problems.push(problem)
  }

  for (const g of p.grantTypes) if (!KNOWN_GRANTS.has(g)) problems.push(`unsupported grant_type: ${goQuote(g)}`)
  problems.push(...grantsNotEnabled(p.grantTypes))
  for (const r of p.responseTypes) {
    if (r !== 'code') problems.push(`unsupported response_type: ${goQuote(r)} (only "code" is supported)`)
  }
  if (p.authMethod !== '' && !(AUTH_METHODS as readonly string[]).includes(p.authMethod)) {
    problems.push(`unsupported token_endpoint_auth_method: ${goQuote(p.authMethod)}`)
  }
  if (Buffer.byteLength(p.agentDescription) > MAX_AGENT_DESCRIPTION_BYTES) {
    problems.push(`agent_description exceeds ${MAX_AGENT_DESCRIPTION_BYTES} characters`)
  }
  if (problems.length > 0) throw new ClientValidationError(problems)
}
