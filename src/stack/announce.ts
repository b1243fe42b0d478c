// How a listening address is written in URLs that other programs will use.

// IPv6 loopback is not here: `localhost` may resolve to 127.0.0.1 only, so ::1 is announced as [::1].
const LOOPBACK_OR_WILDCARD = new Set(['127.0.0.1', 'localhost', '0.0.0.0', '::', '[::]'])

/**
 * The host to announce for a bind address: `localhost` for loopback and wildcard binds (the host
 * name the Authplane examples use, so the seed walkthrough's URLs work unchanged), the address
 * itself otherwise, bracketed when it is IPv6.
 */
export function announcedHost(bindHost: string): string {
  if (LOOPBACK_OR_WILDCARD.has(bindHost)) return 'localhost'
  return bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost
}

/** `http://<host>:<port>` for a fixed port, or undefined for port 0 (known only after listen). */
export function announcedOrigin(bindHost: string, port: number): string | undefined {
  return port === 0 ? undefined : `http://${announcedHost(bindHost)}:${port}`
}

/** Key values the real server refuses for a non-localhost issuer (contract §1). */
const WEAK_ADMIN_KEYS = new Set(['changeme', 'change-me', 'secret', 'password', 'admin', 'test', 'default', 'adminkey', 'admin-key'])

/**
 * The real authserver insists on a strong admin key as soon as the issuer is not a localhost URL;
 * the embedded one does the same so that a setup that works here also starts there.
 * Returns a reason when the key is not acceptable, undefined when it is.
 */
export function weakAdminKeyReason(issuer: string, key: string): string | undefined {
  let hostname: string
  try {
    hostname = new URL(issuer).hostname
  } catch {
    return undefined
  }
  if (['localhost', '127.0.0.1', '[::1]', '::1'].includes(hostname)) return undefined
  if (key.length < 16) return `the admin key has ${key.length} characters; a non-localhost issuer needs at least 16`
  if (WEAK_ADMIN_KEYS.has(key.toLowerCase())) return 'the admin key is a well-known weak value'
  return undefined
}
