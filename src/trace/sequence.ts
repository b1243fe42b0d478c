// Subpaths, not 'jose': the MCP client imports all of jose on demand, and through the index
// that would put all of it into the start-up of every command that decodes a token.
import {decodeJwt} from 'jose/jwt/decode'

import type {RecordedEvent, RecordedExchange, RecordedOutcome} from '../http/recorder.js'

// The run that really happened, as a sequence of arrows and notes between ap-demo and the servers
// it talked to. Built from a recording; it picks a few facts (method, path, status, the token's aud
// and scope, the session id, why a request was refused) and never carries a header or a body, so
// no secret can reach a diagram.

export interface Participant {
  /** A Mermaid-safe identifier. */
  id: string
  label: string
  /** A few characters, for the text chart's header. */
  short: string
}

export type SequenceItem =
  | {kind: 'step'; label: string}
  | {kind: 'request'; to: string; method: string; path: string; rpc?: string; status?: number; failure?: string; count: number}
  | {kind: 'note'; over: string; text: string}
  | {kind: 'end'; ok: boolean; text: string}

export interface SequenceModel {
  participants: Participant[]
  items: SequenceItem[]
}

/**
 * Where the servers are, as the run was configured. Servers found on the way are learned from
 * the metadata that names them, or from what they were asked for.
 */
export interface SequenceEndpoints {
  issuer?: string
  adminUrl?: string
  mcpUrl?: string
}

export const AGENT: Participant = {id: 'agent', label: 'ap-demo (agent)', short: 'ap-demo'}
const KNOWN: Record<'admin' | 'auth' | 'mcp', Participant> = {
  admin: {id: 'admin', label: 'Authplane admin API', short: 'admin API'},
  auth: {id: 'auth', label: 'Authorization server', short: 'auth server'},
  mcp: {id: 'mcp', label: 'MCP server', short: 'MCP server'},
}
const ORDER = ['agent', 'admin', 'auth', 'mcp']

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

function header(headers: Array<[string, string]> | undefined, name: string): string | undefined {
  return headers?.find(([n]) => n.toLowerCase() === name)?.[1]
}

