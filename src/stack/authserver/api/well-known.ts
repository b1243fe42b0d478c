// The public port's discovery and health documents (api/public/wellknown/ of the real server):
// RFC 8414 metadata, the JWKS, /livez, /health and /ready.
import type {ServerResponse} from 'node:http'
import {sendJson, type Headers} from '../http/respond.js'
import type {ServerContext} from '../services/context.js'

const METADATA_CACHE: Headers = {'Cache-Control': 'public, max-age=3600'}

/** RFC 8414 metadata, member for member in the order of the real server's asMetadata. */
function metadata(ctx: ServerContext): Record<string, unknown> {
  const iss = ctx.issuer
  const doc: Record<string, unknown> = {
    issuer: iss,
    authorization_endpoint: `${iss}/oauth/authorize`,
    token_endpoint: `${iss}/oauth/token`,
    registration_endpoint: `${iss}/oauth/register`,
    revocation_endpoint: `${iss}/oauth/revoke`,
    introspection_endpoint: `${iss}/oauth/introspect`,
    jwks_uri: `${iss}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    // Only what this server really does at the token endpoint is announced, in the real
    // server's order.
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
  }
  // Union of every resource's scope names in registration order, omitted when empty.
  const scopes = ctx.store.allScopeNames()
  if (scopes.length > 0) doc.scopes_supported = scopes
  doc.resource_indicators_supported = true
  // Announced while CIMD is on (cimd.enabled, the default), as the newest real server does.
  if (ctx.cimd !== undefined) doc.client_id_metadata_document_supported = true
  doc.dpop_signing_alg_values_supported = ['ES256', 'RS256', 'PS256']
  return doc
}

/** RFC 3339 in whole seconds, UTC, as Go's time.RFC3339 prints it. */
function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function health(ctx: ServerContext, res: ServerResponse, okWord: string, badWord: string): void {
  let ok: boolean
  try {
    ok = ctx.store.ping()
  } catch {
    ok = false
  }
  sendJson(res, ok ? 200 : 503, {status: ok ? okWord : badWord, time: rfc3339(), db: ok ? 'ok' : 'error'})
}

/** Serves a well-known or health document for `path`; false when `path` is not one of them. */
export function wellKnown(ctx: ServerContext, res: ServerResponse, path: string): boolean {
  switch (path) {
    case '/.well-known/oauth-authorization-server':
    case '/.well-known/openid-configuration':
      sendJson(res, 200, metadata(ctx), METADATA_CACHE)
      return true
    case '/.well-known/jwks.json':
      sendJson(res, 200, {keys: [ctx.signer.key.publicJwk]}, {'Cache-Control': 'public, max-age=3600'})
      return true
    case '/livez':
      sendJson(res, 200, {status: 'alive', time: rfc3339()})
      return true
    case '/health':
      health(ctx, res, 'ok', 'degraded')
      return true
    case '/ready':
      health(ctx, res, 'ready', 'not_ready')
      return true
  }
  return false
}

export const WELL_KNOWN_PATHS: ReadonlySet<string> = new Set(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/.well-known/jwks.json', '/livez', '/health', '/ready'])
