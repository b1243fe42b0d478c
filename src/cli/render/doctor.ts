import chalk from 'chalk'

import {terminalLine} from '../../terminal-text.js'
import {DOCTOR_STEPS, type DoctorReport, type DoctorStep, type Finding, type Severity} from '../../doctor/findings.js'
import {formatStepLines, LINE_WIDTH} from './verify.js'
import {wrapText} from './wrap.js'

const COLOURS: Record<Severity, (text: string) => string> = {
  error: (t) => chalk.red.bold(t),
  warning: (t) => chalk.yellow(t),
  info: (t) => chalk.cyan(t),
  ok: (t) => chalk.green.bold(t),
}

/** One step of the walk, as verify shows its steps (which applies the terminal rule: the details may quote a server). */
export function formatDoctorStep(step: DoctorStep): string[] {
  return formatStepLines(step, DOCTOR_STEPS.length, 22)
}

/** A finding's text, through the terminal rule (it quotes servers), wrapped within the width. */
const wrap = (text: string, indent: string, first = indent) => wrapText(terminalLine(text), LINE_WIDTH, indent, {first, split: true})

function findingLines(f: Finding, primary: boolean): string[] {
  if (!primary) return wrap(`${f.severity} ${f.id}: ${f.summary}${f.fix ? ` Fix: ${f.fix}` : ''}`, '    ', '  - ')
  const kind = f.id === f.severity ? '' : ` (${f.severity}${f.guessed ? ', a guess' : ''})`
  const out = [`primary finding: ${COLOURS[f.severity](f.id)}${kind}`, ...wrap(f.summary, '  ')]
  if (f.evidence.length > 0) {
    out.push('evidence:')
    for (const line of f.evidence) out.push(...wrap(line, '    ', '  - '))
  }
  if (f.fix) out.push('fix:', ...wrap(f.fix, '  '))
  return out
}

/**
 * After the step lines: the primary finding (summary, evidence, fix), then whatever else doctor
 * noticed, one entry each; every line within 100 columns, server text escaped.
 */
export function renderDoctorReport(report: DoctorReport): string[] {
  const [primary, ...others] = report.findings
  const out = ['', ...(primary ? findingLines(primary, true) : [])]
  if (others.length > 0) out.push('also noticed:', ...others.flatMap((f) => findingLines(f, false)))
  return out
}

/** doctor's --json: the base envelope plus `ok`, with the report as `result` also when a step broke. */
export function doctorEnvelope(base: Record<string, unknown>, report: DoctorReport, ok: boolean): Record<string, unknown> {
  const {status, diagram} = base as {status: string; diagram?: string}
  const error = base.error as Record<string, unknown> | undefined
  const brief = error ? {code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode} : undefined
  return {status, ok, result: report, ...(brief ? {error: brief} : {}), ...(diagram ? {diagram} : {})}
}
