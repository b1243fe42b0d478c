import {ApDemoError, ExitCode} from './errors.js'

const OCLIF_USAGE_ERRORS = new Set([
  'RequiredArgsError',
  'FailedFlagValidationError',
  'NonExistentFlagsError',
  'UnexpectedArgsError',
  'CLIParseError',
  'ArgInvalidOptionError',
  'FlagInvalidOptionError',
])

/**
 * Turns anything thrown below the commands into one ApDemoError. Layers throw their own typed
 * errors; this is the single place that decides how each one is shown and which exit code it gets.
 */
export function toApDemoError(err: unknown): ApDemoError {
  if (err instanceof ApDemoError) return err
  const e = err as Error & {oclif?: {exit?: number}; code?: string; parse?: unknown}
  if (e && (OCLIF_USAGE_ERRORS.has(e.constructor?.name) || e.oclif?.exit === 2 || e.parse !== undefined)) {
    const first = String(e.message ?? e).split('\n').find((l) => l.trim() !== '') ?? 'invalid usage'
    return new ApDemoError('usage', first.trim(), {
      exitCode: ExitCode.USAGE,
      hint: 'See the command\'s --help for its flags and examples.',
      cause: err,
    })
  }
  if (e?.name === 'ExitPromptError' || e?.name === 'AbortPromptError') {
    return new ApDemoError('cancelled', 'cancelled at the prompt; nothing was changed', {exitCode: ExitCode.USAGE, cause: err})
  }
  const message = e instanceof Error ? e.message : String(err)
  return new ApDemoError('internal', message.split('\n')[0] ?? 'unexpected error', {
    exitCode: ExitCode.INTERNAL,
    hint: 'This is a bug in ap-demo; rerun with DEBUG=1 for the stack trace and report it.',
    cause: err,
  })
}
