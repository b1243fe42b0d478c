// Which client ap-demo signs a user in as (MCP authorization 2025-11-25, "Client Registration
// Approaches"), in the spec's order: a pre-registered client the user names; else a Client ID
// Metadata Document, when the authorization server announces client_id_metadata_document_supported
// and the user hosts one; else dynamic client registration (RFC 7591) as a native application
// (RFC 8252) with a loopback redirect URI. A client registered earlier at the same server is used
// again rather than registering a new one on every sign-in.
import * as oauth from 'oauth4webapi'

import {basicAuthorization} from '../authplane/client.js'
import type {LoginClientAuthMethod, LoginClientRecord} from '../config/store.js'
import {ConfigError, CredentialsError, InputError, RejectedError} from '../errors.js'
import type {RequestObserver} from '../http/request.js'
import type {AuthorizationServerInfo} from './metadata.js'
import {clientFetch, describeOAuthError, jsonResponse, oauthError, reaching} from './responses.js'

/** The name ap-demo registers under, as shown on consent pages. */
export const CLIENT_NAME = 'ap-demo'

export interface RegistrationRequest {
  server: AuthorizationServerInfo
  /** The redirect URI of this sign-in (the loopback listener's). */
  redirectUri: string
  /** --client-id (+ --client-secret or AUTHPLANE_CLIENT_SECRET). */
  preRegistered?: {clientId: string; clientSecret?: string}
  /** --client-metadata-url (or the profile's): ap-demo's Client ID Metadata Document. */
  clientMetadataUrl?: string
  /** The client kept from an earlier sign-in at this server. */
  stored?: LoginClientRecord
  timeoutMs: number
  observer?: RequestObserver
}

export interface RegistrationOutcome {
  client: LoginClientRecord
  /** given: --client-id; cimd: the metadata document URL; reused: kept from before; registered: new (DCR). */
  action: 'given' | 'cimd' | 'reused' | 'registered'
}

/** How a client with (or without) a secret authenticates, among the methods the server announces. */
export function secretMethod(server: AuthorizationServerInfo, hasSecret: boolean): LoginClientAuthMethod {
  if (!hasSecret) return 'none'
  // RFC 8414 §2: when the member is absent, client_secret_basic is the default.
  const supported = server.metadata.token_endpoint_auth_methods_supported
  if (!supported || supported.includes('client_secret_basic')) return 'client_secret_basic'
  return supported.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic'
}

/** The `client_id` of a Client ID Metadata Document must be an https URL with a path (draft-ietf-oauth-client-id-metadata-document §3). */
export function checkClientMetadataUrl(value: string, from: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError('usage', `${from} "${value.replace(/[^\x20-\x7e]/g, '?')}" is not an absolute URL`, {hint: 'Example: --client-metadata-url https://you.example/ap-demo/client.json (see docs/login.md for the document to host there).'})
  }
  if (url.protocol !== 'https:' || url.pathname === '/' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InputError('usage', `${from} "${value}" must be an https URL with a path, no fragment and no user name`, {hint: 'A Client ID Metadata Document is served over https at a path, e.g. https://you.example/ap-demo/client.json.'})
  }
  return url.href
}

/** Picks (or registers) the client, in the order of the MCP authorization spec. */
export async function chooseClient(request: RegistrationRequest): Promise<RegistrationOutcome> {
  const {server, redirectUri} = request
  const issuer = server.metadata.issuer
  const now = new Date().toISOString()
  if (request.preRegistered) {
    const {clientId, clientSecret} = request.preRegistered
    const client: LoginClientRecord = {issuer, clientId, authMethod: secretMethod(server, Boolean(clientSecret)), redirectUris: [redirectUri], via: 'pre-registered', registeredAt: now}
    if (clientSecret) client.clientSecret = clientSecret
    return {client, action: 'given'}
  }
  const stored = usable(request.stored)
  // A client the user named before stays theirs: it is not traded for a metadata document or a new registration.
  if (stored?.via === 'pre-registered') return {client: stored, action: 'reused'}
  const cimd = server.metadata.client_id_metadata_document_supported === true
  if (cimd && request.clientMetadataUrl) {
    if (stored?.via === 'cimd' && stored.clientId === request.clientMetadataUrl) return {client: stored, action: 'reused'}
    return {client: {issuer, clientId: request.clientMetadataUrl, authMethod: 'none', redirectUris: [redirectUri], via: 'cimd', registeredAt: now}, action: 'cimd'}
  }
  if (stored && stored.via === 'dcr') return {client: stored, action: 'reused'}
  return {client: await registerClient(request, cimd), action: 'registered'}
}

/** A stored client whose secret has not expired (RFC 7591 §3.2.1). */
function usable(stored: LoginClientRecord | undefined): LoginClientRecord | undefined {
  if (!stored) return undefined
  if (stored.secretExpiresAt && stored.secretExpiresAt * 1000 <= Date.now()) return undefined
  return stored
}

/**
 * RFC 7591 dynamic client registration as a native application (RFC 8252 §8.4: a public client,
 * no secret, when the server allows `none`), with the loopback redirect URI of this sign-in.
 */
