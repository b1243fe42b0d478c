// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document), fetched the way the
// real server's adapter fetches them (internal/adapters/cimd/fetcher.go, newest line; the older
// lines looked in the cache before the scheme and address checks and had no negative cache):
// - the policy gates first, on the URL alone: https unless `requireHttps` is off, http(s) only, a
//   path that names a document, no loopback/private/link-local/unspecified IP literal or
//   `localhost` unless `allowPrivateAddresses`;
// - then the cache (a document for as long as its own Cache-Control/Expires allow, at least a
//   minute, at most `cacheTtlSeconds`; a failure for 30 s), one fetch per URL at a time, at most 16
//   fetches in flight;
// - the fetch itself: GET with `Accept: application/json`, no redirects followed, a timeout, every
//   address a host name resolves to checked at connect time, 200 only, a JSON content type, at
//   most 1 MiB;
// - the document: `client_id` equal to the URL, a `client_name`, valid `redirect_uris`; defaults
//   for grant types, response types and the auth method.
// The error texts are the real server's (internal/domain/errors.go: "failed to fetch client metadata
// document" / "client metadata document is invalid", then the reason).
import {lookup as dnsLookup, type LookupAddress, type LookupOptions} from 'node:dns'
import {request as httpRequest, type IncomingMessage} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {BlockList, isIP} from 'node:net'
import {goQuote, redirectUriProblem} from '../domain/client.js'

export interface CimdFetchSettings {
  requireHttps: boolean
  allowPrivateAddresses: boolean
  cacheTtlSeconds: number
  fetchTimeoutSeconds: number
}

/** The members of a metadata document this server reads, after defaults. */
export interface CimdDocument {
  client_id: string
  client_name: string
  redirect_uris: string[]
  grant_types: string[]
  response_types: string[]
  token_endpoint_auth_method: string
}

const FETCH_FAILED = 'failed to fetch client metadata document'
const INVALID = 'client metadata document is invalid'

/** A document that could not be fetched (`fetch`) or is not acceptable (`invalid`), with the real server's text. */
export class CimdError extends Error {
  constructor(
    readonly kind: 'fetch' | 'invalid',
    readonly reason: string,
    /** A failure of this server's own capacity, not of the document: never remembered. */
    readonly transient = false,
  ) {
    super(`${kind === 'fetch' ? FETCH_FAILED : INVALID}: ${reason}`)
  }
}

const MAX_BODY = 1024 * 1024
const MIN_CACHE_MS = 60_000
const MAX_CACHE_ENTRIES = 1024
const NEGATIVE_CACHE_MS = 30_000
const MAX_CONCURRENT = 16
const MAX_ACQUIRE_WAIT_MS = 2_000

// Addresses a fetch driven by an unauthenticated caller must not reach (the real server's
// ssrf.IsPrivateIP and net.IP's IsLoopback/IsPrivate/IsLinkLocal*/IsUnspecified, plus the other
// special-purpose ranges of RFC 6890 that are never a public web server).
const BLOCKED = new BlockList()
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) BLOCKED.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) BLOCKED.addSubnet(net, bits, 'ipv6')

function blocked(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return BLOCKED.check(mapped[1]!, 'ipv4')
  const family = isIP(address)
  return family === 4 ? BLOCKED.check(address, 'ipv4') : family === 6 ? BLOCKED.check(address, 'ipv6') : true
}

function blockList(ranges: Array<[string, number]>): BlockList {
  const list = new BlockList()
  for (const [net, bits] of ranges) list.addSubnet(net, bits, isIP(net) === 4 ? 'ipv4' : 'ipv6')
  return list
}

