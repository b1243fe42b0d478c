// The request line and query: paths, media types and application/x-www-form-urlencoded as Go parses them.

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

