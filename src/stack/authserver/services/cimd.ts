// CIMD auto-registration (internal/services/cimd.go `VerifyCIMD` of the real server, newest line):
// an http(s) `client_id` that names no known client is fetched as a Client ID Metadata Document and
// registered as a public client whose id is that URL. It obeys the DCR policy (admin_only refuses,
// approved_redirects must cover every redirect URI) and the grants this server honours; once
// registered, the client is served from the store and the document is not fetched again.
import {goQuote, grantsNotEnabled, INVALID_CLIENT_TEXT, type AuthMethod, type Client} from '../domain/client.js'
import {CimdError, type CimdDocument} from '../store/cimd-fetcher.js'
import type {ServerContext} from './context.js'

/** Why a metadata document did not become a client; the message is the real server's log text. */
export class CimdRefusal extends Error {}

/** Is this `client_id` one the real server's lookupClient tries as a metadata document URL? */
export function isMetadataDocumentUrl(clientId: string): boolean {
  return clientId.startsWith('http://') || clientId.startsWith('https://')
}

/**
 * The document's token endpoint authentication. The real server stores whatever it says; a
 * document cannot deliver a shared secret, so (draft-ietf-oauth-client-id-metadata-document §4.1)
 * the secret-based methods are refused here, and `none` is the only method this server can serve.
 */
function authMethodProblem(method: string): string | undefined {
  if (method === 'none') return undefined
  if (method === 'client_secret_basic' || method === 'client_secret_post' || method === 'client_secret_jwt') {
    return `token_endpoint_auth_method ${goQuote(method)} needs a shared secret, which a client metadata document cannot have`
  }
  return `unsupported token_endpoint_auth_method: ${goQuote(method)}`
}

function clientFromDocument(url: string, doc: CimdDocument): Client {
  const t = new Date().toISOString()
  return {
    // For CIMD the client id is the URL.
    id: url, name: doc.client_name, secret_hash: null, redirect_uris: doc.redirect_uris, grant_types: doc.grant_types, response_types: doc.response_types,
    token_endpoint_auth_method: doc.token_endpoint_auth_method as AuthMethod,
    // A document carries no scope, and this server has no oauth.default_client_scope to stamp.
    scope: '', status: 'active', registration_source: 'cimd', agent: false, agent_description: '', application_type: '', issued_at: t, updated_at: t,
  }
}

/**
 * Fetches, validates and registers the client a metadata document URL names; throws CimdRefusal
 * (with the real server's text) when it cannot be used. The caller shows "Invalid Client".
 */
export async function registerFromMetadataDocument(ctx: ServerContext, url: string): Promise<Client> {
  const cimd = ctx.cimd
  if (cimd === undefined) throw new CimdRefusal('registration is disabled')
  // CIMD must not bypass the DCR policy.
  if (ctx.dcr.mode === 'admin_only') throw new CimdRefusal('registration is disabled')
  let doc: CimdDocument
  try {
    doc = await cimd.fetcher.fetch(url)
  } catch (err) {
    if (err instanceof CimdError) throw new CimdRefusal(err.message)
    throw err
  }
  const grantProblems = grantsNotEnabled(doc.grant_types)
  if (grantProblems.length > 0) throw new CimdRefusal(`${INVALID_CLIENT_TEXT}: client validation failed: ${grantProblems.join('; ')}`)
  const method = authMethodProblem(doc.token_endpoint_auth_method)
  if (method !== undefined) throw new CimdRefusal(`client metadata document is invalid: ${method}`)
  if (ctx.dcr.mode === 'approved_redirects') {
    const rejected = doc.redirect_uris.find((u) => !ctx.dcr.approvedRedirects.includes(u))
    if (rejected !== undefined) throw new CimdRefusal(`redirect_uri not allowed: cimd redirect_uri ${goQuote(rejected)} not in approved list`)
  }
  const client = clientFromDocument(url, doc)
  try {
    ctx.store.insertClient(client)
  } catch (err) {
    // Two first authorizations for one document raced: the other one registered it.
    if ((err as {code?: string}).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY' && (err as {code?: string}).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err
    const existing = ctx.store.clientById(url)
    if (existing === undefined) throw err
    return existing
  }
  return client
}
