// Text an authorization server chose (an error_description, a page title) on its way into an error
// line or a step: the CLI's one terminal rule (src/terminal-text.ts: every control character shown
// as a visible escape), and a long text cut, so that a server can neither drive the terminal nor
// flood it.
import {terminalLine} from '../terminal-text.js'

/** `text` as it may be shown in an error line or a step: control characters escaped, at most `max` characters. */
export function fromServer(text: string, max = 300): string {
  const visible = terminalLine(text.trim())
  return visible.length > max ? `${visible.slice(0, max)}…` : visible
}
