// Preloaded with `node --import` into a client we do not control (the MCP SDK's example), this
// records every HTTP exchange that client makes through fetch, one JSON line per exchange, into
// the file named by AP_DEMO_TAP_LOG. It observes only: requests and responses pass unchanged.
// No secret is written: of Authorization only the scheme is kept, client_secret values are
// masked, and of an access token only its decoded claims are kept, never the token.
import {appendFileSync} from 'node:fs'

const LOG = process.env.AP_DEMO_TAP_LOG
const SECRET_PARAMS = new Set(['client_secret', 'client_assertion', 'refresh_token', 'code', 'code_verifier'])

function formParams(body) {
  const text = body instanceof URLSearchParams ? body.toString() : typeof body === 'string' ? body : undefined
  if (text === undefined) return undefined
  const params = {}
  for (const [name, value] of new URLSearchParams(text)) {
    const shown = SECRET_PARAMS.has(name) ? '(masked)' : value
    params[name] = name in params ? [].concat(params[name], shown) : shown
  }
  return params
}

function jsonRpcMethods(body) {
  if (typeof body !== 'string') return undefined
  try {
    const parsed = JSON.parse(body)
    return (Array.isArray(parsed) ? parsed : [parsed]).map((m) => m?.method ?? (m?.result !== undefined ? 'result' : 'error'))
  } catch {
    return undefined
  }
}

function claimsOf(jwt) {
  try {
    const {iss, sub, aud, client_id, scope, exp, iat} = JSON.parse(Buffer.from(String(jwt).split('.')[1], 'base64url').toString('utf8'))
    return {iss, sub, aud, client_id, scope, exp, iat}
  } catch {
    return {unreadable: true}
  }
}

if (LOG && typeof globalThis.fetch === 'function') {
  const realFetch = globalThis.fetch
  globalThis.fetch = async function tappedFetch(input, init = {}) {
    const request = input instanceof Request ? input : undefined
    const url = String(request?.url ?? input)
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase()
    const headers = new Headers(init.headers ?? request?.headers)
    const contentType = headers.get('content-type') ?? ''
    const entry = {
      method,
      url,
      authorization: headers.get('authorization')?.split(' ')[0],
      mcpSessionId: headers.has('mcp-session-id'),
    }
    if (contentType.startsWith('application/x-www-form-urlencoded')) entry.form = formParams(init.body)
    else if (method === 'POST') entry.jsonrpc = jsonRpcMethods(init.body)
    let response
    try {
      response = await realFetch(input, init)
    } catch (error) {
      appendFileSync(LOG, `${JSON.stringify({...entry, error: String(error?.message ?? error)})}\n`, {mode: 0o600})
      throw error
    }
    entry.status = response.status
    entry.wwwAuthenticate = response.headers.get('www-authenticate') ?? undefined
    if (entry.form?.grant_type !== undefined && response.ok) {
      try {
        const body = await response.clone().json()
        entry.tokenResponse = {token_type: body.token_type, expires_in: body.expires_in, scope: body.scope, claims: claimsOf(body.access_token)}
      } catch {
        entry.tokenResponse = {unreadable: true}
      }
    }
    if (new URL(url).pathname.startsWith('/.well-known/') && response.ok) {
      // Metadata documents are public; keep the fields a client's decisions depend on.
      try {
        const {issuer, resource, authorization_servers, scopes_supported, token_endpoint} = await response.clone().json()
        entry.document = {issuer, resource, authorization_servers, scopes_supported, token_endpoint}
      } catch {
        entry.document = {unreadable: true}
      }
    }
    appendFileSync(LOG, `${JSON.stringify(entry)}\n`, {mode: 0o600})
    return response
  }
}
