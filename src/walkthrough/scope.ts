// One scope rule for clients and resources: RFC 6749 §3.3, as the token endpoint and every
// resource server apply it. A ceiling or a scope name the server would store but never grant is
// refused up front.

/** RFC 6749 §3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E (no space, `"` or `\`). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** Why `token` is not a scope token, or undefined when it is. */
export function scopeTokenProblem(token: string): string | undefined {
  if (token === '') return 'it is empty'
  if (SCOPE_TOKEN.test(token)) return undefined
  const bad = [...token].find((c) => !SCOPE_TOKEN.test(c)) ?? ''
  const shown = /^[\x21-\x7e]$/.test(bad) ? `"${bad}"` : `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
  return `it contains ${shown}, which RFC 6749 §3.3 does not allow in a scope (visible ASCII except " and \\)`
}

/**
 * A space-separated scope list (a client's ceiling): the tokens, or the first problem. Runs of
 * spaces are tolerated and normalised; tabs, quotes, backslashes and non-ASCII are not.
 */
export function parseScopeList(value: string): {tokens: string[]; problem?: undefined} | {tokens?: undefined; problem: string} {
  const tokens = value.split(' ').filter((t) => t !== '')
  for (const token of tokens) {
    const problem = scopeTokenProblem(token)
    if (problem) return {problem: `scope "${printable(token)}": ${problem}`}
  }
  return {tokens}
}

/** The value with anything but visible ASCII shown as `?`, for an error line. */
export function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?')
}
