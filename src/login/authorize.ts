// The authorization code grant of a native application (OAuth 2.1 §4.1, RFC 8252) as the MCP
// authorization spec has a client run it: PKCE with S256 only (RFC 7636), a random state checked
// on return (RFC 6749 §10.12), the RFC 8707 resource in the authorization request and in the token
// request, the RFC 9207 `iss` parameter checked when the server sends it (or must), and the code
// exchanged with the client authentication the registration calls for. On oauth4webapi.
import {createInterface} from 'node:readline'

import * as oauth from 'oauth4webapi'

import type {LoginClientRecord} from '../config/store.js'
import {CheckFailedError, CredentialsError, RejectedError, UnreachableError} from '../errors.js'
import {httpFetch} from '../http/fetch.js'
import type {RequestObserver} from '../http/request.js'
import type {CallbackListener} from './loopback.js'
import {clientAuthFor} from './registration.js'
import {clientFetch, describeOAuthError, jsonResponse, oauthError, reaching} from './responses.js'
import {fromServer} from './server-text.js'

/** Who asks whom for what: the server, the client, the resource and the scopes. */
export interface AuthorizationTarget {
  server: oauth.AuthorizationServer
  client: LoginClientRecord
  resource: string
  /** Empty: no `scope` parameter at all (MCP: when neither the challenge nor the metadata names any). */
  scopes: string[]
}

export interface PreparedAuthorization {
  url: string
  state: string
  codeVerifier: string
  redirectUri: string
}

/** The tokens of a user grant, checked. */
export interface UserTokenSet {
  accessToken: string
  tokenType: 'Bearer' | 'DPoP'
  expiresIn?: number
  refreshToken?: string
  scope?: string
}

export interface RequestOptions {
  timeoutMs: number
  observer?: RequestObserver
}

export function oauthClient(client: LoginClientRecord): oauth.Client {
  return {client_id: client.clientId, token_endpoint_auth_method: client.authMethod}
}

function insecure(url: string): boolean {
  return new URL(url).protocol === 'http:'
}

/** The authorization request URL with a fresh PKCE verifier and state (RFC 6749 §4.1.1, RFC 7636 §4). */
export async function prepareAuthorization(target: AuthorizationTarget, redirectUri: string): Promise<PreparedAuthorization> {
  const endpoint = target.server.authorization_endpoint
  if (!endpoint) {
    throw new CheckFailedError('no_authorization_endpoint', `${target.server.issuer} has no authorization_endpoint in its metadata`, {hint: 'The server does not offer the authorization code grant, so no user can sign in there.'})
  }
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(endpoint)
  const p = url.searchParams
  p.set('response_type', 'code')
  p.set('client_id', target.client.clientId)
  p.set('redirect_uri', redirectUri)
  p.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier))
  p.set('code_challenge_method', 'S256')
  p.set('state', state)
  p.set('resource', target.resource)
  if (target.scopes.length > 0) p.set('scope', target.scopes.join(' '))
  return {url: url.href, state, codeVerifier, redirectUri}
}

export type PreflightVerdict =
  | {kind: 'accepted'; status: number}
  | {kind: 'answered'; callback: URL}
  | {kind: 'refused'; status: number; page: string}

/**
 * Asks the authorization endpoint about the request before a browser is opened, without following
 * its answer: a server that refuses the client or its redirect URI says so with an error page
 * (RFC 6749 §4.1.2.1 forbids redirecting then), which a user would otherwise only see in the
 * browser while ap-demo waits. A server that answers at once with a redirect to the client (no
 * sign-in needed) has given the authorization response itself.
 */
export async function preflightAuthorization(prepared: PreparedAuthorization, options: RequestOptions): Promise<PreflightVerdict> {
  const response = await reaching('authorization request', prepared.url, options.timeoutMs, (signal) =>
    httpFetch(prepared.url, {method: 'GET', headers: {accept: 'text/html'}, redirect: 'manual', signal}),
  )
  const text = await response.text().catch(() => '')
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location')
    if (location) {
      if (!URL.canParse(location, prepared.url)) {
        throw new CheckFailedError('authorization_page', `the authorization endpoint redirected to ${fromServer(location)}, which is not a URL`, {
          hint: 'The authorization server answered the authorization request with a broken Location header; check its configuration.',
          details: {httpStatus: response.status},
        })
      }
      const to = new URL(location, prepared.url)
      const back = new URL(prepared.redirectUri)
      if (to.origin === back.origin && to.pathname === back.pathname) return {kind: 'answered', callback: to}
    }
    return {kind: 'accepted', status: response.status}
  }
  if (response.status < 300) return {kind: 'accepted', status: response.status}
  const title = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(text)?.[1] ?? /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1] ?? ''
  return {kind: 'refused', status: response.status, page: fromServer(title.replace(/<[^>]+>/g, ''), 120)}
}

