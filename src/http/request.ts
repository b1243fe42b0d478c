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
}

export type RequestObserver = (request: ObservedRequest) => void

export class HttpUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: 'timeout' | 'network',
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = 'HttpUnreachableError'
  }
}

export interface SendOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  timeoutMs?: number
  observer?: RequestObserver
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
  const observed: ObservedRequest = {method, url, headers, body: options.body}
  // The observer may throw (DryRunStop) to keep the request from being sent.
  options.observer?.(observed)
  const timeoutMs = options.timeoutMs ?? 10_000
  try {
    return await httpFetch(url, {method, headers, body: options.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs)})
  } catch (error) {
    const e = error as Error & {cause?: {code?: string; message?: string}}
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new HttpUnreachableError(url, 'timeout', `no answer from ${new URL(url).origin} within ${timeoutMs / 1000} s`, {cause: error})
    }
    if (e.name === 'TypeError' && !e.cause) {
      // fetch refuses the request before any network activity: a header value it cannot send.
      throw new InvalidRequestError(`cannot send the request to ${new URL(url).origin}: ${e.message}`, {cause: error})
    }
    const code = e.cause?.code ? ` (${e.cause.code})` : ''
    throw new HttpUnreachableError(url, 'network', `cannot reach ${new URL(url).origin}${code}`, {cause: error})
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
