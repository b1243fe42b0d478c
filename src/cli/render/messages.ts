import chalk from 'chalk'

import {terminalLine} from '../../terminal-text.js'

// The Error:, Warning: and Hint: lines. Their text often quotes a server (an error_description,
// the tools it offers) or the user (a tool name typed on the command line): one line each, through
// the terminal rule, whatever they hold.

/** `Error: <message>` and, when there is one, `Hint: <hint>`. */
export function formatError(e: {message: string; hint?: string}): string[] {
  return [`${chalk.red('Error:')} ${terminalLine(e.message)}`, ...(e.hint ? [`${chalk.dim('Hint:')} ${terminalLine(e.hint)}`] : [])]
}

/** `Warning: <message>` and an optional `Hint: <hint>`. */
export function formatWarning(message: string, hint?: string): string[] {
  return [`${chalk.yellow('Warning:')} ${terminalLine(message)}`, ...(hint ? [`${chalk.dim('Hint:')} ${terminalLine(hint)}`] : [])]
}
