// Reading what an authorization server answers to the user flow's requests (registration, code
// exchange, refresh, revocation). oauth4webapi processes the successful answers; an error answer
// is read here first, because Authplane sends `application/problem+json` (contract §3), which
// oauth4webapi's error parsing does not take, and because a 401 carries `WWW-Authenticate: Basic`,
// which it would report as a challenge instead of the OAuth error in the body.
import {UnreachableError} from '../errors.js'
import {httpFetch} from '../http/fetch.js'
import type {RequestObserver} from '../http/request.js'
import {fromServer} from './server-text.js'

export interface OAuthErrorBody {
  status: number
  /** RFC 6749 §5.2 `error`, when the body has one. */
  error?: string
  /** `error_description`, else problem+json `detail`, made safe for a terminal. */
  description?: string
}

/** The OAuth error of a non-success answer (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 7009 §2.2.1). */
export function oauthError(status: number, text: string): OAuthErrorBody {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return {status}
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {status}
  const b = body as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  const error = str(b.error)
  const description = str(b.error_description) ?? str(b.detail)
  return {status, ...(error ? {error: fromServer(error, 80)} : {}), ...(description ? {description: fromServer(description)} : {})}
}

/** "invalid_grant (code expired)", or "HTTP 500" when the body says nothing. */
export function describeOAuthError(e: OAuthErrorBody): string {
  if (!e.error) return `HTTP ${e.status}${e.description ? `: ${e.description}` : ''}`
  return `${e.error}${e.description ? ` (${e.description})` : ''}`
}

/** A copy of a JSON body as a fresh Response, for oauth4webapi's process*Response functions. */
export function jsonResponse(text: string, status = 200): Response {
  return new Response(text, {status, headers: {'content-type': 'application/json'}})
}

/**
 * The `customFetch` handed to oauth4webapi: every request goes through httpFetch (recorded for
 * --har and diagrams) and is shown to the --print-curl observer first; redirects are never followed.
 */
export function clientFetch(observer: RequestObserver | undefined) {
  return async (url: string, init: {method: string; headers: Record<string, string>; body?: unknown; redirect?: RequestRedirect; signal?: AbortSignal}): Promise<Response> => {
    const body = init.body instanceof URLSearchParams ? init.body.toString() : (init.body as string | undefined)
    observer?.({method: init.method, url, headers: {...init.headers}, ...(body === undefined ? {} : {body})})
    const request: RequestInit = {method: init.method, headers: init.headers, redirect: 'manual'}
    if (body !== undefined) request.body = body
    if (init.signal !== undefined) request.signal = init.signal
    return httpFetch(url, request)
  }
}

/**
 * Runs one request of the flow under its timeout, turning a failure to get any answer into an
 * UnreachableError naming the endpoint (errors of our own making pass through as they are).
 */
export async function reaching<T>(what: string, url: string, timeoutMs: number, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await request(AbortSignal.timeout(timeoutMs))
  } catch (error) {
    const e = error as Error & {cause?: {code?: string}}
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      throw new UnreachableError('timeout', `${what}: no answer from ${new URL(url).origin} within ${timeoutMs / 1000} s`, {hint: 'Is the authorization server up? --request-timeout waits longer.', details: {url}, cause: error})
    }
    if (e?.name === 'TypeError' && e.cause !== undefined) {
      throw new UnreachableError('unreachable', `${what}: cannot reach ${new URL(url).origin}${e.cause.code ? ` (${e.cause.code})` : ''}`, {hint: 'Is the authorization server up, and is its URL right?', details: {url}, cause: error})
    }
    throw error
  }
}
