import type {Hook} from '@oclif/core'

import {CliError} from '../error-map.js'
import {ExitCode} from '../exit-codes.js'

/** Levenshtein distance: how many edits turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = current
  }
  return previous[b.length]!
}

/** The command closest to what was typed, when it is close enough to be a typo. */
export function closestCommand(typed: string, ids: string[]): string | undefined {
  let best: {id: string; distance: number} | undefined
  for (const id of ids) {
    const distance = editDistance(typed, id)
    if (!best || distance < best.distance) best = {id, distance}
  }
  return best && best.distance <= Math.max(2, Math.floor(typed.length / 3)) ? best.id : undefined
}

/**
 * An unknown command: one line with the closest command, on any stdout (a terminal or not,
 * unlike @oclif/plugin-not-found, which asks on a terminal and says "a ap-demo"), exit 127.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const typed = options.id.replaceAll(':', ' ')
  const ids = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
  const suggestion = closestCommand(typed, ids)
  const error = new CliError('unknown_command', `"${typed}" is not an ${options.config.bin} command${suggestion ? `. Did you mean ${suggestion}?` : ''}`, {
    exitCode: ExitCode.UNKNOWN_COMMAND,
    hint: `Run ${options.config.bin} help for the list of commands.`,
  })
  if (options.argv?.includes('--json')) {
    process.stdout.write(`${JSON.stringify({status: 'error', error: {code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode}}, null, 2)}\n`)
  } else {
    process.stderr.write(`Error: ${error.message}\nHint: ${error.hint}\n`)
  }
  this.exit(error.exitCode)
}

export default hook
