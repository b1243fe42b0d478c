import {inputError} from '../errors.js'

// URL rules shared by every place that takes a URL from the user (flags, env, wizard answers).

/** Contract §2: an absolute http(s) URL with a host. Returns a reason when it is not. */
export function absoluteUrlProblem(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'it is not an absolute URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `its scheme is ${url.protocol.replace(':', '')}, not http or https`
  if (!url.hostname) return 'it has no host'
  // Credentials in a URL end up in logs, curl lines and Referer headers; fetch refuses them anyway.
  if (url.username !== '' || url.password !== '') return 'it carries credentials (user:password@); give the admin key or the client secret on their own'
  return undefined
}

/**
 * RFC 8707 §2: a resource indicator is an absolute URI without a fragment (and, being the audience
 * of every token, it must compare byte for byte: no credentials in it either).
 */
export function resourceUriProblem(value: string): string | undefined {
  const problem = absoluteUrlProblem(value)
  if (problem) return problem
  if (value.includes('#')) return 'it has a fragment ("#..."), which RFC 8707 §2 forbids in a resource'
  return undefined
}

/** The value, or a usage error (exit 2) naming the flag, where the value came from, and an example. */
export function requireAbsoluteUrl(value: string, flag: string, from?: string, kind: 'url' | 'resource' = flag === '--resource' || flag === '--uri' ? 'resource' : 'url'): string {
  const problem = kind === 'resource' ? resourceUriProblem(value) : absoluteUrlProblem(value)
  if (problem) throw inputError(`${flag} "${shownUrl(value)}" is not usable: ${problem}${from ? ` (from ${from})` : ''}`, `Example: ${flag} http://localhost:${flag === '--admin-url' ? '9001' : flag === '--issuer' ? '9000' : '8080/mcp'}`)
  return value
}

/** The URL for an error line: a password in it is masked, anything unprintable shown as `?`. */
function shownUrl(value: string): string {
  let shown = value
  try {
    const url = new URL(value)
    if (url.password !== '') shown = value.replace(`:${url.password}@`, ':***@')
  } catch {
    // not a URL: shown as given
  }
  return shown.replace(/[^\x20-\x7e]/g, '?')
}

/** URLs as the servers see them: `http://h:1/` and `http://h:1` name the same admin API. */
export function sameBaseUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      return new URL(u).href.replace(/\/+$/, '')
    } catch {
      return u.replace(/\/+$/, '')
    }
  }
  return norm(a) === norm(b)
}
