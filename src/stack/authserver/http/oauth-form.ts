// The parameters and client credentials of the OAuth endpoints (token, introspection,
// revocation), read the way the real server reads them.
import type {IncomingMessage} from 'node:http'
import {BodyTooLargeError, readBody} from './body.js'
import {formDecode, mediaType, parseForm} from './form.js'
import {invalidRequest} from './oauth-error.js'

const TOKEN_BODY_LIMIT = 64 * 1024
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/

export function first(form: Map<string, string[]>, name: string): string | undefined {
  return form.get(name)?.[0]
}

/**
 * The request's parameters as Go's `r.ParseForm()` + `r.FormValue()` see them in the real
 * server: the body counts only when it is application/x-www-form-urlencoded (any other or no
 * content type leaves it unread, without an error); the URL query is merged after the body, so a
 * body value wins; a malformed or oversized (> 64 KiB) body is 400 "invalid form body".
 */
export async function readOAuthForm(req: IncomingMessage): Promise<Map<string, string[]>> {
  const form = new Map<string, string[]>()
  if (mediaType(req.headers['content-type']) === 'application/x-www-form-urlencoded') {
    let raw: Buffer
    try {
      raw = await readBody(req, TOKEN_BODY_LIMIT)
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw invalidRequest('invalid form body')
      throw err
    }
    const body = parseForm(raw.toString('utf8'))
    if (body === undefined) throw invalidRequest('invalid form body')
    for (const [k, v] of body) form.set(k, [...v])
  } else {
    req.resume()
  }
  const url = req.url ?? ''
  const q = url.indexOf('?')
  if (q !== -1) {
    const query = parseForm(url.slice(q + 1))
    if (query === undefined) throw invalidRequest('invalid form body')
    for (const [k, v] of query) form.set(k, [...(form.get(k) ?? []), ...v])
  }
  return form
}

/**
 * The client's credentials as the real server extracts them (api/public/oauth/handlers.go
 * ExtractClientAuth): an `Authorization: Basic` header that decodes to `id:secret` wins (each
 * half form-unescaped, `+` is a space; a bad escape yields no credentials at all); otherwise the
 * `client_id`/`client_secret` form parameters.
 */
export function extractClientAuth(req: IncomingMessage, form: Map<string, string[]>): {id: string; secret: string} {
  const auth = req.headers.authorization
  if (auth !== undefined && auth.startsWith('Basic ')) {
    const b64 = auth.slice(6)
    // Go's StdEncoding is strict: padded, canonical alphabet.
    if (b64.length % 4 === 0 && BASE64_RE.test(b64)) {
      const decoded = Buffer.from(b64, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon !== -1) {
        try {
          return {id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1))}
        } catch {
          return {id: '', secret: ''}
        }
      }
    }
  }
  return {id: first(form, 'client_id') ?? '', secret: first(form, 'client_secret') ?? ''}
}