export interface CallbackOptions {
  timeoutMs: number
  /** A terminal to read a pasted callback address from (--no-browser over SSH), as well as the listener. */
  paste?: NodeJS.ReadableStream
}

/**
 * Waits for the authorization response: the browser's request to the loopback listener, or its
 * address pasted into the terminal. Checks state, iss and error with oauth4webapi and tells the
 * browser the outcome. Returns the parameters for the code exchange.
 */
export async function awaitAuthorizationResponse(target: AuthorizationTarget, prepared: PreparedAuthorization, listener: CallbackListener, options: CallbackOptions): Promise<URLSearchParams> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const stop = new AbortController()
  const signal = AbortSignal.any([timeout, stop.signal])
  const pasted = options.paste ? readPasted(options.paste, prepared.redirectUri, signal) : undefined
  let received: {url: URL; answer: (ok: boolean, message: string) => void}
  try {
    received = await Promise.race([listener.next(signal), ...(pasted ? [pasted.then((url) => ({url, answer: () => {}}))] : [])])
  } catch (error) {
    if (timeout.aborted) {
      throw new UnreachableError('sign_in_timeout', `no sign-in came back to ${prepared.redirectUri} within ${Math.round(options.timeoutMs / 1000)} s`, {
        hint: 'Open the address printed above in a browser, sign in and allow access; --login-timeout waits longer. A denied consent ends there too: Authplane shows "Access Denied" and does not send the browser back.',
        details: {redirectUri: prepared.redirectUri, timeoutSeconds: Math.round(options.timeoutMs / 1000)},
        cause: error,
      })
    }
    throw error
  } finally {
    stop.abort()
  }
  try {
    const params = checkAuthorizationResponse(target, prepared, received.url)
    received.answer(true, `ap-demo received the authorization from ${target.server.issuer}.`)
    return params
  } catch (error) {
    received.answer(false, (error as Error).message)
    throw error
  }
}

/** oauth4webapi's checks of the redirect (RFC 9207 iss, state, error), each failure as a typed error. */
export function checkAuthorizationResponse(target: AuthorizationTarget, prepared: PreparedAuthorization, url: URL): URLSearchParams {
  const issuer = target.server.issuer
  const p = url.searchParams
  try {
    return oauth.validateAuthResponse(target.server, oauthClient(target.client), p, prepared.state)
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      const e = {status: 0, error: fromServer(error.error, 80), ...(error.error_description ? {description: fromServer(error.error_description)} : {})}
      if (error.error === 'access_denied') {
        throw new CredentialsError('access_denied', `the sign-in was denied at ${issuer}${e.description ? ` (${e.description})` : ''}`, {
          hint: 'Nothing was granted. Run it again and allow the requested access (or sign in as a user who may).',
          details: {issuer, error: e.error, error_description: e.description ?? null},
        })
      }
      throw new RejectedError('authorization_refused', `${issuer} refused the authorization request: ${describeOAuthError(e)}`, {
        hint:
          error.error === 'invalid_scope'
            ? `Ask for scopes the server knows for ${target.resource} with --scope (it may require a scope: Authplane's oauth.require_scope).`
            : 'The server sent the browser back with an error (RFC 6749 §4.1.2.1); its description says why.',
        details: {issuer, error: e.error, error_description: e.description ?? null, scope: target.scopes.join(' ')},
      })
    }
    const message = (error as Error).message
    if (/"iss"/.test(message)) {
      const got = p.get('iss')
      throw new CheckFailedError(got === null ? 'iss_missing' : 'iss_mismatch', got === null ? `the authorization response has no "iss", which ${issuer} announces it sends (RFC 9207)` : `the authorization response names issuer ${JSON.stringify(fromServer(got))}, not ${JSON.stringify(issuer)} (RFC 9207)`, {
        hint: 'Refused: a response from another authorization server than the one asked (a mix-up attack, RFC 9207 §2.4) must never be used. Sign in again.',
        details: {expected: issuer, actual: got},
      })
    }
    if (/"state"/.test(message)) {
      throw new CheckFailedError('state_mismatch', `the authorization response ${p.has('state') ? 'carries another state' : 'has no state'} than the request ap-demo made`, {
        hint: 'Refused: it belongs to another authorization, or was forged (RFC 6749 §10.12). Nothing was exchanged. Sign in again.',
        details: {redirectUri: prepared.redirectUri},
      })
    }
    throw new CheckFailedError('authorization_response_invalid', `the authorization response is not usable: ${message}`, {hint: 'Sign in again; if it persists, the server\'s redirect is malformed.', cause: error})
  }
}

