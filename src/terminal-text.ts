// The one rule for text from outside ap-demo (a server's answer, a tool's result, a file, a typed
// argument echoed back) on its way to a terminal. A terminal obeys control characters: ESC starts
// CSI sequences (clear the screen, move the cursor, recolour, hide text) and OSC sequences (set the
// window title, write the clipboard with OSC 52, make links), BEL ends an OSC, CR overwrites the
// line, and C1 code points (U+0080-U+009F) are single-character CSI/OSC on many terminals. So every
// one of them is shown as a visible escape (`\x1b]0;title\x07` prints those 14 characters), never
// stripped in silence: the user sees that the server sent something odd. Unicode bidi controls and
// the line/paragraph separators (which reorder or break what is shown, "Trojan Source") are shown
// the same way. --json needs none of this: JSON escapes every control character itself.
//
// Styling is ap-demo's own (chalk) and is applied after this rule, to text that already passed it.

/** C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F), U+2028/U+2029, and the bidi embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
/** The same, less newline and tab: the layout of a multi-line text (a tool's result) is kept. */
const UNSAFE_IN_BLOCK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

function visible(c: string): string {
  const code = c.charCodeAt(0)
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
}

/** One line of outside text: every control character escaped, newlines and tabs too. */
export function terminalLine(text: string): string {
  return text.replace(UNSAFE, visible)
}

/** Outside text of several lines: newlines and tabs kept, every other control character escaped. */
export function terminalBlock(text: string): string {
  return text.replace(UNSAFE_IN_BLOCK, visible)
}

/**
 * JSON text for a terminal: JSON escapes C0 itself, but leaves DEL, C1 and the bidi controls raw;
 * they become \\u escapes, so the document still parses to exactly the same strings.
 */
export function terminalJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Whether the text holds anything the rule would escape (for tests and for a warning). */
export function hasTerminalControls(text: string): boolean {
  return new RegExp(UNSAFE.source).test(text)
}

/**
 * A result object with every string in it (values and keys, however deep) passed through
 * terminalLine: what a renderer does first, so that no field can be forgotten. Numbers, booleans
 * and null are kept; the input is not changed.
 */
export function terminalSafe<T>(value: T): T {
  if (typeof value === 'string') return terminalLine(value) as T
  if (Array.isArray(value)) return value.map((item) => terminalSafe(item)) as T
  if (typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[terminalLine(k)] = terminalSafe(v)
    return out as T
  }
  return value
}
