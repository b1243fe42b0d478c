import chalk from 'chalk'

import type {BrowserOptions} from '../walkthrough/login.js'

export interface BrowserFlags {
  'no-browser'?: boolean
  'callback-port'?: number
  'login-timeout'?: number
}

/**
 * How a sign-in reaches the user, from --no-browser, --callback-port and --login-timeout. The
 * address to open goes to stderr even under --json: without it, nobody could sign in.
 */
export function browserOptions(flags: BrowserFlags, progress: {note: (m: string) => void}): BrowserOptions {
  const noBrowser = Boolean(flags['no-browser'])
  const timeoutSeconds = flags['login-timeout'] ?? 300
  const options: BrowserOptions = {
    noBrowser,
    timeoutMs: timeoutSeconds * 1000,
    onAuthorizationUrl: (url, browser) => {
      const how = browser.opened ? `Opened ${browser.how} to sign in. If nothing opened, visit:` : `Open this address in a browser to sign in (${browser.why === '--no-browser' ? 'no browser started: --no-browser' : `no browser started: ${browser.why}`}):`
      process.stderr.write(`${how}\n  ${url}\n`)
      const paste = options.paste ? ' (or paste here the address the browser ends on)' : ''
      progress.note(chalk.dim(`waiting up to ${timeoutSeconds} s for the sign-in${paste}; Ctrl-C stops`))
    },
  }
  if (flags['callback-port'] !== undefined) options.callbackPort = flags['callback-port']
  // Over SSH the browser's redirect cannot reach this machine: its address can be pasted instead.
  if (noBrowser && process.stdin.isTTY) options.paste = process.stdin
  return options
}
