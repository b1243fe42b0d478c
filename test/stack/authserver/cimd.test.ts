import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {lookup as dnsLookup} from 'node:dns/promises'
import {BlockList, isIP, type AddressInfo} from 'node:net'
import {hostname} from 'node:os'
import {after, before, describe, it} from 'node:test'
import {AuthServerConfigError} from '../../../src/stack/authserver/domain/config.js'
import {CimdError, CimdFetcher, guardedLookup} from '../../../src/stack/authserver/store/cimd-fetcher.js'
import type {AuthServerHandle} from '../../../src/stack/types.js'
import {Browser} from './browser.js'
import {admin, assertRefusedAtStart, decodeJwt, form, post, start} from './helpers.js'

// Client ID Metadata Documents as the real server resolves them (issue 20, G5): a client_id that
// is an http(s) URL is fetched, validated, cached and registered. Documents are served by a small
// loopback server of our own; the stack runs with the real server's local-testing switches
// (require_https off, private addresses allowed) unless a test is about those switches.

const RESOURCE = 'http://localhost:8080/mcp'
const CALLBACK = 'http://127.0.0.1:48123/callback'
const EMAIL = 'cimd-user@example.test'
const PASSWORD = 'cimd user password 0123'

type Doc = {status?: number; headers?: Record<string, string>; body: string | Record<string, unknown>; redirect?: string}

/** A metadata-document host: path -> what to answer; counts the requests it gets. */
class DocumentHost {
  readonly docs = new Map<string, Doc>()
  hits = new Map<string, number>()
  server!: Server
  origin = ''

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '/'
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1)
      const doc = this.docs.get(path)
      if (doc === undefined) {
        res.writeHead(404).end('not here')
        return
      }
      const body = typeof doc.body === 'string' ? doc.body : JSON.stringify(doc.body)
      res.writeHead(doc.status ?? 200, {'content-type': 'application/json', ...(doc.redirect ? {location: doc.redirect} : {}), ...doc.headers})
      res.end(body)
    })
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  url(path: string): string {
    return `${this.origin}${path}`
  }

  /** Serves a valid document for `path`, with overrides. */
  serve(path: string, overrides: Record<string, unknown> = {}, extra: Omit<Doc, 'body'> = {}): string {
    const url = this.url(path)
    this.docs.set(path, {body: {client_id: url, client_name: `Doc client ${path}`, redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...overrides}, ...extra})
    return url
  }
}

function pkce(): {verifier: string; challenge: string} {
  const verifier = randomBytes(32).toString('base64url')
  return {verifier, challenge: createHash('sha256').update(verifier).digest('base64url')}
}

function authorizeUrl(clientId: string, challenge: string, extra: Record<string, string> = {}): string {
  return `/oauth/authorize?${new URLSearchParams({response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256', state: 's', resource: RESOURCE, scope: 'mcp:echo', ...extra})}`
}

/** Collects the server's log lines while `fn` runs (what an operator reads in `stack up`'s output). */
async function logged(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = []
  const original = console.error
  console.error = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '))
  }
  try {
    await fn()
  } finally {
    console.error = original
  }
  return lines
}

const LOCAL_TESTING = {requireHttps: false, allowPrivateAddresses: true}

