// Text an authorization server chose (an error_description, a page title) reaches the terminal
// only through this one function: control characters and anything unprintable become `?`, and a
// long text is cut, so that a server cannot move the cursor, recolour the terminal or flood it.
// Issue 19 brings one escaping rule for the whole CLI; this is the single place to swap for it.

/** `text` as it may be shown in an error line or a step: visible characters only, at most `max`. */
export function fromServer(text: string, max = 300): string {
  const visible = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?').trim()
  return visible.length > max ? `${visible.slice(0, max)}…` : visible
}
