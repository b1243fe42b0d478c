// The client_credentials grant (RFC 6749 §4.4) with RFC 8707 resources, as the real server serves
// it (internal/services/client_credentials.go): client authentication, the scope ceiling, the
// resource's catalog, then the DPoP proof.
import type {Client} from '../domain/client.js'
import {OAuthError} from '../http/oauth-error.js'
import {authenticateClient, type ClientCredentials} from './client-auth.js'
import type {ServerContext} from './context.js'
import {bindDpopProof} from './dpop-bind.js'
import {words} from '../domain/scope.js'

const INVALID_SCOPE_TEXT = 'the requested scope is invalid or not allowed'

/** The real server's reason for a request beyond the ceiling; it depends on how the client came to be (svc/client_credentials.go). */
function scopeDenial(client: Client, ceiling: ReadonlySet<string>): string {
  if (ceiling.size > 0) return `${INVALID_SCOPE_TEXT}: the requested scope exceeds the client's registered scopes`
  const delegatedOnly = client.grant_types.every((g) => g === 'authorization_code' || g === 'refresh_token')
  if (client.registration_source === 'dcr' && !delegatedOnly) {
    return `${INVALID_SCOPE_TEXT}: this client was created through dynamic registration, which issues user-delegated clients only; machine-to-machine clients must be pre-registered through the admin API`
  }
  if (client.registration_source === 'dcr') {
    return `${INVALID_SCOPE_TEXT}: this client has no registered scopes; dynamically registered clients are assigned oauth.default_client_scope when they register, so re-register the client or grant scopes with PATCH /admin/clients/{client_id}`
  }
  return `${INVALID_SCOPE_TEXT}: the client has no registered scopes; grant them with PATCH /admin/clients/{id}`
}

function grantScopes(client: Client, requestedRaw: string | undefined, catalog: readonly string[] | undefined): string[] {
  const ceiling = new Set(words(client.scope))
  const requested = words(requestedRaw ?? '')
  let granted: string[]
  if (requested.length > 0) {
    if (requested.some((s) => !ceiling.has(s))) throw new OAuthError(400, 'invalid_scope', scopeDenial(client, ceiling))
    if (catalog !== undefined) {
      for (const s of requested) {
        if (!catalog.includes(s)) throw new OAuthError(400, 'invalid_scope', `scope "${s}" is not declared by the target resource`)
      }
    }
    granted = requested
  } else if (catalog !== undefined) {
    granted = catalog.filter((s) => ceiling.has(s))
    if (granted.length === 0) {
      throw new OAuthError(400, 'invalid_scope', "no scope requested and none of the client's registered scopes is declared by the target resource")
    }
  } else {
    granted = [...ceiling]
  }
  return granted.sort()
}

/** A client_credentials request as the token endpoint read it (first values only). */
export interface ClientCredentialsRequest {
  credentials: ClientCredentials
  scope: string | undefined
  resource: string | undefined
  dpopProof: string | undefined
}

/** Issues a client_credentials access token; returns the token response. */
export async function clientCredentialsGrant(ctx: ServerContext, r: ClientCredentialsRequest): Promise<Record<string, unknown>> {
  const client = authenticateClient(ctx, r.credentials)
  if (!client.grant_types.includes('client_credentials')) {
    throw new OAuthError(400, 'unauthorized_client', 'client is not authorized for this grant type')
  }
  // RFC 8707 §2: exact string match against registered resource URIs; only the first value is
  // used (the real server ignores the rest). Without a resource the token is audience-bound to
  // the issuer itself, which resource servers reject: that is the point.
  // The real server checks the requested scopes against the client's ceiling before it looks at
  // the resource, so a request wrong on both counts is invalid_scope.
  grantScopes(client, r.scope, undefined)
  const resource = r.resource
  let audience = ctx.issuer
  let catalog: string[] | undefined
  if (resource !== undefined) {
    const registered = ctx.store.resourceScopesByUri(resource)
    if (registered === undefined) throw new OAuthError(400, 'invalid_target', `resource "${resource}" is not a registered resource`)
    audience = resource
    catalog = registered.scopeNames
  }
  const scopes = grantScopes(client, r.scope, catalog)

  const jkt = await bindDpopProof(ctx, r.dpopProof)
  const minted = ctx.minter.mint({clientId: client.id, audience, scopes, jkt})
  ctx.store.recordToken({jti: minted.jti, client_id: client.id, aud: audience, scope: scopes.join(' '), iat: minted.iat, exp: minted.exp, cnf_jkt: jkt ?? null, revoked: 0})
  ctx.stats.tokensIssued++
  return {access_token: minted.jwt, token_type: jkt === undefined ? 'Bearer' : 'DPoP', expires_in: ctx.tokenTtlSeconds, scope: scopes.join(' ')}
}
