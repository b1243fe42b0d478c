// The pieces of `ap-demo login` that need no server: where the browser comes from, the metadata
// locations in the spec's order, scope selection, client keys, the loopback listener, redaction.
import assert from 'node:assert/strict'
import {generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {describe, it} from 'node:test'

import {parseClientKey} from '../../src/authplane/client-key.js'
import {preflightAuthorization} from '../../src/login/authorize.js'
import {Redactor} from '../../src/http/redact.js'
import {noBrowserReason, openerCommand} from '../../src/login/browser.js'
import {listenForCallback} from '../../src/login/loopback.js'
import {metadataCandidates, sameIssuer, type AuthorizationServerInfo} from '../../src/login/metadata.js'
import {fromServer} from '../../src/login/server-text.js'
import {ConfigStore} from '../../src/config/store.js'
import {saveClient} from '../../src/login/sessions.js'
import type {WalkthroughContext} from '../../src/walkthrough/context.js'
import {openListener, selectScopes} from '../../src/walkthrough/login.js'
import {loadClientKey} from '../../src/walkthrough/token.js'

const server = (scopes?: string[]): AuthorizationServerInfo => ({metadata: {issuer: 'https://as.example', ...(scopes ? {scopes_supported: scopes} : {})}, source: 'oauth-authorization-server', issuerChecked: true, misses: []})

describe('login, the parts without a server', () => {
  it('opens $BROWSER (with %s, or the URL last), else the platform opener; never where no browser can show', () => {
    const url = 'https://as.example/authorize?a=1&b=2'
    assert.deepEqual(openerCommand(url, {BROWSER: 'firefox --new-tab'}, 'linux'), {command: 'firefox', args: ['--new-tab', url]})
    assert.deepEqual(openerCommand(url, {BROWSER: 'w3m %s:lynx'}, 'linux'), {command: 'w3m', args: [url]})
    assert.deepEqual(openerCommand(url, {}, 'darwin'), {command: 'open', args: [url]})
    assert.deepEqual(openerCommand(url, {}, 'win32'), {command: 'rundll32', args: ['url.dll,FileProtocolHandler', url]})
    assert.deepEqual(openerCommand(url, {}, 'linux'), {command: 'xdg-open', args: [url]})
    assert.match(noBrowserReason({SSH_CONNECTION: '1 2 3 4', DISPLAY: ':0'}, 'linux')!, /SSH/)
    assert.match(noBrowserReason({CI: 'true', DISPLAY: ':0'}, 'linux')!, /CI/)
    assert.match(noBrowserReason({}, 'linux')!, /no display/)
    assert.equal(noBrowserReason({DISPLAY: ':0'}, 'linux'), undefined)
    assert.equal(noBrowserReason({}, 'darwin'), undefined)
    assert.equal(noBrowserReason({BROWSER: 'x', SSH_TTY: '/dev/pts/1'}, 'linux'), undefined, '$BROWSER is the user saying how')
  })

  it('looks for the metadata in the order of the MCP spec: RFC 8414, then OpenID Connect (path insertion, then appending)', () => {
    assert.deepEqual(metadataCandidates('https://as.example').map((c) => c.url), ['https://as.example/.well-known/oauth-authorization-server', 'https://as.example/.well-known/openid-configuration'])
    assert.deepEqual(metadataCandidates('https://as.example/tenant1/').map((c) => c.url), [
      'https://as.example/.well-known/oauth-authorization-server/tenant1',
      'https://as.example/.well-known/openid-configuration/tenant1',
      'https://as.example/tenant1/.well-known/openid-configuration',
    ])
    assert.ok(sameIssuer('https://as.example/', 'https://as.example'))
    assert.ok(!sameIssuer('https://as.example//', 'https://as.example'))
    assert.ok(!sameIssuer('http://as.example', 'https://as.example'))
  })

  it('selects the scope: --scope, the challenge\'s, scopes_supported, none; offline_access only when the server lists it', () => {
    assert.deepEqual(selectScopes(['x'], ['a'], ['b'], server()), {scopes: ['x'], scopeSource: 'flag'})
    assert.deepEqual(selectScopes(undefined, ['a'], ['b'], server()), {scopes: ['a'], scopeSource: 'challenge'})
    assert.deepEqual(selectScopes(undefined, [], ['b', 'c'], server()), {scopes: ['b', 'c'], scopeSource: 'metadata'})
    assert.deepEqual(selectScopes(undefined, [], undefined, server()), {scopes: [], scopeSource: 'none'})
    assert.deepEqual(selectScopes(undefined, ['a'], undefined, server(['a', 'offline_access'])).scopes, ['a', 'offline_access'])
    assert.deepEqual(selectScopes(undefined, ['a'], undefined, server(['a'])).scopes, ['a'])
    assert.deepEqual(selectScopes(['a'], [], undefined, server(['offline_access'])).scopes, ['a'], 'what the user asked for is asked for')
    assert.deepEqual(selectScopes(undefined, [], undefined, server(['offline_access'])).scopes, [], 'no scope at all stays none')
  })

  it('reads client keys: the algorithm from the key; public, encrypted, weak and unknown keys refused by name', async () => {
    const pem = (type: 'ec' | 'rsa' | 'ed25519', options: object) => generateKeyPairSync(type as 'ec', {...options, privateKeyEncoding: {type: 'pkcs8', format: 'pem'}, publicKeyEncoding: {type: 'spki', format: 'pem'}} as never) as unknown as {privateKey: string; publicKey: string}
    assert.equal((await parseClientKey(pem('ec', {namedCurve: 'P-256'}).privateKey, 'k.pem')).alg, 'ES256')
    assert.equal((await parseClientKey(pem('ec', {namedCurve: 'P-384'}).privateKey)).alg, 'ES384')
    assert.equal((await parseClientKey(pem('ed25519', {}).privateKey)).alg, 'Ed25519')
    const key = await parseClientKey(pem('rsa', {modulusLength: 2048}).privateKey, 'rsa.pem')
    assert.equal(key.alg, 'RS256')
    assert.equal(key.file, 'rsa.pem')
    assert.match(key.thumbprint, /^[\w-]{43}$/)
    await assert.rejects(parseClientKey(pem('rsa', {modulusLength: 1024}).privateKey, 'weak.pem'), {problem: 'unsupported_algorithm', message: /weak\.pem is a 1024-bit RSA key/})
    await assert.rejects(parseClientKey(pem('ec', {namedCurve: 'P-256'}).publicKey, 'pub.pem'), {problem: 'malformed', message: /pub\.pem holds a public key/})
    await assert.rejects(parseClientKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n', 'enc.pem'), {problem: 'encrypted'})
    await assert.rejects(parseClientKey('hello', 'x.txt'), {problem: 'malformed', message: /not a PEM private key/})
  })

  it('reads a --client-key file by the same rule as --dpop-key: missing, a directory, too large, a passphrase-protected PEM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-key-'))
    try {
      await assert.rejects(loadClientKey(join(dir, 'missing.pem')), {name: 'ClientKeyError', problem: 'unreadable', message: /missing\.pem does not exist$/})
      await assert.rejects(loadClientKey(dir), {problem: 'unreadable', message: /is a directory$/})
      writeFileSync(join(dir, 'big.pem'), 'x'.repeat(70 * 1024))
      await assert.rejects(loadClientKey(join(dir, 'big.pem')), {problem: 'malformed', message: /big\.pem is 71680 bytes, too large for a PEM private key/})
      // A traditional (PKCS#1) PEM with a passphrase: its Proc-Type header says so.
      const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048, privateKeyEncoding: {type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p'}, publicKeyEncoding: {type: 'spki', format: 'pem'}})
      writeFileSync(join(dir, 'locked.pem'), privateKey)
      await assert.rejects(loadClientKey(join(dir, 'locked.pem')), {problem: 'encrypted', message: /locked\.pem is an encrypted private key/})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('a registered client whose redirect URIs the server gave back broken still gets a listener (any free port)', async () => {
    const temporary = ConfigStore.temporary()
    try {
      saveClient(temporary.store, 'p', {issuer: 'https://as.example', clientId: 'c', authMethod: 'none', redirectUris: ['not a url', 'http://[::1'], via: 'dcr', registeredAt: '2026-01-01T00:00:00Z'})
      const ctx = {store: temporary.store, profile: 'p'} as unknown as WalkthroughContext
      const listener = await openListener(ctx, 'https://as.example', undefined)
      try {
        assert.match(listener.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      } finally {
        await listener.close()
      }
    } finally {
      temporary.dispose()
    }
  })

  it('an authorization endpoint that redirects to a Location that is no URL is a clear check failure, not a crash', async () => {
    const server = createServer((_req, res) => res.writeHead(302, {Location: 'http://[::1'}).end())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/authorize?client_id=c`
      await assert.rejects(preflightAuthorization({url, state: 's', codeVerifier: 'v', redirectUri: 'http://127.0.0.1:1/callback'}, {timeoutMs: 2000}), {
        name: 'CheckFailedError',
        code: 'authorization_page',
        message: /redirected to http:\/\/\[::1, which is not a URL/,
      })
    } finally {
      server.close()
    }
  })

  it('the loopback listener takes the callback only, on 127.0.0.1, and tells the browser the outcome without leaking the code onward', async () => {
    const listener = await listenForCallback(0)
    try {
      assert.match(listener.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      assert.equal((await fetch(`http://127.0.0.1:${listener.port}/favicon.ico`)).status, 404)
      assert.equal((await fetch(`http://127.0.0.1:${listener.port}/callback`)).status, 404, 'no authorization response: not a callback')
      const waiting = listener.next(AbortSignal.timeout(5000))
      const browser = fetch(`${listener.redirectUri}?code=abc&state=xyz`)
      const {url, answer} = await waiting
      assert.equal(url.searchParams.get('code'), 'abc')
      answer(false, 'the <state> did not match')
      const page = await browser
      assert.equal(page.status, 400)
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer')
      assert.match(await page.text(), /the &#60;state&#62; did not match/)
      await assert.rejects(listener.next(AbortSignal.timeout(50)), {name: 'TimeoutError'})
    } finally {
      await listener.close()
    }
  })

  it('server text reaches the terminal without control characters, cut to a line', () => {
    assert.equal(fromServer('bad\u001b[31mred\u0007'), 'bad\\x1b[31mred\\x07')
    assert.equal(fromServer('x'.repeat(400)).length, 301)
  })

  it('a user\'s password and the PKCE verifier never reach a HAR file', () => {
    const r = new Redactor()
    const body = 'csrf_token=abc&email=ada%40example.test&password=correct+horse&code_verifier=v3r1f13r-v3r1f13r-v3r1f13r'
    const shown = r.body(body)
    assert.doesNotMatch(shown, /correct|horse|v3r1f13r/)
    assert.match(shown, /email=ada%40example.test/)
  })
})
