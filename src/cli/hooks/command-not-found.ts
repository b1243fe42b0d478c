import type {Hook} from '@oclif/core'

import {CliError} from '../error-map.js'
import {ExitCode} from '../exit-codes.js'
import {formatError} from '../render/messages.js'
import {terminalJson} from '../../terminal-text.js'
import {closestCommand} from '../suggest.js'

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
    process.stdout.write(`${terminalJson(JSON.stringify({status: 'error', error: {code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode}}, null, 2))}\n`)
  } else {
    for (const line of formatError(error)) process.stderr.write(`${line}\n`)
  }
  this.exit(error.exitCode)
}

export default hook