function json(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined
  let body = text.trim()
  // MCP streamable HTTP may answer with server-sent events; the JSON is in the data line.
  if (!body.startsWith('{')) body = body.split('\n').find((l) => l.startsWith('data:'))?.slice(5).trim() ?? ''
  try {
    const value = JSON.parse(body) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** Who served an exchange: known origins first, then what the run learned, then the host itself. */
class Roles {
  private readonly byOrigin = new Map<string, string>()
  private readonly extra: Participant[] = []
  private readonly adminOrigin?: string

  constructor(endpoints: SequenceEndpoints) {
    const mcp = originOf(endpoints.mcpUrl)
    const auth = originOf(endpoints.issuer)
    this.adminOrigin = originOf(endpoints.adminUrl)
    if (mcp) this.byOrigin.set(mcp, 'mcp')
    if (auth) this.byOrigin.set(auth, 'auth')
    if (this.adminOrigin && !this.byOrigin.has(this.adminOrigin)) this.byOrigin.set(this.adminOrigin, 'admin')
  }

  of(url: URL, request: RecordedExchange['request']): string {
    // An admin API served on the issuer's origin is told apart by its path (contract §2: /admin/...).
    if ((url.origin === this.adminOrigin || !this.adminOrigin) && url.pathname.startsWith('/admin/')) return 'admin'
    const known = this.byOrigin.get(url.origin)
    if (known) return known
    // A server nobody named: what it was asked for says what it is (RFC 8414 §3, RFC 9728 §3, MCP).
    const role = /^\/\.well-known\/(oauth-authorization-server|openid-configuration)/.test(url.pathname)
      ? 'auth'
      : url.pathname.startsWith('/.well-known/oauth-protected-resource') || json(request.body)?.jsonrpc === '2.0'
        ? 'mcp'
        : undefined
    if (role && ![...this.byOrigin.values()].includes(role)) {
      this.byOrigin.set(url.origin, role)
      return role
    }
    const id = `server${this.extra.length + 1}`
    this.extra.push({id, label: url.host, short: url.host})
    this.byOrigin.set(url.origin, id)
    return id
  }

  learn(url: string | undefined, role: 'auth' | 'mcp'): void {
    const origin = originOf(url)
    if (origin && !this.byOrigin.has(origin)) this.byOrigin.set(origin, role)
  }

  participants(used: Set<string>): Participant[] {
    const known = ORDER.filter((id) => id === 'agent' || used.has(id)).map((id) => (id === 'agent' ? AGENT : KNOWN[id as keyof typeof KNOWN]))
    return [...known, ...this.extra.filter((p) => used.has(p.id))]
  }
}

/** aud and scope of the token in a token response: what binds it to one resource (RFC 8707). */
function tokenNote(body: Record<string, unknown>): string | undefined {
  const token = str(body.access_token)
  if (!token) return undefined
  const scope = str(body.scope)
  try {
    const claims = decodeJwt(token)
    const aud = claims.aud === undefined ? 'none (no resource requested)' : Array.isArray(claims.aud) ? claims.aud.join(', ') : claims.aud
    return `token: aud ${aud}, scope "${str(claims.scope) ?? scope ?? ''}"`
  } catch {
    return `opaque token, scope "${scope ?? ''}"`
  }
}

/** RFC 6750 §3: the error and its description in a Bearer challenge. */
function challenge(value: string | undefined): {error?: string; description?: string} {
  if (!value) return {}
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`, 'i').exec(value)?.[1]
  return {error: param('error'), description: param('error_description')}
}

function refusalNote(x: RecordedExchange, status: number): string {
  const c = challenge(header(x.response?.headers, 'www-authenticate'))
  const body = json(x.response?.body)
  const error = c.error ?? str(body?.error)
  const description = c.description ?? str(body?.error_description)
  if (!header(x.request.headers, 'authorization')) return `${status}: no token (the challenge names the resource metadata)`
  return `${status}: ${[error, description].filter(Boolean).join(': ') || 'refused'}`
}

/**
 * What an MCP request was for: the JSON-RPC method (and the tool a tools/call names), the
 * server-sent event stream a GET opens, the session a DELETE ends (streamable HTTP transport).
 */
function rpcOf(x: RecordedExchange): string | undefined {
  if (x.request.method === 'GET' && header(x.response?.headers, 'content-type')?.startsWith('text/event-stream')) return '(event stream)'
  if (x.request.method === 'DELETE' && header(x.request.headers, 'mcp-session-id')) return '(end session)'
  const body = json(x.request.body)
  const method = str(body?.method)
  if (!method) return undefined
  const params = body?.params as Record<string, unknown> | undefined
  return method === 'tools/call' && str(params?.name) ? `${method} ${str(params?.name)}` : method
}

function failureText(x: RecordedExchange): string {
  const f = x.failure!
  if (f.name === 'TimeoutError' || f.name === 'AbortError') return 'no answer (timeout)'
  return `no answer${f.code ? ` (${f.code})` : ''}`
}

/**
 * The sequence of a recorded run. `outcome` (when known) closes it: passed, or where it stopped.
 * `scrub` passes every text taken from a server's answer (a server may echo what it was sent).
 */
export function buildSequence(events: RecordedEvent[], endpoints: SequenceEndpoints, outcome?: RecordedOutcome, scrub: (text: string) => string = (t) => t): SequenceModel {
  const roles = new Roles(endpoints)
  const used = new Set<string>()
  const items: SequenceItem[] = []
  const sessions = new Set<string>()
  for (const event of events) {
    if (event.kind === 'mark') {
      items.push({kind: 'step', label: event.label})
      continue
    }
    const url = new URL(event.request.url)
    const to = roles.of(url, event.request)
    used.add(to)
    const status = event.response?.status
    const rpc = rpcOf(event)
    const previous = items.at(-1)
    if (
      previous?.kind === 'request' &&
      previous.to === to &&
      previous.method === event.request.method &&
      previous.path === url.pathname &&
      previous.rpc === rpc &&
      previous.status === status &&
      (status === undefined || status >= 500 || event.failure !== undefined)
    ) {
      // A server polled until ready: one arrow, counted.
      previous.count++
      continue
    }
    const request: SequenceItem = {kind: 'request', to, method: event.request.method, path: url.pathname, count: 1}
    if (rpc) request.rpc = rpc
    if (status !== undefined) request.status = status
    if (event.failure) request.failure = failureText(event)
    items.push(request)
    if (status === undefined) continue

    const body = json(event.response?.body)
    if (body && to !== 'admin') {
      // What the servers said about each other (RFC 9728 §2, RFC 8414 §2).
      const servers = Array.isArray(body.authorization_servers) ? body.authorization_servers : []
      for (const server of servers) if (typeof server === 'string') roles.learn(server, 'auth')
      roles.learn(str(body.token_endpoint), 'auth')
      roles.learn(str(body.jwks_uri), 'auth')
    }
    if (to === 'auth' && body && status === 200) {
      const note = tokenNote(body)
      if (note) items.push({kind: 'note', over: to, text: note})
    }
    if (to === 'auth' && body && status >= 400) {
      const text = [str(body.error), str(body.error_description)].filter(Boolean).join(': ')
      if (text) items.push({kind: 'note', over: to, text: `${status}: ${text}`})
    }
    if (to === 'mcp' || to.startsWith('server')) {
      const session = header(event.response?.headers, 'mcp-session-id')
      const opened = status >= 200 && status < 300 ? (json(event.request.body)?.method as unknown) : undefined
      if (session && !sessions.has(session) && !header(event.request.headers, 'mcp-session-id')) {
        sessions.add(session)
        // The 2025 era: initialize answers with the revision it settled on, and a session.
        const version = str((body?.result as Record<string, unknown> | undefined)?.protocolVersion)
        items.push({kind: 'note', over: to, text: `${version ? `protocol ${version}, ` : ''}session ${session}`})
      } else if (opened === 'server/discover') {
        // The 2026-07-28 era: no initialize, no session; every request names the revision.
        const version = header(event.request.headers, 'mcp-protocol-version')
        items.push({kind: 'note', over: to, text: `protocol ${version ?? '2026-07-28'}, stateless (no session)`})
      }
      if (status === 401 || status === 403) items.push({kind: 'note', over: to, text: refusalNote(event, status)})
    }
  }
  for (const item of items) {
    if (item.kind === 'note') item.text = scrub(item.text)
    if (item.kind === 'step') item.label = scrub(item.label)
  }
  if (outcome) items.push({kind: 'end', ok: outcome.ok, text: scrub(outcome.ok ? (outcome.message ?? 'done') : `stopped: ${outcome.message ?? 'failed'}`)})
  return {participants: roles.participants(used), items}
}