describe('CIMD: client ids that are metadata document URLs', () => {
  const host = new DocumentHost()
  let h: AuthServerHandle

  before(async () => {
    await host.start()
    h = await start({cimd: LOCAL_TESTING})
    assert.equal((await admin(h, 'POST', '/admin/resources', {slug: 'demo-mcp', uri: RESOURCE, backend_kind: 'mint', display_name: 'Demo MCP', scopes: [{name: 'mcp:echo', description: 'echo tool'}]})).status, 201)
    assert.equal((await admin(h, 'POST', '/admin/users', {email: EMAIL, password: PASSWORD})).status, 201)
  })
  after(async () => {
    await h.stop()
    host.server.close()
  })

  /** Authorize with a document client id; returns the page or redirect the browser ends at, and the log. */
  async function tryClient(clientId: string): Promise<{status: number; html: string; location: string | null; log: string[]}> {
    let page!: Awaited<ReturnType<Browser['get']>>
    const log = await logged(async () => {
      page = await new Browser(h.publicUrl).get(authorizeUrl(clientId, pkce().challenge))
    })
    return {status: page.status, html: page.html, location: page.headers.get('location'), log}
  }

  function refused(r: Awaited<ReturnType<typeof tryClient>>, clientId: string, text: string | RegExp): void {
    assert.equal(r.status, 400, r.html)
    assert.equal(r.location, null)
    assert.match(r.html, /Invalid Client/)
    assert.equal(r.log.length, 1, r.log.join('\n'))
    const prefix = `[authserver] cimd auto-registration failed: client_id=${JSON.stringify(clientId)}: `
    assert.ok(r.log[0]!.startsWith(prefix), r.log[0])
    if (typeof text === 'string') assert.equal(r.log[0]!.slice(prefix.length), text)
    else assert.match(r.log[0]!.slice(prefix.length), text)
  }

  it('announces client_id_metadata_document_supported', async () => {
    const m = (await (await fetch(`${h.publicUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    assert.equal(m.client_id_metadata_document_supported, true)
    const keys = Object.keys(m)
    assert.equal(keys.indexOf('client_id_metadata_document_supported'), keys.indexOf('resource_indicators_supported') + 1)
  })

  it('signs a user in for a document client: authorize, login, consent, code, token, refresh, revoke', async () => {
    const clientId = host.serve('/clients/app.json', {client_name: 'Doc App <1>'})
    const b = new Browser(h.publicUrl)
    const {verifier, challenge} = pkce()
    let {page, left} = await b.follow(await b.get(authorizeUrl(clientId, challenge)))
    assert.match(page.url, /\/login\?/)
    ;({page, left} = await b.follow(await b.signIn(page, EMAIL, PASSWORD)))
    assert.match(page.url, /\/consent\?/)
    assert.match(page.html, /Doc App &#60;1&#62;<\/span> wants permission to access Demo MCP/)
    assert.match(page.html, new RegExp(`Client ID: <code>${clientId.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}</code>`))
    ;({left} = await b.follow(await b.decide(page, 'allow')))
    assert.ok(left)
    assert.equal(`${left.origin}${left.pathname}`, CALLBACK)

    const t = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'authorization_code', code: left.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: verifier, client_id: clientId}))
    assert.equal(t.status, 200, t.text)
    assert.equal(decodeJwt(t.body.access_token).payload.client_id, clientId)
    assert.deepEqual(decodeJwt(t.body.access_token).payload.aud, [RESOURCE])
    const r = await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: clientId}))
    assert.equal(r.status, 200, r.text)
    // A public client: revocation needs only its client_id (G4).
    assert.equal((await post(`${h.publicUrl}/oauth/revoke`, form({token: r.body.refresh_token, client_id: clientId}))).status, 200)
    assert.equal((await post(`${h.publicUrl}/oauth/token`, form({grant_type: 'refresh_token', refresh_token: r.body.refresh_token, client_id: clientId}))).status, 400)

    // Registered as the real server registers it; the admin API shows where it came from.
    const view = await admin(h, 'GET', `/admin/clients/${encodeURIComponent(clientId)}`)
    assert.equal(view.status, 200, view.text)
    assert.equal(view.body.id, clientId)
    assert.equal(view.body.name, 'Doc App <1>')
    assert.equal(view.body.registration_source, 'cimd')
    assert.equal(view.body.cimd_url, clientId)
    assert.equal(view.body.token_endpoint_auth_method, 'none')
    assert.deepEqual(view.body.redirect_uris, [CALLBACK])
    assert.equal(view.body.scope, '')
    assert.deepEqual((await admin(h, 'GET', '/admin/clients?source=cimd')).body.map((c: {id: string}) => c.id), [clientId])
    // Once registered, the client is served from the store: the document is not fetched again.
    const before = host.hits.get('/clients/app.json')
    await new Browser(h.publicUrl).get(authorizeUrl(clientId, pkce().challenge))
    assert.equal(host.hits.get('/clients/app.json'), before)
  })

  it('applies the defaults of the real server to a minimal document', async () => {
    const url = host.url('/minimal.json')
    host.docs.set('/minimal.json', {body: {client_id: url, client_name: 'Minimal', redirect_uris: [CALLBACK]}})
    const r = await tryClient(url)
    assert.equal(r.status, 303, r.html)
    const view = (await admin(h, 'GET', `/admin/clients/${encodeURIComponent(url)}`)).body
    assert.deepEqual([view.grant_types, view.response_types, view.token_endpoint_auth_method], [['authorization_code'], ['code'], 'none'])
  })

  describe('refusals, with the real server\'s texts in the log and "Invalid Client" on the page', () => {
    const FETCH = 'failed to fetch client metadata document'
    const INVALID = 'client metadata document is invalid'
    const cases: Array<[string, (path: string) => string, (url: string) => string | RegExp]> = [
      ['a client_id that differs from the URL', (p) => host.serve(p, {client_id: host.url('/someone-else.json')}), (u) => `${INVALID}: client_id ${JSON.stringify(host.url('/someone-else.json'))} does not match fetch URL ${JSON.stringify(u)}`],
      ['no client_id', (p) => host.serve(p, {client_id: ''}), () => `${INVALID}: missing client_id`],
      ['no client_name', (p) => host.serve(p, {client_name: undefined}), () => `${INVALID}: missing client_name`],
      ['no redirect_uris', (p) => host.serve(p, {redirect_uris: []}), () => `${INVALID}: missing redirect_uris`],
      ['an http redirect URI off loopback', (p) => host.serve(p, {redirect_uris: ['http://app.example/cb']}), () => `${INVALID}: invalid redirect_uri "http://app.example/cb": redirect_uri "http://app.example/cb" must use https (http allowed only for localhost)`],
      ['a redirect URI with a fragment', (p) => host.serve(p, {redirect_uris: ['https://app.example/cb#x']}), () => `${INVALID}: invalid redirect_uri "https://app.example/cb#x": redirect_uri "https://app.example/cb#x" must not contain a fragment`],
      ['redirect_uris of the wrong JSON type', (p) => host.serve(p, {redirect_uris: CALLBACK}), () => `${INVALID}: invalid JSON: json: cannot unmarshal string into Go struct field CIMDDocument.redirect_uris of type []string`],
      ['a body that is not JSON', (p) => (host.docs.set(p, {body: 'not json'}), host.url(p)), () => new RegExp(`^${INVALID}: invalid JSON: `)],
      ['a content type that is not JSON', (p) => host.serve(p, {}, {headers: {'content-type': 'text/html'}}), () => `${INVALID}: expected JSON content-type, got "text/html"`],
      ['a 404', (p) => host.url(p), (u) => `${FETCH}: HTTP 404 from ${u}`],
      ['a redirect (never followed)', (p) => host.serve(p, {}, {status: 302, redirect: host.url('/clients/app.json')}), (u) => `${FETCH}: HTTP 302 from ${u}`],
      ['a body over 1 MiB', (p) => host.serve(p, {padding: 'x'.repeat(1024 * 1024)}), () => `${FETCH}: response body exceeds maximum size (1048576 bytes)`],
      ['a URL without a path', () => host.origin, (u) => `${INVALID}: client_id URL must contain a path component (e.g. https://example.com/client.json), got ${JSON.stringify(u)}`],
      ['a URL whose path is only dot segments', () => `${host.origin}/./`, (u) => `${INVALID}: client_id URL must contain a path component (e.g. https://example.com/client.json), got ${JSON.stringify(u)}`],
      ['a shared-secret auth method (a document has no secret)', (p) => host.serve(p, {token_endpoint_auth_method: 'client_secret_basic'}), () => `${INVALID}: token_endpoint_auth_method "client_secret_basic" needs a shared secret, which a client metadata document cannot have`],
      ['an auth method this server does not serve', (p) => host.serve(p, {token_endpoint_auth_method: 'private_key_jwt'}), () => `${INVALID}: unsupported token_endpoint_auth_method: "private_key_jwt"`],
      ['a grant this server does not honour', (p) => host.serve(p, {grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']}), () => 'client authentication failed: client validation failed: grant_type "urn:ietf:params:oauth:grant-type:jwt-bearer" is not enabled on this server — set AUTHPLANE_XAA_ENABLED=true to enable it'],
    ]
    cases.forEach(([name, make, text], i) => {
      it(`refuses ${name}`, async () => {
        const url = make(`/refused/${i}.json`)
        refused(await tryClient(url), url, text(url))
        assert.equal((await admin(h, 'GET', `/admin/clients/${encodeURIComponent(url)}`)).status, 404)
      })
    })
  })

  it('caches a document as its Cache-Control allows (a minute at least), and a failure for 30 s', async () => {
    const cached = host.serve('/cache/keep.json', {}, {headers: {'cache-control': 'max-age=5'}})
    const fresh = host.serve('/cache/no-store.json', {}, {headers: {'cache-control': 'no-store'}})
    for (const url of [cached, fresh]) {
      assert.equal((await tryClient(url)).status, 303)
      // The admin deletes the client; the next authorization registers it again from the document.
      assert.equal((await admin(h, 'DELETE', `/admin/clients/${encodeURIComponent(url)}`)).status, 204)
      assert.equal((await tryClient(url)).status, 303)
    }
    assert.equal(host.hits.get('/cache/keep.json'), 1, 'max-age=5 is floored at a minute: served from the cache')
    assert.equal(host.hits.get('/cache/no-store.json'), 2, 'no-store is never cached')

    // A failing document is not fetched again for 30 s, even once it is fixed.
    const broken = host.serve('/cache/broken.json', {client_name: ''})
    refused(await tryClient(broken), broken, 'client metadata document is invalid: missing client_name')
    host.serve('/cache/broken.json')
    refused(await tryClient(broken), broken, 'client metadata document is invalid: missing client_name')
    assert.equal(host.hits.get('/cache/broken.json'), 1)
  })

  it('fetches a document once for concurrent first authorizations, and registers one client', async () => {
    const url = host.serve('/concurrent.json')
    const pages = await Promise.all(Array.from({length: 5}, () => new Browser(h.publicUrl).get(authorizeUrl(url, pkce().challenge))))
    assert.deepEqual(pages.map((p) => p.status), [303, 303, 303, 303, 303])
    assert.equal(host.hits.get('/concurrent.json'), 1)
    assert.equal((await admin(h, 'GET', '/admin/clients?source=cimd&limit=500')).body.filter((c: {id: string}) => c.id === url).length, 1)
  })

  it('obeys the DCR policy: admin_only refuses, approved_redirects must cover every redirect URI', async () => {
    const url = host.serve('/policy.json')
    assert.equal((await admin(h, 'PATCH', '/admin/settings/dcr', {mode: 'admin_only'})).status, 200)
    try {
      refused(await tryClient(url), url, 'registration is disabled')
      assert.equal(host.hits.get('/policy.json'), undefined, 'refused before any fetch')
    } finally {
      assert.equal((await admin(h, 'PATCH', '/admin/settings/dcr', {mode: 'open'})).status, 200)
    }
    const approved = await start({cimd: LOCAL_TESTING, dcrMode: 'approved_redirects', dcrApprovedRedirects: ['https://app.example/approved']})
    try {
      const doc = host.serve('/approved.json', {redirect_uris: ['https://app.example/approved', CALLBACK]})
      const log = await logged(async () => {
        const page = await new Browser(approved.publicUrl).get(authorizeUrl(doc, pkce().challenge, {resource: ''}))
        assert.equal(page.status, 400)
      })
      assert.deepEqual(log, [`[authserver] cimd auto-registration failed: client_id=${JSON.stringify(doc)}: redirect_uri not allowed: cimd redirect_uri ${JSON.stringify(CALLBACK)} not in approved list`])
    } finally {
      await approved.stop()
    }
  })
})

describe('CIMD: the https rule, the address rule and their switches', () => {
  const host = new DocumentHost()
  before(() => host.start())
  after(() => host.server.close())

  it('by default (the real server\'s): https only, and no loopback, private or link-local address', async () => {
    const strict = new CimdFetcher({requireHttps: true, allowPrivateAddresses: false, cacheTtlSeconds: 3600, fetchTimeoutSeconds: 10})
    const text = async (url: string) => {
      const err = await strict.fetch(url).then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof CimdError, String(err))
      return err.message
    }
    assert.equal(await text(host.serve('/a.json')), 'failed to fetch client metadata document: HTTPS required, got http')
    const plain = new CimdFetcher({requireHttps: false, allowPrivateAddresses: false, cacheTtlSeconds: 3600, fetchTimeoutSeconds: 10})
    const plainText = async (url: string) => ((await plain.fetch(url).then(() => undefined, (e: unknown) => e)) as Error).message
    assert.equal(await plainText(host.serve('/a.json')), 'failed to fetch client metadata document: loopback address rejected: 127.0.0.1')
    assert.equal(await plainText('http://localhost:1/a.json'), 'failed to fetch client metadata document: loopback address rejected: localhost')
    assert.equal(await plainText('https://[::1]:1/a.json'), 'failed to fetch client metadata document: loopback address rejected: ::1')
    assert.equal(await plainText('https://10.1.2.3/a.json'), 'failed to fetch client metadata document: private network address rejected: 10.1.2.3')
    assert.equal(await plainText('https://169.254.169.254/latest/meta-data'), 'failed to fetch client metadata document: link-local address rejected: 169.254.169.254')
    assert.equal(await plainText('https://0.0.0.0/a.json'), 'failed to fetch client metadata document: unspecified address rejected: 0.0.0.0')
    // The whole of each private range (mutant as-cimd-private-range: 172.16.0.0/16 for /12), and
    // the literal forms a URL parser rewrites (IPv4 in hex or short form, IPv4-mapped IPv6).
    for (const [url, text] of [
      ['https://172.20.1.2/a.json', 'private network address rejected: 172.20.1.2'],
      ['https://172.31.255.254/a.json', 'private network address rejected: 172.31.255.254'],
      ['https://192.168.255.1/a.json', 'private network address rejected: 192.168.255.1'],
      ['https://0x7f.1/a.json', 'loopback address rejected: 127.0.0.1'],
      ['https://[::ffff:10.0.0.1]/a.json', 'private network address rejected: ::ffff:a00:1'],
    ]) assert.equal(await plainText(url!), `failed to fetch client metadata document: ${text}`)
    assert.equal(await plainText('ftp://example.com/a.json'), 'failed to fetch client metadata document: unsupported scheme ftp')
    // A name is checked where the connection is made: every address it resolves to.
    const dialed = await new Promise<Error | null>((resolve) => guardedLookup('localhost', {}, (err) => resolve(err)))
    assert.match(String(dialed?.message), /^dial localhost: address (127\.0\.0\.1|::1) is not a public address$/)
    assert.equal(host.hits.get('/a.json'), undefined, 'none of those reached the document')
    // The local-testing switches let a loopback document through.
    const local = new CimdFetcher({requireHttps: false, allowPrivateAddresses: true, cacheTtlSeconds: 3600, fetchTimeoutSeconds: 10})
    assert.equal((await local.fetch(host.serve('/a.json'))).client_name, 'Doc client /a.json')
    // The gates run before the cache: a stricter fetcher never serves what a lax one cached.
    assert.equal(await plainText(host.url('/a.json')), 'failed to fetch client metadata document: loopback address rejected: 127.0.0.1')
  })

  it('a host name is refused when it resolves to a private address, where the connection is made', async (t) => {
    // Mutant as-cimd-resolved-address: without the connect-time lookup guard, a name (not an IP
    // literal, not `localhost`) that resolves to a loopback or private address was fetched. The
    // name used is this machine's own, which resolves to such an address on a developer machine
    // and in a container; the test says so and skips where it does not.
    const name = hostname().toLowerCase()
    const addresses = await dnsLookup(name, {all: true}).catch(() => [])
    const nonPublic = new BlockList()
    for (const [net, bits] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) nonPublic.addSubnet(net, bits, 'ipv4')
    nonPublic.addSubnet('::1', 128, 'ipv6')
    nonPublic.addSubnet('fc00::', 7, 'ipv6')
    if (name === 'localhost' || isIP(name) !== 0 || addresses.length === 0 || !addresses.every((a) => nonPublic.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'))) {
      t.skip(`this machine's name ${JSON.stringify(name)} does not resolve to loopback or private addresses only (${JSON.stringify(addresses)})`)
      return
    }
    const port = new URL(host.origin).port
    const url = `http://${name}:${port}/by-name.json`
    host.docs.set('/by-name.json', {body: {client_id: url, client_name: 'by name', redirect_uris: [CALLBACK]}})
    const guarded = new CimdFetcher({requireHttps: false, allowPrivateAddresses: false, cacheTtlSeconds: 3600, fetchTimeoutSeconds: 10})
    const err = await guarded.fetch(url).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof CimdError, String(err))
    const prefix = `failed to fetch client metadata document: Get ${JSON.stringify(url)}: dial ${name}: address `
    assert.ok(err.message.startsWith(prefix) && err.message.endsWith(' is not a public address'), err.message)
    assert.equal(host.hits.get('/by-name.json'), undefined, 'the document host was reached')
    // With the switch for local testing, the same name is fetched.
    const local = new CimdFetcher({requireHttps: false, allowPrivateAddresses: true, cacheTtlSeconds: 3600, fetchTimeoutSeconds: 10})
    if (addresses.every((a) => a.address === '127.0.0.1')) assert.equal((await local.fetch(url)).client_name, 'by name')
  })

  it('a slow document host is given up after the fetch timeout', async () => {
    const slow = createServer(() => {})
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow.json`
      const f = new CimdFetcher({requireHttps: false, allowPrivateAddresses: true, cacheTtlSeconds: 3600, fetchTimeoutSeconds: 0.3})
      const err = await f.fetch(url).then(() => undefined, (e: unknown) => e)
      assert.equal((err as Error).message, `failed to fetch client metadata document: Get ${JSON.stringify(url)}: context deadline exceeded`)
    } finally {
      slow.closeAllConnections()
      slow.close()
    }
  })

  it('the server refuses the local-testing switches with an issuer that is not localhost (the real server\'s boot rule)', async () => {
    const secure = {session: {secret: 'a-session-secret-0123456789', secure: true}}
    await assertRefusedAtStart(start({issuer: 'https://auth.example.com', ...secure, cimd: {requireHttps: false}}), /^cimd\.require_https must be true when server\.issuer is not localhost$/)
    await assertRefusedAtStart(start({issuer: 'https://auth.example.com', ...secure, cimd: {allowPrivateAddresses: true}}), /^cimd\.allow_private_addresses must be false when server\.issuer is not localhost$/)
    await assertRefusedAtStart(start({issuer: 'https://auth.example.com', ...secure, cimd: {requireHttps: false, allowPrivateAddresses: true}}), (e: Error) => e instanceof AuthServerConfigError && e.message.split('; ').length === 2)
    // With CIMD off the address switch is moot (as there); the https one is not.
    const off = await start({issuer: 'https://auth.example.com', ...secure, cimd: {enabled: false, allowPrivateAddresses: true}})
    await off.stop()
  })

  it('with CIMD off, a URL client id is just unknown and the metadata does not announce it', async () => {
    const h = await start({cimd: {enabled: false, ...LOCAL_TESTING}})
    try {
      const url = host.serve('/off.json')
      const page = await new Browser(h.publicUrl).get(authorizeUrl(url, pkce().challenge))
      assert.equal(page.status, 400)
      assert.match(page.html, /Invalid Client/)
      assert.equal(host.hits.get('/off.json'), undefined)
      const m = (await (await fetch(`${h.publicUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
      assert.equal('client_id_metadata_document_supported' in m, false)
    } finally {
      await h.stop()
    }
  })
})

describe('CIMD fetcher: cache lifetimes', () => {
  it('follows RFC 9111 precedence, floored at a minute and capped by cache_ttl', async () => {
    const {cacheLifetimeMs} = await import('../../../src/stack/authserver/store/cimd-fetcher.js')
    const hour = 3_600_000
    assert.equal(cacheLifetimeMs({}, hour), hour)
    assert.equal(cacheLifetimeMs({'cache-control': 'max-age=5'}, hour), 60_000)
    assert.equal(cacheLifetimeMs({'cache-control': 'public, max-age=600'}, hour), 600_000)
    assert.equal(cacheLifetimeMs({'cache-control': 'max-age=86400'}, hour), hour)
    assert.equal(cacheLifetimeMs({'cache-control': 'max-age=600, no-store'}, hour), undefined)
    assert.equal(cacheLifetimeMs({'cache-control': 'no-cache'}, hour), undefined)
    assert.equal(cacheLifetimeMs({'cache-control': 'max-age=0'}, hour), undefined)
    assert.equal(cacheLifetimeMs({expires: new Date(Date.now() + 1_800_000).toUTCString()}, hour)! > 1_700_000, true)
    assert.equal(cacheLifetimeMs({expires: 'yesterday'}, hour), undefined)
    assert.equal(cacheLifetimeMs({'cache-control': 'max-age=120'}, 30_000), 30_000, 'the operator\'s ceiling wins over the floor')
  })
})
