// HTTP answers as the real server (Go's net/http and encoding/json) writes them: the plain send,
// JSON like json.Encoder, RFC 9457 problem+json for the admin API, and Go's ServeMux 404/405.
import {STATUS_CODES, type ServerResponse} from 'node:http'

export type Headers = Record<string, string>

/** An admin-API failure, rendered as RFC 9457 problem+json with `type: about:blank`. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Headers = {},
  ) {
    super(detail)
  }
}

export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown'
}

export function send(res: ServerResponse, status: number, contentType: string | undefined, body: string, headers: Headers = {}): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const h: Record<string, string | number> = {...headers}
  if (contentType !== undefined) h['Content-Type'] = contentType
  h['Content-Length'] = Buffer.byteLength(body)
  res.writeHead(status, h)
  res.end(body)
}

const GO_ESCAPES: Record<string, string> = {'<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029'}

/**
 * JSON as Go's `json.NewEncoder(w).Encode(v)` writes it, which is how every JSON body of the real
 * server is produced: `<`, `>`, `&`, U+2028 and U+2029 escaped (they can only occur inside
 * strings), and a trailing newline.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!) + '\n'
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  send(res, status, 'application/json', goJson(body), headers)
}

export function sendNoContent(res: ServerResponse, status = 204, headers: Headers = {}): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(status, headers)
  res.end()
}

export function sendProblem(res: ServerResponse, status: number, detail: string, headers: Headers = {}): void {
  send(res, status, 'application/problem+json', goJson({type: 'about:blank', title: statusText(status), status, detail}), headers)
}

const TEXT_PLAIN: Headers = {'X-Content-Type-Options': 'nosniff'}

/** Go's ServeMux answer for a path no route matches: 404 `404 page not found` in text/plain. */
export function sendGoNotFound(res: ServerResponse): void {
  send(res, 404, 'text/plain; charset=utf-8', '404 page not found\n', TEXT_PLAIN)
}

/**
 * Go's ServeMux answer when the path matches but the method does not: 405 in text/plain with an
 * `Allow` header listing the route's methods, sorted (a GET route also serves HEAD).
 */
export function sendGoMethodNotAllowed(res: ServerResponse, methods: readonly string[]): void {
  const allow = new Set(methods)
  if (allow.has('GET')) allow.add('HEAD')
  send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', {...TEXT_PLAIN, Allow: [...allow].sort().join(', ')})
}

/** Does `method` match a Go route registered for `methods`? (GET routes answer HEAD too.) */
export function methodMatches(method: string, methods: readonly string[]): boolean {
  return methods.includes(method) || (method === 'HEAD' && methods.includes('GET'))
}

