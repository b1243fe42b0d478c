import {STATUS_CODES, type IncomingMessage, type ServerResponse} from 'node:http'

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

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`)
  }
}

/**
 * Reads the whole request body, rejecting as soon as it passes `limit`. After a rejection the
 * rest of the body keeps flowing into the void so the keep-alive connection stays usable for the
 * next request; a client that keeps sending far past the limit is cut off.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (settled) {
        if (size > limit * 16) req.destroy()
        return
      }
      if (size > limit) {
        settled = true
        chunks.length = 0
        reject(new BodyTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (settled) return
      settled = true
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    })
    req.on('error', (err) => {
      if (settled) return
      settled = true
      reject(err)
    })
    req.on('close', () => {
      if (settled) return
      settled = true
      reject(new Error('request aborted'))
    })
  })
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

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(header: string | undefined): string {
  if (header === undefined) return ''
  const semi = header.indexOf(';')
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase()
}

/** `+` is a space in application/x-www-form-urlencoded, then percent-decoding; throws URIError on a bad escape. */
export function formDecode(s: string): string {
  return decodeURIComponent(s.includes('+') ? s.replace(/\+/g, ' ') : s)
}

/**
 * Strict application/x-www-form-urlencoded parser. URLSearchParams silently keeps malformed
 * escapes like `%zz`; the real server (Go's url.ParseQuery) rejects them as invalid_request, so
 * this returns undefined instead. Repeated names keep every value in order (RFC 8707 allows
 * several `resource` parameters).
 */
export function parseForm(body: string): Map<string, string[]> | undefined {
  const form = new Map<string, string[]>()
  if (body.length === 0) return form
  for (const pair of body.split('&')) {
    if (pair.length === 0) continue
    const eq = pair.indexOf('=')
    let name: string
    let value: string
    try {
      name = formDecode(eq === -1 ? pair : pair.slice(0, eq))
      value = eq === -1 ? '' : formDecode(pair.slice(eq + 1))
    } catch {
      return undefined
    }
    const list = form.get(name)
    if (list === undefined) form.set(name, [value])
    else list.push(value)
  }
  return form
}

/** The path part of a request target, without the query. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** Host part for a URL: IPv6 literals must be bracketed (RFC 3986 §3.2.2). */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/**
 * Parses the first JSON value of `text` the way Go's `json.NewDecoder(r).Decode(&v)` does: leading
 * whitespace is skipped, anything after the first complete value is left unread (so `{} trailing`
 * decodes), and an empty body is an error. Throws SyntaxError when there is no valid first value.
 */
export function decodeFirstJson(text: string): unknown {
  let i = 0
  while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++
  if (i === text.length) throw new SyntaxError('unexpected end of JSON input')
  const start = i
  const c = text[i]!
  if (c === '{' || c === '[') {
    let depth = 0
    let inString = false
    for (; i < text.length; i++) {
      const ch = text[i]!
      if (inString) {
        if (ch === '\\') i++
        else if (ch === '"') inString = false
      } else if (ch === '"') inString = true
      else if (ch === '{' || ch === '[') depth++
      else if (ch === '}' || ch === ']') {
        depth--
        if (depth === 0) return JSON.parse(text.slice(start, i + 1))
      }
    }
    throw new SyntaxError('unexpected end of JSON input')
  }
  if (c === '"') {
    for (i++; i < text.length; i++) {
      if (text[i] === '\\') i++
      else if (text[i] === '"') return JSON.parse(text.slice(start, i + 1))
    }
    throw new SyntaxError('unexpected end of JSON input')
  }
  const m = /^[^\s{}[\],:"]+/.exec(text.slice(start))
  return JSON.parse(m === null ? text.slice(start) : m[0])
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

/**
 * A JSON request body as Go's `json.NewDecoder(http.MaxBytesReader(limit)).Decode(&req)` sees it
 * in the admin handlers: the first JSON value (trailing bytes unread), `null` for a JSON null, and
 * a 400 "invalid JSON body" problem for anything else, including a body over the limit and a
 * value that is not an object.
 */
export async function readGoJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown> | null> {
  let parsed: unknown
  try {
    parsed = decodeFirstJson((await readBody(req, limit)).toString('utf8'))
  } catch {
    throw new ProblemError(400, 'invalid JSON body')
  }
  if (parsed === null) return null
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ProblemError(400, 'invalid JSON body')
  return parsed as Record<string, unknown>
}
