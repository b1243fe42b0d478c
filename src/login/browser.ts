// Opening the authorization URL in the user's browser: the command in $BROWSER when it is set
// (as git, gh and Python's webbrowser read it; `%s` stands for the URL, else the URL is the last
// argument), else the platform's opener. Where no browser can be shown (an SSH session, a machine
// without a display, CI) nothing is started: the URL is printed for the user to open elsewhere.
import {spawn} from 'node:child_process'

export type BrowserVerdict = {opened: true; how: string} | {opened: false; why: string}

/** Why no browser should be started here, or undefined when one may be. */
export function noBrowserReason(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  if (env.BROWSER) return undefined
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return 'CI is set'
  if (env.SSH_CONNECTION || env.SSH_TTY) return 'this is an SSH session'
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)'
  return undefined
}

/** The command line that opens `url`: $BROWSER, or the platform's opener. */
export function openerCommand(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): {command: string; args: string[]} {
  const custom = env.BROWSER?.trim()
  if (custom) {
    // Several commands may be listed, separated by ':' (Python's convention); the first is used.
    const words = custom.split(':')[0]!.trim().split(/\s+/)
    const args = words.slice(1)
    if (args.some((a) => a.includes('%s'))) return {command: words[0]!, args: args.map((a) => a.replaceAll('%s', url))}
    return {command: words[0]!, args: [...args, url]}
  }
  if (platform === 'darwin') return {command: 'open', args: [url]}
  // rundll32 takes the URL as one argument; `cmd /c start` would read the & in it as a command separator.
  if (platform === 'win32') return {command: 'rundll32', args: ['url.dll,FileProtocolHandler', url]}
  return {command: 'xdg-open', args: [url]}
}

/**
 * Starts the browser on `url` and returns once the opener has started (or failed to). The opener
 * is left to itself: a browser may outlive ap-demo, and its output is not ours to show.
 */
export async function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<BrowserVerdict> {
  const reason = noBrowserReason(env)
  if (reason) return {opened: false, why: reason}
  const {command, args} = openerCommand(url, env)
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(command, args, {stdio: 'ignore', detached: true, env})
    } catch (error) {
      resolve({opened: false, why: `${command} could not be started (${(error as Error).message})`})
      return
    }
    child.once('error', (error: NodeJS.ErrnoException) => resolve({opened: false, why: `${command} could not be started (${error.code ?? error.message})`}))
    child.once('spawn', () => {
      child.unref()
      resolve({opened: true, how: env.BROWSER ? `$BROWSER (${command})` : command})
    })
  })
}
