import {ENV} from '../config/settings.js'
import type {RecordedOutcome} from '../http/recorder.js'
import type {KnownSecret} from '../http/redact.js'
import {diagramTarget, RunTrace, type TraceResult} from '../trace/run.js'
import type {SequenceEndpoints} from '../trace/sequence.js'
import {terminalBlock} from '../terminal-text.js'

// --har and --diagram for the base command: a recording from the first time a command knows its
// flags (before its first request) to its end, pass or fail (docs/trace.md).

export interface TraceFlags {
  har?: string
  diagram?: string
}

/** `--diagram` without a value (last, or followed by another flag) means Mermaid on stdout. */
export function withDiagramDefault(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--diagram' && (i === argv.length - 1 || argv[i + 1]!.startsWith('-')) ? '--diagram=mermaid' : arg))
}

/** The secrets of the curl map (value -> shell variable) as the redactor's kinds. */
export function secretKinds(map: Record<string, string>): KnownSecret[] {
  const kinds: Record<string, KnownSecret['kind']> = {[ENV.adminKey]: 'admin-key', [ENV.clientSecret]: 'client-secret', [ENV.userPassword]: 'password', REFRESH_TOKEN: 'refresh-token'}
  return Object.entries(map).map(([value, variable]) => ({value, kind: kinds[variable] ?? 'secret'}))
}

export class CommandTrace {
  /** The servers as configured; the diagram learns the others from the run. */
  endpoints: SequenceEndpoints = {}
  /** The secrets the command knows, looked up when the files are written. */
  secrets: () => KnownSecret[] = () => []
  /** How the run ended, when the command says more than "it passed" (verify: ALL CHECKS PASSED). */
  success?: RecordedOutcome
  private result?: Promise<TraceResult>

  private constructor(private readonly run: RunTrace) {}

  /** A trace when the flags ask for one; the target files are checked first (FileError). */
  static start(flags: TraceFlags): CommandTrace | undefined {
    const run = RunTrace.start({har: flags.har, diagram: flags.diagram === undefined ? undefined : diagramTarget(flags.diagram)})
    return run ? new CommandTrace(run) : undefined
  }

  mark(label: string): void {
    this.run.mark(label)
  }

  /** Whether the diagram goes to stdout (`--diagram` without a FILE): stdout is then the diagram's alone. */
  get diagramOnStdout(): boolean {
    return this.run.request.diagram !== undefined && this.run.request.diagram.file === undefined
  }

  /** Writes the files once; `failure` is the one-line message of the error that ended the run. */
  finish(meta: {creator: {name: string; version: string}; title: string; failure?: string}): Promise<TraceResult> {
    this.result ??= this.run.finish({
      outcome: meta.failure === undefined ? this.success : {ok: false, message: meta.failure},
      endpoints: this.endpoints,
      secrets: this.secrets(),
      creator: meta.creator,
      title: meta.title,
      shown: terminalBlock,
    })
    return this.result
  }
}
