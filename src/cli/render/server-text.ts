// Text that came from a server (a challenge, an error_description, a tool's name or answer) on its
// way to a terminal. A terminal obeys what is in it: ESC starts sequences that recolour, move the
// cursor or retitle the window, CR overwrites the line, C1 and bidi controls do the same or
// reorder what is read. Each such character is shown as a visible escape instead.
//
// Issue 19 brings the project's one rule for this (src/cli/terminal-text.ts, terminalLine): this
// helper has that role until then, and is meant to be replaced by it when both are merged.

const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** One line of server text, every control character shown as `\xNN` or `\uNNNN`. */
export function serverText(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
