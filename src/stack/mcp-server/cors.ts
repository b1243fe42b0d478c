import type {IncomingMessage, ServerResponse} from 'node:http'

// CORS for browser-based MCP clients (the MCP Inspector runs at http://localhost:6274): its page
// reads the protected resource metadata and POSTs /mcp across origins. Off unless origins are
// configured, like the authorization server's setting. The preflight is answered before
// authentication (a browser never sends credentials with it); real responses, 401s included,
// carry Allow-Origin and Expose-Headers so the page can read WWW-Authenticate and Mcp-Session-Id.

const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS'
// Mcp-Method and Mcp-Name: the standard headers every 2026-07-28 request carries (SEP-2243).
const ALLOW_HEADERS = 'Authorization, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, DPoP, Last-Event-ID, Accept'
const EXPOSE_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, DPoP-Nonce'

/** Whether `origin` is one of `origins` (which may hold `*`). */
export function corsAllows(origins: readonly string[], origin: string | undefined): boolean {
  if (origin === undefined || origin === '') return false
  return origins.includes('*') || origins.includes(origin)
}

/**
 * Adds the CORS headers when the request's Origin is allowed; answers a preflight (OPTIONS) with
 * 204 and returns true then, so the caller stops.
 */
export function applyMcpCors(origins: readonly string[], req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin
  if (origins.length === 0 || !corsAllows(origins, origin)) return false
  res.setHeader('Access-Control-Allow-Origin', origins.includes('*') ? '*' : (origin as string))
  res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS)
  res.setHeader('Vary', 'Origin')
  if (req.method !== 'OPTIONS') return false
  res.writeHead(204, {
    'Access-Control-Allow-Methods': ALLOW_METHODS,
    'Access-Control-Allow-Headers': ALLOW_HEADERS,
    'Access-Control-Max-Age': '86400',
    'Content-Length': '0',
  })
  res.end()
  return true
}
