import type {IncomingMessage, ServerResponse} from 'node:http'

// CORS as the real server does it (api/shared/security.go): off unless origins are configured, and
// then only on the endpoints a browser-based MCP client calls across origins (discovery, token,
// registration, revocation, introspection). The login and consent pages stay same-origin.

function corsEndpoint(path: string): boolean {
  return path === '/oauth/token' || path === '/oauth/register' || path === '/oauth/revoke' || path === '/oauth/introspect' || path.startsWith('/.well-known/')
}

/**
 * Adds the CORS headers for an allowed Origin; answers a preflight (OPTIONS) itself and returns
 * true then. `origins` may hold `*` (any origin, answered as `*`).
 */
export function applyCors(origins: readonly string[], path: string, req: IncomingMessage, res: ServerResponse): boolean {
  if (origins.length === 0 || !corsEndpoint(path)) return false
  const origin = req.headers.origin
  if (origin === undefined || origin === '') return false
  const any = origins.includes('*')
  if (!any && !origins.includes(origin)) return false
  res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin)
  if (!any) res.setHeader('Vary', 'Origin')
  if (req.method !== 'OPTIONS') return false
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type, Authorization, DPoP',
    'Access-Control-Max-Age': '86400',
  })
  res.end()
  return true
}
