import assert from 'node:assert/strict'
import {startAuthServer} from '../../../src/stack/authserver/index.js'
import type {AuthServerHandle, AuthServerOptions} from '../../../src/stack/types.js'

export const ADMIN_KEY = 'test-admin-key-0123456789'
export const RESOURCE_URI = 'http://localhost:8080/mcp'
export const FORM = 'application/x-www-form-urlencoded'

export function start(extra: Partial<AuthServerOptions> = {}): Promise<AuthServerHandle> {
  return startAuthServer({host: '127.0.0.1', port: 0, adminPort: 0, adminKey: ADMIN_KEY, ...extra})
}

export interface JsonResponse {
  status: number
  headers: Headers
  body: any
  text: string
}

async function toJson(res: Response): Promise<JsonResponse> {
  const text = await res.text()
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  return {status: res.status, headers: res.headers, body, text}
}

export async function admin(h: AuthServerHandle, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const init: RequestInit = {method, headers: {authorization: `Bearer ${ADMIN_KEY}`, ...headers}}
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
  }
  return toJson(await fetch(h.adminUrl + path, init))
}

export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return toJson(await fetch(url, {method: 'POST', headers: {'content-type': FORM, ...headers}, body}))
}

export function basic(id: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')
}

export function form(params: Record<string, string | string[]>): string {
  const f = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) f.append(k, x)
  return f.toString()
}

export async function token(h: AuthServerHandle, client: {client_id: string; client_secret: string}, params: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return post(`${h.publicUrl}/oauth/token`, form({grant_type: 'client_credentials', ...params}), {authorization: basic(client.client_id, client.client_secret), ...headers})
}

let slugCounter = 0

export async function createResource(h: AuthServerHandle, fields: Record<string, unknown> = {}): Promise<any> {
  const r = await admin(h, 'POST', '/admin/resources', {slug: `res-${++slugCounter}-${Date.now()}`, uri: RESOURCE_URI, backend_kind: 'mint', scopes: [{name: 'mcp:echo', description: 'echo tool'}], ...fields})
  assert.equal(r.status, 201, r.text)
  return r.body
}

export async function createClient(h: AuthServerHandle, fields: Record<string, unknown> = {}): Promise<any> {
  const r = await admin(h, 'POST', '/admin/clients', {client_name: 'demo-agent-ts', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:echo', ...fields})
  assert.equal(r.status, 201, r.text)
  return r.body
}

export function decodeJwt(jwt: string): {header: any; payload: any} {
  const [h, p] = jwt.split('.') as [string, string]
  return {header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString())}
}

/** Asserts an admin problem+json error. */
export function assertProblem(r: JsonResponse, status: number, detail: string | RegExp): void {
  assert.equal(r.status, status, r.text)
  assert.equal(r.headers.get('content-type'), 'application/problem+json')
  assert.deepEqual(Object.keys(r.body).sort(), ['detail', 'status', 'title', 'type'])
  assert.equal(r.body.type, 'about:blank')
  assert.equal(r.body.status, status)
  assert.equal(typeof r.body.title, 'string')
  if (typeof detail === 'string') assert.equal(r.body.detail, detail)
  else assert.match(r.body.detail, detail)
}

/** Asserts a token-endpoint OAuth error in the real server's problem+json wrapping. */
export function assertOAuthError(r: JsonResponse, status: number, error: string, description?: string | RegExp): void {
  assert.equal(r.status, status, r.text)
  assert.equal(r.headers.get('content-type'), 'application/problem+json')
  // The real server's WriteOAuthError sets no Cache-Control or Pragma on errors.
  assert.equal(r.headers.get('cache-control'), null)
  assert.equal(r.headers.get('pragma'), null)
  assert.deepEqual(Object.keys(r.body).sort(), ['detail', 'error', 'error_description', 'status', 'title', 'type'])
  assert.equal(r.body.error, error)
  assert.equal(r.body.type, `https://docs.authplane.ai/errors/${error}`)
  assert.equal(r.body.status, status)
  assert.equal(r.body.detail, r.body.error_description)
  if (status === 401) assert.equal(r.headers.get('www-authenticate'), 'Basic realm="authserver"')
  if (typeof description === 'string') assert.equal(r.body.error_description, description)
  else if (description !== undefined) assert.match(r.body.error_description, description)
}

/**
 * Asserts that a server refuses to start with an error matching `expected`. Should it start
 * anyway (the check under test is broken), it is stopped first, so the failure is reported
 * instead of an open listener keeping the test process alive.
 */
export async function assertRefusedAtStart(starting: Promise<{stop(): Promise<void>}>, expected: RegExp | ((err: Error) => boolean)): Promise<void> {
  let started: {stop(): Promise<void>} | undefined
  try {
    started = await starting
  } catch (err) {
    if (expected instanceof RegExp) assert.match((err as Error).message, expected)
    else assert.ok(expected(err as Error), `unexpected error: ${(err as Error).message}`)
    return
  }
  await started.stop()
  assert.fail(`started although it should have refused (${String(expected)})`)
}
