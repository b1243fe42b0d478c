import {attachRecorder, type ExchangeHandle, type HttpRecorderSink, type TracedRequest} from '../http/fetch.js'
import {mcpRequestInfo} from '../http/har.js'

/**
 * What doctor keeps of one exchange: where it went and what came back, never a credential (the
 * request's headers are not kept at all). `at` is this machine's clock when the answer arrived,
 * beside the server's own `Date`, so that the clocks can be compared.
 */
export interface WitnessedExchange {
  method: string
  url: string
  /** The JSON-RPC method of an MCP request, when the body names one. */
  rpcMethod?: string
  status?: number
  date?: string
  wwwAuthenticate?: string
  at?: number
  /** Why no answer came (refused connection, timeout). */
  failure?: string
}

/**
 * Sees every exchange of the run, whoever sends it (ap-demo's probes, oauth4webapi, the MCP SDK's
 * transport), through the one fetch wrapper: doctor reads the servers' answers (their Date
 * headers, their challenges) from here without asking its building blocks to return them.
 */
export class Witness implements HttpRecorderSink {
  readonly exchanges: WitnessedExchange[] = []
  private detach?: () => void

  start(): this {
    this.detach = attachRecorder(this)
    return this
  }

  stop(): void {
    this.detach?.()
  }

  begin(request: TracedRequest): ExchangeHandle {
    const rpcMethod = mcpRequestInfo(request.headers, request.body).method
    const seen: WitnessedExchange = {method: request.method, url: request.url, ...(rpcMethod ? {rpcMethod} : {})}
    this.exchanges.push(seen)
    return {
      responded(response) {
        seen.status = response.status
        seen.at = Date.now()
        const date = response.headers.get('date')
        if (date) seen.date = date
        const challenge = response.headers.get('www-authenticate')
        if (challenge) seen.wwwAuthenticate = challenge
      },
      failed(error) {
        const e = error as {name?: string; cause?: {code?: string}}
        seen.failure = e?.cause?.code ?? e?.name ?? 'failed'
      },
    }
  }

  /** The last answer from this URL's origin with this status (the refusal doctor explains). */
  lastAnswer(url: string, status?: number): WitnessedExchange | undefined {
    const origin = new URL(url).origin
    return this.exchanges.findLast((e) => e.status !== undefined && new URL(e.url).origin === origin && (status === undefined || e.status === status))
  }

  /** The exchanges with one URL, in order. */
  to(url: string): WitnessedExchange[] {
    return this.exchanges.filter((e) => e.url === url)
  }
}
