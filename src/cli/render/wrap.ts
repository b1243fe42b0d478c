/**
 * Words into lines of at most `width` columns, each starting with `indent` (the first with
 * `first`, when given). With `split`, a word longer than a line (a URL, a claim) is cut across
 * lines instead of overflowing; without it (help, whose long words are URLs to copy) it overflows.
 */
export function wrapText(text: string, width: number, indent: string, options: {first?: string; split?: boolean} = {}): string[] {
  const lines: string[] = []
  let prefix = options.first ?? indent
  let line = ''
  const room = () => Math.max(1, width - prefix.length)
  const flush = () => {
    lines.push(prefix + line)
    prefix = indent
    line = ''
  }
  for (let word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room()) flush()
    while (options.split && !line && word.length > room()) {
      line = word.slice(0, room())
      word = word.slice(line.length)
      flush()
    }
    if (word) line = line ? `${line} ${word}` : word
  }
  if (line) flush()
  return lines
}