/** Lines typed into the terminal that are the redirect address (http://127.0.0.1:PORT/callback?...). */
function readPasted(input: NodeJS.ReadableStream, redirectUri: string, signal: AbortSignal): Promise<URL> {
  return new Promise((resolve) => {
    const lines = createInterface({input, terminal: false})
    const back = new URL(redirectUri)
    const done = () => lines.close()
    signal.addEventListener('abort', done, {once: true})
    lines.on('line', (line) => {
      let url: URL
      try {
        url = new URL(line.trim())
      } catch {
        return
      }
      if (url.pathname !== back.pathname || !(url.searchParams.has('code') || url.searchParams.has('error'))) return
      signal.removeEventListener('abort', done)
      done()
      resolve(url)
    })
  })
}

/** RFC 6749 §4.1.3 with RFC 7636 §4.5 and RFC 8707 §2.2: the code, the verifier and the resource. */
export async function exchangeCode(target: AuthorizationTarget, redirectUri: string, params: URLSearchParams, codeVerifier: string, options: RequestOptions): Promise<UserTokenSet> {
  const endpoint = target.server.token_endpoint!
  const client = oauthClient(target.client)
  const response = await reaching('code exchange', endpoint, options.timeoutMs, (signal) =>
    oauth.authorizationCodeGrantRequest(target.server, client, clientAuthFor(target.client), params, redirectUri, codeVerifier, {
      additionalParameters: {resource: target.resource},
      signal,
      [oauth.customFetch]: clientFetch(options.observer),
      [oauth.allowInsecureRequests]: insecure(endpoint),
    }),
  )
  const text = await response.text()
  if (response.status !== 200) throw tokenRefused('code exchange', target, endpoint, response.status, text)
  let processed: oauth.TokenEndpointResponse
  try {
    processed = await oauth.processAuthorizationCodeResponse(target.server, client, jsonResponse(text))
  } catch (cause) {
    throw new CheckFailedError('token_response_invalid', `the token response of ${endpoint} is not usable: ${(cause as Error).message}`, {hint: 'RFC 6749 §5.1 says what a token response holds.', details: {url: endpoint}, cause})
  }
  return tokenSet(processed, endpoint)
}

/** A refused token request of the user flow (code exchange or refresh), with what to do about it. */
export function tokenRefused(what: 'code exchange' | 'refresh', target: Pick<AuthorizationTarget, 'server' | 'client'>, endpoint: string, status: number, text: string): Error {
  const e = oauthError(status, text)
  const details = {url: endpoint, httpStatus: status, error: e.error ?? null, error_description: e.description ?? null, clientId: target.client.clientId}
  if (status >= 500) return new UnreachableError('server_error', `${what} at ${endpoint} failed: ${describeOAuthError(e)}`, {hint: 'The authorization server failed; check its logs.', details})
  if (e.error === 'invalid_client') {
    return new CredentialsError('invalid_client', `${target.server.issuer} refused client ${target.client.clientId} at the ${what}: ${describeOAuthError(e)}`, {
      hint: target.client.via === 'dcr' ? 'The server no longer knows the registered client: the next `ap-demo login` registers a new one.' : 'Check the client id and secret given with --client-id against the server.',
      details,
    })
  }
  if (e.error === 'invalid_grant' && what === 'refresh') {
    return new CredentialsError('refresh_refused', `the sign-in at ${target.server.issuer} can no longer be refreshed: ${describeOAuthError(e)}`, {hint: 'The refresh token expired or was revoked: sign in again with `ap-demo login`.', details})
  }
  return new RejectedError(e.error ?? 'token_request_refused', `${what} refused by ${target.server.issuer}: ${describeOAuthError(e)}`, {
    hint: e.error === 'invalid_grant' ? 'The code is single-use and short-lived; sign in again.' : '--print-curl shows the request that was sent.',
    details,
  })
}

/** The checked tokens: a non-empty access token of type Bearer (or DPoP), and the rest as given. */
export function tokenSet(processed: oauth.TokenEndpointResponse, endpoint: string): UserTokenSet {
  const type = processed.token_type.toLowerCase()
  if (type !== 'bearer' && type !== 'dpop') {
    throw new CheckFailedError('token_response_invalid', `${endpoint} issued a token of type "${fromServer(processed.token_type, 40)}"; ap-demo uses Bearer tokens`, {hint: 'RFC 6750 Bearer tokens are what MCP servers take.', details: {url: endpoint}})
  }
  const set: UserTokenSet = {accessToken: processed.access_token, tokenType: type === 'dpop' ? 'DPoP' : 'Bearer'}
  if (typeof processed.expires_in === 'number') set.expiresIn = processed.expires_in
  if (typeof processed.refresh_token === 'string' && processed.refresh_token !== '') set.refreshToken = processed.refresh_token
  if (typeof processed.scope === 'string') set.scope = processed.scope
  return set
}
