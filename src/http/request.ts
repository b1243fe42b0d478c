import {httpFetch} from './fetch.js'

// One fetch wrapper for every client-side HTTP call ap-demo makes (admin API, probes): a timeout on
// each request, an observer that sees each request before it is sent (for --print-curl and for
// tests), and network failures turned into one typed error. Below it, httpFetch (fetch.ts) is what
// every client-side request goes through, including those the MCP SDK and oauth4webapi send.

export interface ObservedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
  /** A POST that changes nothing on the server (a probe without credentials): --dry-run sends it. */
  readOnly?: boolean
}

export type RequestObserver = (request: ObservedRequest) => void

export class HttpUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: 'timeout' | 'network',
    message: string,
    options?: {cause?: unknown; code?: string},
  ) {
    super(message, options)
    this.name = 'HttpUnreachableError'
    this.code = options?.code
  }

  /** The system's error code (ECONNREFUSED, ENOTFOUND, ECONNRESET, ...), when there was one. */
  readonly code?: string
}

export interface SendOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  timeoutMs?: number
  observer?: RequestObserver
  /** See ObservedRequest.readOnly. */
  readOnly?: boolean
}

/** Thrown by a dry-run observer: the request was printed, not sent. */
export class DryRunStop extends Error {
  constructor(readonly request: ObservedRequest) {
    super('dry run: request not sent')
    this.name = 'DryRunStop'
  }
}

export async function send(url: string, options: SendOptions = {}): Promise<Response> {
  const method = options.method ?? 'GET'
  const headers = options.headers ?? {}
  const observed: ObservedRequest = {method, url, headers, body: options.body, ...(options.readOnly ? {readOnly: true} : {})}
  // The observer may throw (DryRunStop) to keep the request from being sent.
  options.observer?.(observed)
  const timeoutMs = options.timeoutMs ?? 10_000
  const refused = unsendableHeader(headers)
  if (refused) throw new InvalidRequestError(`cannot send the request to ${new URL(url).origin}: ${refused}`)
  let response: Response
  try {
    response = await httpFetch(url, {method, headers, body: options.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs)})
  } catch (error) {
    const e = error as Error & {cause?: {code?: string; message?: string}}
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new HttpUnreachableError(url, 'timeout', `no answer from ${new URL(url).origin} within ${timeoutMs / 1000} s`, {cause: error})
    }
    if (e.name === 'TypeError' && !e.cause) {
      // fetch refused the request before any network activity. Its message quotes the offending
      // header value, which may be the admin key or a token: never pass it on.
      throw new InvalidRequestError(`cannot send the request to ${new URL(url).origin}: fetch refused it before sending (a header or the URL cannot be sent as given)`)
    }
    const code = e.cause?.code ? ` (${e.cause.code})` : ''
    throw new HttpUnreachableError(url, 'network', `cannot reach ${new URL(url).origin}${code}`, {cause: error, code: e.cause?.code})
  }
  // Never followed: a redirect would carry the admin key or the token to wherever it points.
  if (response.status >= 300 && response.status < 400 && response.status !== 304) {
    void response.body?.cancel().catch(() => {})
    throw new HttpRedirectError(url, response.status, response.headers.get('location'))
  }
  return response
}

/**
 * Why a header cannot be sent, naming the header and never its value (RFC 9110 §5.5: no CR, LF
 * or NUL; fetch also refuses anything above U+00FF and a value with surrounding whitespace trimmed
 * away is not what the user gave).
 */
export function unsendableHeader(headers: Record<string, string>): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `the header name "${name.replace(/[^\x21-\x7e]/g, '?')}" is not a valid token`
    if (/[\r\n]/.test(value)) return `the ${name} header's value contains a line break (CR or LF)`
    if (/\0/.test(value)) return `the ${name} header's value contains a NUL character`
    if (/[^\x00-\xff]/.test(value)) return `the ${name} header's value contains characters outside Latin-1`
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return `the ${name} header's value contains control characters`
  }
  return undefined
}

/** The server answered with a redirect (3xx), which ap-demo does not follow. */
export class HttpRedirectError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    /** The Location header, or null when the server sent none. */
    readonly location: string | null,
  ) {
    super(`${url} answered HTTP ${status}, a redirect${location ? ` to ${safeLocation(location, url)}` : ' without a Location'}`)
    this.name = 'HttpRedirectError'
  }
}

/** The Location as a URL resolved against the request, without userinfo (a server could put anything there). */
function safeLocation(location: string, base: string): string {
  try {
    const u = new URL(location, base)
    u.username = ''
    u.password = ''
    return u.href
  } catch {
    return JSON.stringify(location.slice(0, 200))
  }
}

/** A request that cannot be sent as given (e.g. a key with a newline or non-Latin-1 characters). */
export class InvalidRequestError extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'InvalidRequestError'
  }
}

/** The body, read under the same timeout: a server that sends headers and then stalls is a timeout, not a crash. */
export async function readText(response: Response, url = response.url): Promise<string> {
  try {
    return await response.text()
  } catch (error) {
    const e = error as Error
    const timeout = e.name === 'TimeoutError' || e.name === 'AbortError'
    throw new HttpUnreachableError(url, timeout ? 'timeout' : 'network', `${timeout ? 'the answer from' : 'lost the connection to'} ${new URL(url).origin} ${timeout ? 'did not finish in time' : 'while reading the answer'}`, {cause: error})
  }
}

/** Reads a JSON body if there is one; undefined for an empty or non-JSON body. */
export async function readJson(response: Response): Promise<unknown> {
  const text = await readText(response)
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