// The classes of Go's net.IP the real server's URL-level check names, in its order.
const LITERAL_CLASSES: Array<[string, BlockList]> = [
  ['loopback', blockList([['127.0.0.0', 8], ['::1', 128]])],
  ['private network', blockList([['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['fc00::', 7]])],
  ['link-local', blockList([['169.254.0.0', 16], ['224.0.0.0', 24], ['fe80::', 10], ['ff02::', 16]])],
  ['unspecified', blockList([['0.0.0.0', 32], ['::', 128]])],
]

/** The real server's URL-level check, with its texts: an IP literal or `localhost`. */
function literalProblem(hostname: string): string | undefined {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  if (host.toLowerCase() === 'localhost') return `loopback address rejected: ${host}`
  const family = isIP(host)
  if (family === 0) return undefined
  const v4 = family === 4 ? host : /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)?.[1]
  for (const [name, list] of LITERAL_CLASSES) {
    if (v4 !== undefined ? list.check(v4, 'ipv4') : list.check(host, 'ipv6')) return `${name} address rejected: ${host}`
  }
  return undefined
}

/** A path that names a document: one segment that is not empty, `.` or `..` (so not `/`, `//`, `/./`). */
function hasMeaningfulPath(path: string): boolean {
  return path.replace(/^\//, '').split('/').some((seg) => seg !== '' && seg !== '.' && seg !== '..' && seg !== '%2e' && seg !== '%2E')
}

/** The WHATWG parser turns `/%2e/` into `/./` only sometimes; decode once so `/%2e` reads as `/.`. */
function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname)
  } catch {
    return pathname
  }
}

function isJsonContentType(ct: string | undefined): boolean {
  const t = (ct ?? '').trim().toLowerCase()
  return t.startsWith('application/json') || t.startsWith('application/client-id+json')
}

/** How long a fetched document may be kept: RFC 9111 precedence, floored at a minute, capped by the setting. */
export function cacheLifetimeMs(headers: IncomingMessage['headers'], ceilingMs: number): number | undefined {
  const clamp = (ms: number): number => Math.min(Math.max(ms, MIN_CACHE_MS), ceilingMs)
  const directives = String(headers['cache-control'] ?? '').toLowerCase().split(',').map((d) => d.trim()).filter((d) => d !== '')
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return undefined
  for (const d of directives) {
    const m = /^max-age=(\d+)$/.exec(d)
    if (m === null) continue
    const seconds = Number(m[1])
    return seconds === 0 ? undefined : clamp(seconds * 1000)
  }
  const expires = headers.expires
  if (expires !== undefined) {
    const at = Date.parse(expires)
    if (Number.isNaN(at) || at <= Date.now()) return undefined
    return clamp(at - Date.now())
  }
  return ceilingMs
}

const FIELDS: Record<keyof CimdDocument, 'string' | 'strings'> = {
  client_id: 'string', client_name: 'string', redirect_uris: 'strings', grant_types: 'strings', response_types: 'strings', token_endpoint_auth_method: 'string',
}

/** Go's json.Unmarshal into the document struct: known members must have their type; others are ignored. */
function decodeDocument(text: string): CimdDocument {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new CimdError('invalid', `invalid JSON: ${(err as Error).message}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CimdError('invalid', `invalid JSON: json: cannot unmarshal ${Array.isArray(raw) ? 'array' : raw === null ? 'null' : typeof raw} into Go value of type output.CIMDDocument`)
  }
  const doc: Record<string, unknown> = {client_id: '', client_name: '', redirect_uris: [], grant_types: [], response_types: [], token_endpoint_auth_method: ''}
  for (const [key, kind] of Object.entries(FIELDS)) {
    const v = (raw as Record<string, unknown>)[key]
    if (v === undefined || v === null) continue
    const ok = kind === 'string' ? typeof v === 'string' : Array.isArray(v) && v.every((x) => typeof x === 'string')
    if (!ok) {
      const got = Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v
      throw new CimdError('invalid', `invalid JSON: json: cannot unmarshal ${got} into Go struct field CIMDDocument.${key} of type ${kind === 'string' ? 'string' : '[]string'}`)
    }
    doc[key] = v
  }
  return doc as unknown as CimdDocument
}

function validateDocument(doc: CimdDocument, url: string): void {
  if (doc.client_id === '') throw new CimdError('invalid', 'missing client_id')
  if (doc.client_id !== url) throw new CimdError('invalid', `client_id ${goQuote(doc.client_id)} does not match fetch URL ${goQuote(url)}`)
  if (doc.client_name === '') throw new CimdError('invalid', 'missing client_name')
  if (doc.redirect_uris.length === 0) throw new CimdError('invalid', 'missing redirect_uris')
  for (const uri of doc.redirect_uris) {
    const problem = redirectUriProblem(uri)
    if (problem !== undefined) throw new CimdError('invalid', `invalid redirect_uri ${goQuote(uri)}: ${problem}`)
  }
}

/** Resolves a host name and refuses it when any of its addresses is one a fetch must not reach (exported for its test). */
export function guardedLookup(hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void {
  dnsLookup(hostname, {...options, all: true}, (err, addresses) => {
    if (err !== null) return callback(err, '')
    const bad = addresses.find((a) => blocked(a.address))
    if (bad !== undefined) return callback(Object.assign(new Error(`dial ${hostname}: address ${bad.address} is not a public address`), {code: 'EADDRBLOCKED'}), '')
    if (options.all === true) return callback(null, addresses)
    callback(null, addresses[0]!.address, addresses[0]!.family)
  })
}

interface Fetched {
  doc: CimdDocument
  cacheMs: number | undefined
}

/** Fetches and caches metadata documents for one server, under its settings. */
export class CimdFetcher {
  private readonly documents = new Map<string, {doc: CimdDocument; until: number}>()
  private readonly failures = new Map<string, {error: CimdError; until: number}>()
  private readonly inFlight = new Map<string, Promise<CimdDocument>>()
  private active = 0
  private readonly waiting: Array<() => void> = []
  /** Outbound requests made (for tests: a cache hit or a shared flight makes none). */
  fetches = 0

  constructor(readonly settings: CimdFetchSettings) {}

  async fetch(url: string): Promise<CimdDocument> {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new CimdError('fetch', `parse ${goQuote(url)}: invalid URL`)
    }
    const scheme = parsed.protocol.slice(0, -1)
    if (this.settings.requireHttps && scheme !== 'https') throw new CimdError('fetch', `HTTPS required, got ${scheme}`)
    if (scheme !== 'https' && scheme !== 'http') throw new CimdError('fetch', `unsupported scheme ${scheme}`)
    if (!hasMeaningfulPath(decodedPath(parsed.pathname))) {
      throw new CimdError('invalid', `client_id URL must contain a path component (e.g. https://example.com/client.json), got ${goQuote(url)}`)
    }
    if (!this.settings.allowPrivateAddresses) {
      const problem = literalProblem(parsed.hostname)
      if (problem !== undefined) throw new CimdError('fetch', problem)
    }
    // Only after the policy gates: a cache hit must never skip them.
    const now = Date.now()
    const hit = this.documents.get(url)
    if (hit !== undefined && hit.until > now) return hit.doc
    const failed = this.failures.get(url)
    if (failed !== undefined && failed.until > now) throw failed.error
    const flight = this.inFlight.get(url)
    if (flight !== undefined) return flight
    const started = this.run(url, parsed).finally(() => this.inFlight.delete(url))
    this.inFlight.set(url, started)
    return started
  }

  private async run(url: string, parsed: URL): Promise<CimdDocument> {
    await this.acquire()
    try {
      const {doc, cacheMs} = await this.request(url, parsed)
      if (cacheMs !== undefined) this.remember(this.documents, url, {doc, until: Date.now() + cacheMs})
      return doc
    } catch (err) {
      const error = err instanceof CimdError ? err : new CimdError('fetch', (err as Error).message)
      if (!error.transient) this.remember(this.failures, url, {error, until: Date.now() + NEGATIVE_CACHE_MS})
      throw error
    } finally {
      this.release()
    }
  }

  /** Bounded maps: expired entries go first, else the one closest to expiry. */
  private remember<V extends {until: number}>(map: Map<string, V>, key: string, value: V): void {
    if (!map.has(key) && map.size >= MAX_CACHE_ENTRIES) {
      let soonest: string | undefined
      let soonestAt = Infinity
      for (const [k, v] of map) {
        if (v.until <= Date.now()) {
          soonest = k
          break
        }
        if (v.until < soonestAt) [soonest, soonestAt] = [k, v.until]
      }
      if (soonest !== undefined) map.delete(soonest)
    }
    map.set(key, value)
  }

  private acquire(): Promise<void> {
    if (this.active < MAX_CONCURRENT) {
      this.active++
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(go)
        if (i !== -1) this.waiting.splice(i, 1)
        reject(new CimdError('fetch', 'cimd fetch concurrency limit reached', true))
      }, MAX_ACQUIRE_WAIT_MS)
      const go = (): void => {
        clearTimeout(timer)
        this.active++
        resolve()
      }
      this.waiting.push(go)
    })
  }

  private release(): void {
    this.active--
    this.waiting.shift()?.()
  }

  private request(url: string, parsed: URL): Promise<Fetched> {
    this.fetches++
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      let settled = false
      const fail = (error: CimdError): void => {
        if (settled) return
        settled = true
        clearTimeout(deadline)
        req.destroy()
        reject(error)
      }
      // The whole exchange, not only the wait for headers, as a Go context deadline bounds it.
      const deadline = setTimeout(() => fail(new CimdError('fetch', `Get ${goQuote(url)}: context deadline exceeded`)), this.settings.fetchTimeoutSeconds * 1000)
      const req = send(parsed, {
        method: 'GET',
        headers: {accept: 'application/json'},
        // Each resolved address is checked where the connection is made, so a name that resolves
        // to a private address (or is rebound to one after a first check) is refused too.
        ...(this.settings.allowPrivateAddresses ? {} : {lookup: guardedLookup}),
      }, (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          return fail(new CimdError('fetch', `HTTP ${res.statusCode} from ${url}`))
        }
        const ct = res.headers['content-type']
        if (!isJsonContentType(ct)) {
          res.resume()
          return fail(new CimdError('invalid', `expected JSON content-type, got ${goQuote(ct ?? '')}`))
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_BODY) return fail(new CimdError('fetch', `response body exceeds maximum size (${MAX_BODY} bytes)`))
          chunks.push(chunk)
        })
        res.on('error', (err) => fail(new CimdError('fetch', `read body: ${err.message}`)))
        res.on('end', () => {
          if (settled) return
          try {
            const doc = decodeDocument(Buffer.concat(chunks).toString('utf8'))
            validateDocument(doc, url)
            if (doc.grant_types.length === 0) doc.grant_types = ['authorization_code']
            if (doc.response_types.length === 0) doc.response_types = ['code']
            if (doc.token_endpoint_auth_method === '') doc.token_endpoint_auth_method = 'none'
            settled = true
            clearTimeout(deadline)
            resolve({doc, cacheMs: cacheLifetimeMs(res.headers, this.settings.cacheTtlSeconds * 1000)})
          } catch (err) {
            fail(err instanceof CimdError ? err : new CimdError('invalid', (err as Error).message))
          }
        })
      })
      req.on('error', (err) => fail(new CimdError('fetch', `Get ${goQuote(url)}: ${err.message}`)))
      req.end()
    })
  }
}
