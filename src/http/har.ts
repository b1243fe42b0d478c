import type {RecordedEvent, RecordedExchange} from './recorder.js'
import {Redactor, type KnownSecret} from './redact.js'

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the format of a browser's network
// panel, written from a recording with every secret redacted. Only the fields ap-demo can know are
// filled: headers are those ap-demo set (Node adds Host, Connection, User-Agent, Accept-Encoding
// itself), sizes of the header blocks and the connection timings are unknown (-1, as the spec says).

export interface HarNameValue {
  name: string
  value: string
}

export interface HarEntry {
  startedDateTime: string
  time: number
  request: {
    method: string
    url: string
    httpVersion: string
    cookies: HarNameValue[]
    headers: HarNameValue[]
    queryString: HarNameValue[]
    postData?: {mimeType: string; text: string; params?: HarNameValue[]}
    headersSize: number
    bodySize: number
  }
  response: {
    status: number
    statusText: string
    httpVersion: string
    cookies: HarNameValue[]
    headers: HarNameValue[]
    content: {size: number; mimeType: string; text?: string; comment?: string}
    redirectURL: string
    headersSize: number
    bodySize: number
    _error?: string
  }
  cache: Record<string, never>
  timings: {blocked: number; dns: number; connect: number; send: number; wait: number; receive: number; ssl: number}
  comment?: string
  /** An MCP request's JSON-RPC method (HAR 1.2 allows custom fields that start with `_`). */
  _mcpMethod?: string
  /**
   * The MCP protocol revision the request was sent in: its MCP-Protocol-Version header, else its
   * `_meta` (2026-07-28), else what an `initialize` offered. 2026-07-28 and later is the stateless
   * era (server/discover); earlier revisions open with initialize and a session.
   */
  _mcpProtocolVersion?: string
}

export interface Har {
  log: {
    version: '1.2'
    creator: {name: string; version: string}
    entries: HarEntry[]
    comment?: string
  }
}

export interface HarOptions {
  creator: {name: string; version: string}
  /** Secrets known before the run (admin key, client secrets); those the run carries are found in it. */
  secrets: KnownSecret[]
  /** The redactor to use, so that a diagram of the same run shows the same fingerprints. */
  redactor?: Redactor
}

const round = (ms: number) => Math.max(0, Math.round(ms * 1000) / 1000)

function header(name: string, headers: Array<[string, string]>): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1]
}

/** The recording as HAR 1.2, redacted. Each entry's comment names the mark (e.g. verify's step) it follows. */
export function toHar(events: RecordedEvent[], options: HarOptions): Har {
  const exchanges: RecordedExchange[] = []
  const comments: Array<string | undefined> = []
  let label: string | undefined
  for (const event of events) {
    if (event.kind === 'mark') label = event.label
    else {
      exchanges.push(event)
      comments.push(label)
    }
  }
  const redactor = options.redactor ?? new Redactor(options.secrets)
  for (const s of options.secrets) redactor.add(s.value, s.kind)
  redactor.learn(exchanges)
  const entries = exchanges.map((x, i): HarEntry => {
    const url = new URL(x.request.url)
    const requestBody = x.request.body
    const requestType = header('content-type', x.request.headers) ?? 'application/octet-stream'
    const wait = round(x.wait)
    const receive = round(x.receive)
    const entry: HarEntry = {
      startedDateTime: x.started.toISOString(),
      time: round(wait + receive),
      request: {
        method: x.request.method,
        url: redactor.url(url.href),
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: x.request.headers.map(([name, value]) => ({name, value: redactor.header(name, value)})),
        queryString: [...url.searchParams].map(([name, value]) => ({name, value: redactor.param(name, value)})),
        headersSize: -1,
        bodySize: requestBody === undefined ? 0 : Buffer.byteLength(requestBody),
      },
      response: responseOf(x, redactor),
      cache: {},
      timings: {blocked: -1, dns: -1, connect: -1, send: 0, wait, receive, ssl: -1},
    }
    if (requestBody !== undefined) {
      entry.request.postData = {mimeType: requestType, text: redactor.body(requestBody)}
      if (requestType.startsWith('application/x-www-form-urlencoded')) {
        entry.request.postData.params = [...new URLSearchParams(requestBody)].map(([name, value]) => ({name, value: redactor.param(name, value)}))
      }
    }
    const comment = comments[i]
    if (comment) entry.comment = redactor.text(comment)
    const mcp = mcpRequestInfo(x.request.headers, requestBody)
    if (mcp.method) entry._mcpMethod = mcp.method
    if (mcp.protocolVersion) entry._mcpProtocolVersion = mcp.protocolVersion
    return entry
  })
  return {log: {version: '1.2', creator: options.creator, entries, comment: 'Recorded by ap-demo; secrets are replaced by [redacted <kind> <fingerprint>], the same fingerprint for the same secret within this file.'}}
}

/** The JSON-RPC method of an MCP request and the protocol revision it was sent in (see HarEntry). */
export function mcpRequestInfo(headers: Array<[string, string]>, body: string | undefined): {method?: string; protocolVersion?: string} {
  let message: {jsonrpc?: unknown; method?: unknown; params?: {protocolVersion?: unknown; _meta?: Record<string, unknown>}} | undefined
  try {
    const parsed = body === undefined ? undefined : (JSON.parse(body) as unknown)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) message = parsed as typeof message
  } catch {
    // not JSON
  }
  const headerVersion = header('mcp-protocol-version', headers)
  if (message?.jsonrpc !== '2.0') return headerVersion ? {protocolVersion: headerVersion} : {}
  const method = typeof message.method === 'string' ? message.method : undefined
  const fromMeta = message.params?._meta?.['io.modelcontextprotocol/protocolVersion']
  const offered = method === 'initialize' ? message.params?.protocolVersion : undefined
  const protocolVersion = headerVersion ?? (typeof fromMeta === 'string' ? fromMeta : typeof offered === 'string' ? offered : undefined)
  return {...(method ? {method} : {}), ...(protocolVersion ? {protocolVersion} : {})}
}

function responseOf(x: RecordedExchange, redactor: Redactor): HarEntry['response'] {
  if (!x.response) {
    // HAR has no place for a request that got no answer; browsers write status 0 and the reason.
    const why = x.failure ? `${x.failure.name}: ${x.failure.message}${x.failure.code ? ` (${x.failure.code})` : ''}` : 'no response'
    return {status: 0, statusText: '', httpVersion: '', cookies: [], headers: [], content: {size: 0, mimeType: 'x-unknown'}, redirectURL: '', headersSize: -1, bodySize: -1, _error: redactor.text(why)}
  }
  const r = x.response
  const size = Buffer.byteLength(r.body)
  const content: HarEntry['response']['content'] = {size, mimeType: header('content-type', r.headers) ?? 'x-unknown'}
  if (size > 0) content.text = redactor.body(r.body)
  if (!r.complete) content.comment = 'the body was still streaming when the run ended; this is what had arrived'
  return {
    status: r.status,
    statusText: r.statusText,
    httpVersion: 'HTTP/1.1',
    cookies: [],
    headers: r.headers.map(([name, value]) => ({name, value: redactor.header(name, value)})),
    content,
    redirectURL: redactor.url(header('location', r.headers) ?? ''),
    headersSize: -1,
    // Undici hands over the decoded body; the size on the wire is not known.
    bodySize: -1,
  }
}
