import chalk from 'chalk'

import type {StepReport} from '../walkthrough/verify.js'

/** One verify step as a line: `[ 3/10] OK   resource registered   25 ms  detail`. */
export function formatStepLine(s: StepReport, total: number): string {
  const mark = s.ok ? chalk.green('OK  ') : chalk.red('FAIL')
  return `[${String(s.step).padStart(2)}/${total}] ${mark} ${s.name.padEnd(38)} ${chalk.dim(`${String(s.ms).padStart(5)} ms`)}${s.detail ? `  ${chalk.dim(s.detail)}` : ''}`
}
