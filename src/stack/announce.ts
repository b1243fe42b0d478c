import {adminKeyProblem} from './authserver/domain/config.js'

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

/**
 * The real authserver's admin-key policy (internal/config/validate.go, restated in
 * authserver/domain/config.ts): a well-known weak key is refused at any issuer, and a non-localhost
 * issuer needs a key of 16+ characters. The embedded server applies the same rule at start, so a
 * setup that works here also starts there. Returns a reason when the key is not acceptable.
 */
export function weakAdminKeyReason(issuer: string, key: string): string | undefined {
  return adminKeyProblem(key, issuer)
}
