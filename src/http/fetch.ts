// The one place where ap-demo's client side calls the platform's fetch. Every request goes through
// httpFetch: the admin API and probes (send), oauth4webapi (its customFetch), the MCP SDK's
// streamable HTTP transport (its `fetch` option) and the session DELETE after a probe. A recorder
// attached here sees each exchange, whoever sent it, the way a browser's network panel does.
//
// The embedded stack runs in the same process but never imports this module (design: the two
// sides check each other), so its own requests (JWKS, issuer metadata) are never recorded.

/** The request as it leaves ap-demo: headers as set by the caller, the body as text. */
export interface TracedRequest {
  method: string
  url: string
  headers: Array<[string, string]>
  body?: string
}

/** What a recorder gets back for one request: where to report the answer or the failure. */
export interface ExchangeHandle {
  /** The response headers arrived; `clone` is a copy whose body the recorder may read. */
  responded(response: Response, clone: Response): void
  failed(error: unknown): void
}

export interface HttpRecorderSink {
  begin(request: TracedRequest): ExchangeHandle
}

const sinks = new Set<HttpRecorderSink>()

/**
 * Records every exchange sent through httpFetch until the returned function is called. A CLI
 * process runs one command, so one recorder per process is the normal case; several may listen.
 */
export function attachRecorder(sink: HttpRecorderSink): () => void {
  sinks.add(sink)
  return () => {
    sinks.delete(sink)
  }
}

function bodyText(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return body
  if (body instanceof URLSearchParams) return body.toString()
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8')
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  // Streams and form data are never sent by ap-demo; say so rather than consume them.
  return `[${Object.prototype.toString.call(body).slice(8, -1)} body not recorded]`
}

function requestOf(input: string | URL | Request, init: RequestInit | undefined): TracedRequest {
  const url = input instanceof Request ? input.url : String(input)
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
  const headers: Array<[string, string]> = []
  new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((value, name) => {
    headers.push([name, value])
  })
  const traced: TracedRequest = {method, url, headers}
  const body = bodyText(init?.body)
  if (body !== undefined) traced.body = body
  return traced
}

/** fetch, seen by the attached recorders. Behaves exactly as the platform's fetch otherwise. */
export async function httpFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  if (sinks.size === 0) return fetch(input, init)
  const request = requestOf(input, init)
  const handles = [...sinks].map((sink) => sink.begin(request))
  let response: Response
  try {
    response = await fetch(input, init)
  } catch (error) {
    for (const handle of handles) handle.failed(error)
    throw error
  }
  for (const handle of handles) handle.responded(response, response.clone())
  return response
}
