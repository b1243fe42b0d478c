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
  return undefined
}

/** The value, or a usage error (exit 2) naming the flag, where the value came from, and an example. */
export function requireAbsoluteUrl(value: string, flag: string, from?: string): string {
  const problem = absoluteUrlProblem(value)
  if (problem) throw inputError(`${flag} "${value}" is not usable: ${problem}${from ? ` (from ${from})` : ''}`, `Example: ${flag} http://localhost:${flag === '--admin-url' ? '9001' : flag === '--issuer' ? '9000' : '8080/mcp'}`)
  return value
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
