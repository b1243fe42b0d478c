/** The scope tokens of a space-separated scope string (RFC 6749 §3.3), de-duplicated, in order. */
export function words(s: string): string[] {
  return [...new Set(s.split(' ').filter((w) => w !== ''))]
}
