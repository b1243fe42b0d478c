import chalk from 'chalk'

import type {StepReport} from '../../walkthrough/verify-failed.js'
import {terminalSafe} from '../../terminal-text.js'

/** The widest a verify line may be, so that it fits an ordinary terminal. */
export const LINE_WIDTH = 100

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
}

/**
 * One verify step: `[ 3/10] OK   resource registered            25 ms  detail`. A detail that does
 * not fit goes on a line of its own, shortened to the width. A failed step shows no detail: its
 * error is printed once, at the end. A step that was not needed shows SKIP (doctor's token steps
 * for a server that asks for none).
 */
export function formatStepLines(s: StepReport, total: number, nameWidth = 38): string[] {
  // The detail quotes the servers (the echoed text, an error description).
  s = terminalSafe(s)
  const mark = s.skipped ? chalk.dim('SKIP') : s.ok ? chalk.green('OK  ') : chalk.red('FAIL')
  const head = `[${String(s.step).padStart(2)}/${total}] ${s.skipped ? 'SKIP' : s.ok ? 'OK  ' : 'FAIL'} ${s.name.padEnd(nameWidth)} ${String(s.ms).padStart(5)} ms`
  const styled = `[${String(s.step).padStart(2)}/${total}] ${mark} ${s.name.padEnd(nameWidth)} ${chalk.dim(`${String(s.ms).padStart(5)} ms`)}`
  if (!s.ok || !s.detail) return [styled]
  if (head.length + 2 + s.detail.length <= LINE_WIDTH) return [`${styled}  ${chalk.dim(s.detail)}`]
  const indent = ' '.repeat(13)
  return [styled, `${indent}${chalk.dim(fit(s.detail, LINE_WIDTH - indent.length))}`]
}
