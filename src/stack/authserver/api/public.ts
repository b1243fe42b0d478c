// The public (issuer) port: the real server's middleware (security headers, the per-address rate
// limit, CORS) in front of a Go-ServeMux-like route table.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {applyCors} from '../http/cors.js'
import {pathOf} from '../http/form.js'
import {OAuthError, sendOAuthError} from '../http/oauth-error.js'
import {clientIp} from '../http/request.js'
import {methodMatches, sendGoMethodNotAllowed, sendGoNotFound, type Headers} from '../http/respond.js'
import type {ServerContext} from '../services/context.js'
import {RegistrationError} from '../services/dcr.js'
import {introspect, revoke} from './oauth/introspection.js'
import {register} from './oauth/register.js'
import {token} from './oauth/token.js'
import {browserRoute} from './pages/index.js'
import {WELL_KNOWN_PATHS, wellKnown} from './well-known.js'

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = pathOf(req.url)
  const method = req.method ?? 'GET'
  // Like the real server's Go ServeMux: each route has one method; others get a plain-text 405.
  const post = POST_ROUTES[path]
  if (post !== undefined) {
    if (method !== 'POST') return sendGoMethodNotAllowed(res, ['POST'])
    return post(ctx, req, res)
  }
  if (WELL_KNOWN_PATHS.has(path)) {
    if (!methodMatches(method, ['GET'])) return sendGoMethodNotAllowed(res, ['GET'])
    wellKnown(ctx, res, path)
    return
  }
  if (await browserRoute(ctx, req, res, path)) return
  sendGoNotFound(res)
}

const POST_ROUTES: Record<string, (ctx: ServerContext, req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
  '/oauth/token': token,
  '/oauth/introspect': introspect,
  '/oauth/revoke': revoke,
  '/oauth/register': register,
}

// Set on every public response by the real server's SecurityHeaders middleware.
const SECURITY_HEADERS: Headers = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

export function publicHandler(ctx: ServerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
    // Throughput limit per client address, ahead of every route (discovery and health included).
    if (ctx.limits.public !== undefined && !ctx.limits.public.allow(clientIp(req))) {
      req.resume()
      return sendOAuthError(res, new OAuthError(429, 'slow_down', 'rate limit exceeded', {'Retry-After': '1'}))
    }
    if (applyCors(ctx.corsOrigins, pathOf(req.url), req, res)) return
    route(ctx, req, res).catch((err: unknown) => {
      if (err instanceof OAuthError) return sendOAuthError(res, err)
      if (err instanceof RegistrationError) return sendOAuthError(res, new OAuthError(err.status, err.error, err.description))
      console.error('[authserver] request failed:', err)
      sendOAuthError(res, new OAuthError(500, 'server_error', 'internal error'))
    })
  }
}
