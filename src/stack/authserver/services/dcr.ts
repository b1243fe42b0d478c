// RFC 7591 dynamic client registration as the real server does it (internal/services/dcr.go): open
// by default, the same validator as the admin API, and RFC 7591 §3.2.1 responses.
import {applyDefaults, ClientValidationError, validateClientParams, type AuthMethod, type Client} from '../domain/client.js'
import {decodeStruct, JsonShapeError, type FieldKind} from '../http/body.js'
import {newClientSecret, randomId} from '../store/secrets.js'
import type {ServerContext} from './context.js'

const REQUEST_FIELDS: Record<string, FieldKind> = {
  redirect_uris: 'strings',
  client_name: 'string',
  grant_types: 'strings',
  response_types: 'strings',
  token_endpoint_auth_method: 'string',
  application_type: 'string',
  agent: 'bool',
  agent_description: 'string',
}

/** An RFC 7591 §3.2.2 error. The real server writes it in its OAuth + problem+json hybrid shape. */
export class RegistrationError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description)
  }
}

function enforceMode(ctx: ServerContext, redirectUris: string[]): void {
  const {mode, approvedRedirects} = ctx.dcr
  if (mode === 'admin_only') throw new RegistrationError(403, 'access_denied', 'registration is disabled')
  if (mode === 'approved_redirects') {
    // Exact string match, no normalisation (RFC 9700).
    if (redirectUris.some((u) => !approvedRedirects.includes(u))) {
      throw new RegistrationError(400, 'invalid_redirect_uri', 'redirect_uri not allowed')
    }
  }
}

/** Registers a client from the decoded request body; returns the RFC 7591 §3.2.1 response. */
export function registerClient(ctx: ServerContext, body: unknown): Record<string, unknown> {
  let f: Record<string, unknown>
  try {
    f = decodeStruct(body, REQUEST_FIELDS)
  } catch (err) {
    if (err instanceof JsonShapeError) throw new RegistrationError(400, 'invalid_request', 'invalid JSON body')
    throw err
  }
  const requestedUris = f.redirect_uris as string[] | undefined
  enforceMode(ctx, requestedUris ?? [])

  const applicationType = (f.application_type as string | undefined) ?? ''
  if (applicationType !== '' && applicationType !== 'web' && applicationType !== 'native') {
    throw new RegistrationError(400, 'invalid_client_metadata',
      new ClientValidationError([`application_type must be "web" or "native", got "${applicationType}"`]).message)
  }
  const params = applyDefaults({
    name: (f.client_name as string | undefined) ?? '',
    redirectUris: requestedUris ?? [],
    grantTypes: (f.grant_types as string[] | undefined) ?? [],
    responseTypes: (f.response_types as string[] | undefined) ?? [],
    authMethod: (f.token_endpoint_auth_method as string | undefined) ?? '',
    agentDescription: (f.agent_description as string | undefined) ?? '',
  })
  try {
    validateClientParams(params)
  } catch (err) {
    if (err instanceof ClientValidationError) throw new RegistrationError(400, 'invalid_client_metadata', err.message)
    throw err
  }

  const secret = params.authMethod === 'none' ? undefined : newClientSecret()
  const issuedAt = new Date()
  const t = issuedAt.toISOString()
  const agent = (f.agent as boolean | undefined) ?? false
  // A self-registered client states no scope ceiling, and the embedded server has no
  // oauth.default_client_scope to stamp, so its ceiling is empty: zero scopes on machine grants.
  const client: Client = {
    id: randomId(), name: params.name, secret_hash: secret === undefined ? null : ctx.hasher.hash(secret),
    redirect_uris: params.redirectUris, grant_types: params.grantTypes, response_types: params.responseTypes,
    token_endpoint_auth_method: params.authMethod as AuthMethod, scope: '', status: 'active', registration_source: 'dcr',
    agent, agent_description: params.agentDescription, application_type: applicationType, issued_at: t, updated_at: t,
  }
  ctx.store.insertClient(client)

  const out: Record<string, unknown> = {client_id: client.id}
  if (secret !== undefined) out.client_secret = secret
  out.client_id_issued_at = Math.floor(issuedAt.getTime() / 1000)
  // RFC 7591 §3.2.1: 0 means the secret never expires.
  if (secret !== undefined) out.client_secret_expires_at = 0
  // Echoed as sent: null when the request had no redirect_uris member.
  out.redirect_uris = requestedUris ?? null
  out.client_name = client.name
  out.grant_types = client.grant_types
  out.response_types = client.response_types
  out.token_endpoint_auth_method = client.token_endpoint_auth_method
  out.application_type = applicationType === '' ? 'web' : applicationType
  if (agent) out.agent = true
  if (client.agent_description !== '') out.agent_description = client.agent_description
  return out
}
