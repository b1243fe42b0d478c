import {attachRecorder} from '../http/fetch.js'
import {HttpRecorder, type RecordedOutcome} from '../http/recorder.js'
import type {KnownSecret} from '../http/redact.js'
import {checkWritable, writePrivateFile} from './files.js'
import type {SequenceEndpoints} from './sequence.js'

// One traced run: a recorder attached to httpFetch from start() to finish(), then the HAR file and
// the diagram made from what it saw. Starting is cheap (a command may start it before it knows
// whether it will send anything); the writers are loaded when the run ends.

export type DiagramFormat = 'mermaid' | 'markdown' | 'ascii'

export interface DiagramTarget {
  format: DiagramFormat
  /** Absent: the caller prints it (stdout, or a field of --json). */
  file?: string
}

/**
 * What `--diagram VALUE` asks for: `mermaid` (or `-`) and `ascii` print; a file name writes,
 * Markdown with a fenced mermaid block for `.md`, the text chart for `.txt`, plain Mermaid otherwise.
 */
export function diagramTarget(value: string): DiagramTarget {
  if (value === 'mermaid' || value === '-' || value === '') return {format: 'mermaid'}
  if (value === 'ascii') return {format: 'ascii'}
  const lower = value.toLowerCase()
  const format: DiagramFormat = lower.endsWith('.md') || lower.endsWith('.markdown') ? 'markdown' : lower.endsWith('.txt') ? 'ascii' : 'mermaid'
  return {format, file: value}
}

export interface TraceRequest {
  har?: string
  diagram?: DiagramTarget
}

export interface TraceFinish {
  outcome?: RecordedOutcome
  endpoints: SequenceEndpoints
  /** Secrets known to the caller; those carried by the run itself are found in the recording. */
  secrets: KnownSecret[]
  creator: {name: string; version: string}
  /** Heading of a Markdown diagram. */
  title: string
  /**
   * How the diagram's text is shown: the CLI's terminal rule, for the server text in its notes (a
   * diagram goes to a terminal, or to a file that `cat` shows). The HAR file is JSON, which needs none.
   */
  shown: (text: string) => string
}

export interface TraceResult {
  harFile?: string
  diagramFile?: string
  /** The diagram's text, when it was asked for without a file. */
  diagram?: string
}

export class RunTrace {
  readonly recorder = new HttpRecorder()
  private readonly detach: () => void

  private constructor(readonly request: TraceRequest) {
    this.detach = attachRecorder(this.recorder)
  }

  /** Starts recording when a HAR or a diagram is asked for; the target files are checked first. */
  static start(request: TraceRequest): RunTrace | undefined {
    if (!request.har && !request.diagram) return undefined
    if (request.har) checkWritable(request.har)
    if (request.diagram?.file) checkWritable(request.diagram.file)
    return new RunTrace(request)
  }

  /** A label in the timeline: the diagram's notes and the HAR entries' comments name it. */
  mark(label: string): void {
    this.recorder.mark(label)
  }

  async finish(options: TraceFinish): Promise<TraceResult> {
    this.detach()
    await this.recorder.settle()
    if (options.outcome) this.recorder.outcome = options.outcome
    const [{toHar}, {Redactor}, {buildSequence}, {toMermaid, toMermaidMarkdown}, {toAscii}] = await Promise.all([
      import('../http/har.js'),
      import('../http/redact.js'),
      import('./sequence.js'),
      import('./mermaid.js'),
      import('./ascii.js'),
    ])
    const result: TraceResult = {}
    // One redactor for both outputs: a fingerprint in the diagram is the same as in the HAR file.
    const redactor = new Redactor(options.secrets)
    redactor.learn(this.recorder.exchanges)
    if (this.request.har) {
      const har = toHar(this.recorder.events, {creator: options.creator, secrets: options.secrets, redactor})
      writePrivateFile(this.request.har, `${JSON.stringify(har, null, 2)}\n`)
      result.harFile = this.request.har
    }
    const target = this.request.diagram
    if (target) {
      const model = buildSequence(this.recorder.events, options.endpoints, this.recorder.outcome, (text) => redactor.text(text))
      const text = options.shown(target.format === 'ascii' ? toAscii(model) : target.format === 'markdown' ? toMermaidMarkdown(model, options.title) : toMermaid(model))
      if (target.file) {
        writePrivateFile(target.file, text)
        result.diagramFile = target.file
      } else {
        result.diagram = text
      }
    }
    return result
  }
}
