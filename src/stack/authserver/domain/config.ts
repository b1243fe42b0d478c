// The real server's boot-time checks that concern the embedded server (internal/config/validate.go
// Validate, ValidateAdminAPIKey and isLocalhostIssuer): the admin key, the browser session (a
// non-localhost issuer needs AUTHPLANE_SESSION_SECRET and AUTHPLANE_SESSION_SECURE=true) and the
// CIMD switches for local testing. The Docker configuration checks use the same functions.

/** A setting the real server would refuse to start with; the message is the real server's where it has one. */
export class AuthServerConfigError extends Error {
  readonly code = 'AUTHSERVER_CONFIG'
}

const WEAK_SECRETS = ['dev-secret-change-me', 'dev-admin-key', 'changeme', 'secret', 'password', 'admin', 'test']

/** Compared trimmed and lower-cased, like the real server. `dev-admin-key-change-me` is not on the list. */
export function isWeakSecret(value: string): boolean {
  return WEAK_SECRETS.includes(value.trim().toLowerCase())
}

/** http(s)://localhost, 127.0.0.1 or [::1], followed by nothing, a port or a path. */
export function isLocalhostIssuer(issuer: string): boolean {
  for (const prefix of ['http://localhost', 'https://localhost', 'http://127.0.0.1', 'https://127.0.0.1', 'http://[::1]', 'https://[::1]']) {
    if (!issuer.startsWith(prefix)) continue
    const rest = issuer.slice(prefix.length)
    if (rest === '' || rest[0] === ':' || rest[0] === '/') return true
  }
  return false
}

/** A key an `Authorization: Bearer` header can carry: one line of visible ASCII. */
export const ADMIN_KEY_SHAPE = /^[\x21-\x7e]+$/

/**
 * The admin API key policy; returns the real server's message, or undefined when the key is
 * acceptable. The visible-ASCII rule is this server's own: a key with a line break could never be
 * sent in an Authorization header anyway.
 */
export function adminKeyProblem(key: string, issuer: string): string | undefined {
  const local = isLocalhostIssuer(issuer)
  if (key === '' && !local) return 'admin.api_key is required when admin is enabled and server.issuer is not localhost'
  if (key !== '' && isWeakSecret(key)) return 'admin.api_key is a known weak/default value — generate a strong random key (e.g. openssl rand -hex 32)'
  if (key !== '' && !ADMIN_KEY_SHAPE.test(key)) return 'admin.api_key must be one line of visible ASCII characters (no spaces, tabs or line breaks): it travels in an Authorization header'
  if (key !== '' && !local && key.length < 16) return 'admin.api_key must be at least 16 characters in production'
  return undefined
}

/** The session policy for a deployment with the browser flow; every problem, in the real server's words. */
export function sessionProblems(issuer: string, secret: string, secure: boolean): string[] {
  const local = isLocalhostIssuer(issuer)
  const problems: string[] = []
  if (secret === '' && !local) problems.push('session.secret is required when server.issuer is not localhost')
  else if (secret !== '' && isWeakSecret(secret)) problems.push('session.secret is a known weak/default value — generate a strong random secret (e.g. openssl rand -hex 32)')
  else if (secret !== '' && !local && secret.length < 16) problems.push('session.secret must be at least 16 characters in production')
  if (!secure && !local) problems.push('session.secure must be true when server.issuer is not localhost')
  return problems
}

/** The CIMD escape hatches for local testing, in the real server's words: permitted on localhost only. */
export function cimdProblems(issuer: string, c: {enabled: boolean; requireHttps: boolean; allowPrivateAddresses: boolean}): string[] {
  const local = isLocalhostIssuer(issuer)
  const problems: string[] = []
  if (!c.requireHttps && !local) problems.push('cimd.require_https must be true when server.issuer is not localhost')
  if (c.enabled && c.allowPrivateAddresses && !local) problems.push('cimd.allow_private_addresses must be false when server.issuer is not localhost')
  return problems
}
