import type {ExchangeHandle, HttpRecorderSink, TracedRequest} from './fetch.js'

// What a run sent and received, in order, with the real values (secrets included): the HAR file
// and the sequence diagram are both made from it, and each redacts or picks what it shows.

export interface RecordedResponse {
  status: number
  statusText: string
  headers: Array<[string, string]>
  /** The body as text; partial when `complete` is false (a stream still open when the run ended). */
  body: string
  complete: boolean
}

export interface RecordedExchange {
  kind: 'exchange'
  /** Wall-clock start. */
  started: Date
  request: TracedRequest
  response?: RecordedResponse
  /** Why no response came: the error fetch threw. */
  failure?: {name: string; message: string; code?: string}
  /** Milliseconds: until the response headers, then until the body's end (-1 while unknown). */
  wait: number
  receive: number
}

/** A label the caller put in the timeline, e.g. the verify step that begins here. */
export interface RecordedMark {
  kind: 'mark'
  label: string
}

/** How a run ended, when the caller knows: the diagram shows where the flow stopped. */
export interface RecordedOutcome {
  ok: boolean
  /** One line: what failed and why, without secrets. */
  message?: string
}

export type RecordedEvent = RecordedExchange | RecordedMark

/** Collects the exchanges httpFetch reports (attach it with attachRecorder). */
export class HttpRecorder implements HttpRecorderSink {
  readonly events: RecordedEvent[] = []
  outcome?: RecordedOutcome
  private readonly pending = new Set<Promise<void>>()

  get exchanges(): RecordedExchange[] {
    return this.events.filter((e): e is RecordedExchange => e.kind === 'exchange')
  }

  mark(label: string): void {
    this.events.push({kind: 'mark', label})
  }

  begin(request: TracedRequest): ExchangeHandle {
    const exchange: RecordedExchange = {kind: 'exchange', started: new Date(), request, wait: -1, receive: -1}
    this.events.push(exchange)
    const t0 = performance.now()
    return {
      responded: (response, clone) => {
        const headersAt = performance.now()
        exchange.wait = headersAt - t0
        const headers: Array<[string, string]> = []
        response.headers.forEach((value, name) => {
          headers.push([name, value])
        })
        const recorded: RecordedResponse = {status: response.status, statusText: response.statusText, headers, body: '', complete: false}
        exchange.response = recorded
        const reading = readBody(clone, recorded).then(() => {
          exchange.receive = performance.now() - headersAt
        })
        this.pending.add(reading)
        void reading.finally(() => this.pending.delete(reading))
      },
      failed: (error) => {
        exchange.wait = performance.now() - t0
        exchange.receive = 0
        const e = error as Error & {cause?: {code?: unknown}}
        const code = typeof e?.cause?.code === 'string' ? e.cause.code : undefined
        exchange.failure = {name: e?.name ?? 'Error', message: e?.message ?? String(error), ...(code ? {code} : {})}
      },
    }
  }

  /**
   * Waits until every response body has been read, at most `ms`: a stream that stays open (an
   * SSE stream the server never closes) is recorded as far as it got.
   */
  async settle(ms = 2000): Promise<void> {
    if (this.pending.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
      timer.unref()
    })
    await Promise.race([Promise.allSettled([...this.pending]), limit])
    clearTimeout(timer)
  }
}

async function readBody(clone: Response, into: RecordedResponse): Promise<void> {
  if (!clone.body) {
    into.complete = true
    return
  }
  const decoder = new TextDecoder()
  const reader = clone.body.getReader()
  try {
    for (;;) {
      const {done, value} = await reader.read()
      if (done) break
      into.body += decoder.decode(value, {stream: true})
    }
    into.body += decoder.decode()
    into.complete = true
  } catch {
    // The caller aborted the request or the connection dropped: what arrived is what we keep.
  }
}
