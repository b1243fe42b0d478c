import {carriesDpopProof, DPOP_CURL_NOTE, isEventStream, isMcpInitialize, MCP_SESSION_CURL_NOTE, SSE_CURL_NOTE, toCurl} from '../http/curl.js'
import {DryRunStop, type RequestObserver} from '../http/request.js'

export interface RecorderOptions {
  printCurl: boolean
  dryRun: boolean
  /** The secrets to mask, looked up at each request: a client created during the run is known by then. */
  secrets: () => Record<string, string>
  /** Where --print-curl lines go (stderr; nowhere under --json). */
  print: (line: string) => void
}

/**
 * --print-curl and --dry-run: every request as a curl line with its secrets replaced by the shell
 * variables that hold them; under --dry-run the first request that would change something is
 * held back (DryRunStop) and the command ends there.
 */
export class RequestRecorder {
  /** The curl lines of a --dry-run: the read-only requests sent, then the one held back. */
  readonly lines: string[] = []
  private dpopNoted = false

  constructor(private readonly options: RecorderOptions) {}

  get observer(): RequestObserver | undefined {
    const {printCurl, dryRun} = this.options
    if (!printCurl && !dryRun) return undefined
    return (request) => {
      const line = toCurl(request, this.options.secrets())
      if (dryRun) this.lines.push(line)
      if (dryRun && request.method !== 'GET' && !request.readOnly) throw new DryRunStop(request)
      if (!printCurl) return
      if (!this.dpopNoted && carriesDpopProof(request)) {
        this.dpopNoted = true
        this.options.print(DPOP_CURL_NOTE)
      }
      if (isMcpInitialize(request)) this.options.print(MCP_SESSION_CURL_NOTE)
      if (isEventStream(request)) this.options.print(SSE_CURL_NOTE)
      this.options.print(line)
    }
  }

  /** The --dry-run outcome: what was sent and the request that was not. */
  held(): {dryRun: true; sent: string[]; notSent: string | null} {
    return {dryRun: true, sent: this.lines.slice(0, -1), notSent: this.lines.at(-1) ?? null}
  }
}