export async function registerClient(request: Pick<RegistrationRequest, 'server' | 'redirectUri' | 'timeoutMs' | 'observer'>, cimdAnnounced = false): Promise<LoginClientRecord> {
  const {server, redirectUri} = request
  const endpoint = server.metadata.registration_endpoint
  if (!endpoint) {
    throw new ConfigError('no_registration', `${server.metadata.issuer} offers no dynamic client registration (its metadata has no registration_endpoint), and no client was named`, {
      hint: cimdAnnounced
        ? `It accepts Client ID Metadata Documents: host ap-demo's (docs/login.md) and pass --client-metadata-url, or name a client registered there: --client-id <id> (redirect URI http://127.0.0.1/callback).`
        : `Name a client registered there for ap-demo: --client-id <id> (with --client-secret or AUTHPLANE_CLIENT_SECRET for a confidential one), with the redirect URI http://127.0.0.1/callback.`,
      details: {issuer: server.metadata.issuer},
    })
  }
  const supported = server.metadata.token_endpoint_auth_methods_supported
  const method: LoginClientAuthMethod = !supported || supported.includes('none') ? 'none' : supported.includes('client_secret_basic') ? 'client_secret_basic' : supported.includes('client_secret_post') ? 'client_secret_post' : 'none'
  const metadata = {
    client_name: CLIENT_NAME,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
    application_type: 'native',
  }
  const response = await reaching('client registration', endpoint, request.timeoutMs, (signal) =>
    oauth.dynamicClientRegistrationRequest(server.metadata, metadata, {
      signal,
      [oauth.customFetch]: clientFetch(request.observer),
      [oauth.allowInsecureRequests]: new URL(endpoint).protocol === 'http:',
    }),
  )
  const text = await response.text()
  if (response.status !== 201 && response.status !== 200) {
    const e = oauthError(response.status, text)
    throw new RejectedError('registration_refused', `${server.metadata.issuer} refused the client registration: ${describeOAuthError(e)}`, {
      hint:
        e.error === 'invalid_redirect_uri' || e.error === 'access_denied' || response.status === 403
          ? 'The server restricts dynamic client registration: ask its operator for a client with the redirect URI http://127.0.0.1/callback and pass it with --client-id.'
          : '--print-curl shows the registration request; or name a client registered there with --client-id.',
      details: {url: endpoint, httpStatus: response.status, error: e.error ?? null, error_description: e.description ?? null},
    })
  }
  let registered: Awaited<ReturnType<typeof oauth.processDynamicClientRegistrationResponse>>
  try {
    registered = await oauth.processDynamicClientRegistrationResponse(jsonResponse(withSecretExpiry(text), 201))
  } catch (cause) {
    throw new RejectedError('registration_invalid', `the registration answer of ${endpoint} is not usable: ${(cause as Error).message}`, {hint: 'RFC 7591 §3.2.1: a client_id, and the registered metadata.', details: {url: endpoint}, cause})
  }
  const secret = typeof registered.client_secret === 'string' && registered.client_secret !== '' ? registered.client_secret : undefined
  // RFC 7591 §3.2.1: the server may change what was asked; what it registered is what counts.
  const answered = registered.token_endpoint_auth_method
  const authMethod = (answered ?? (secret ? 'client_secret_basic' : 'none')) as string
  if (authMethod !== 'none' && authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') {
    throw new RejectedError('registration_unusable', `${server.metadata.issuer} registered the client with token_endpoint_auth_method "${authMethod}", which ap-demo's sign-in does not use`, {
      hint: 'ap-demo signs users in as a public client (none) or with a client secret (client_secret_basic, client_secret_post).',
      details: {clientId: registered.client_id, authMethod},
    })
  }
  if (authMethod !== 'none' && !secret) {
    throw new CredentialsError('registration_unusable', `${server.metadata.issuer} registered the client for ${authMethod} but sent no client_secret`, {hint: 'The server must return the secret in the registration answer (RFC 7591 §3.2.1).'})
  }
  const client: LoginClientRecord = {
    issuer: server.metadata.issuer,
    clientId: registered.client_id,
    authMethod,
    redirectUris: Array.isArray(registered.redirect_uris) && registered.redirect_uris.length > 0 ? (registered.redirect_uris as string[]) : [redirectUri],
    via: 'dcr',
    registeredAt: new Date().toISOString(),
  }
  if (secret) client.clientSecret = secret
  const expires = registered.client_secret_expires_at
  if (typeof expires === 'number' && expires > 0) client.secretExpiresAt = expires
  return client
}

/**
 * RFC 7591 §3.2.1 makes client_secret_expires_at required with a secret, and oauth4webapi insists;
 * servers (the conformance suite's among them) leave it out. Absent, it is read as 0: no expiry.
 */
function withSecretExpiry(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    if (body && typeof body === 'object' && typeof body.client_secret === 'string' && body.client_secret_expires_at === undefined) {
      return JSON.stringify({...body, client_secret_expires_at: 0})
    }
  } catch {
    // not JSON: oauth4webapi says so
  }
  return text
}

/** The oauth4webapi client authentication the registration calls for (RFC 6749 §2.3.1). */
export function clientAuthFor(client: LoginClientRecord): oauth.ClientAuth {
  if (client.authMethod === 'none' || !client.clientSecret) return oauth.None()
  if (client.authMethod === 'client_secret_post') return oauth.ClientSecretPost(client.clientSecret)
  // Authplane decodes HTTP Basic credentials as URL-encoded (contract §3): the same encoding as for client_credentials.
  const authorization = basicAuthorization(client.clientId, client.clientSecret)
  return (_as, _client, _body, headers) => {
    headers.set('authorization', authorization)
  }
}
