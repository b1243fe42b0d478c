import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {auth, type OAuthClientProvider} from '@modelcontextprotocol/sdk/client/auth.js'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type {OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens} from '@modelcontextprotocol/sdk/shared/auth.js'

import {Browser} from '../stack/authserver/browser.js'
import {Sandbox, terminate} from './helpers.js'

// Issue 20, G5, done when "an MCP client that offers a CIMD client id can sign a user in through
// `stack up`": the MCP SDK's OAuth client, given a Client ID Metadata Document URL instead of
// registering, against `ap-demo stack up`. The document is served over https on loopback with a
// certificate made for this test (openssl), which the stack trusts through NODE_EXTRA_CA_CERTS;
// loopback is allowed by the real server's switch for local testing,
// --cimd-allow-private-addresses. https itself stays required, as by default.

const EMAIL = 'cimd-sdk@example.test'
const PASSWORD = 'a long enough password'
const CALLBACK = 'http://127.0.0.1:47124/callback'
const ADMIN_KEY = 'cimd-login-admin-key-0123456789'

class DocumentClientProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed
  saved?: OAuthTokens
  verifier?: string
  authorizationUrl?: URL

  constructor(readonly clientMetadataUrl: string) {}

  get redirectUrl(): string {
    return CALLBACK
  }

  get clientMetadata(): OAuthClientMetadata {
    return {client_name: 'CIMD SDK client', redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none'}
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.client = info
  }

  tokens(): OAuthTokens | undefined {
    return this.saved
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url
  }

  saveCodeVerifier(v: string): void {
    this.verifier = v
  }

  codeVerifier(): string {
    assert.ok(this.verifier)
    return this.verifier
  }
}

describe('CIMD through stack up: the MCP SDK client signs a user in with a metadata document URL as its client id', () => {
  const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: ADMIN_KEY})
  let docs: Server
  let docUrl = ''
  let docHits = 0
  let certFile = ''

  before(async () => {
    certFile = join(box.root, 'cert.pem')
    const keyFile = join(box.root, 'key.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], {stdio: 'ignore'})
    docs = createServer({key: readFileSync(keyFile), cert: readFileSync(certFile)}, (req, res) => {
      docHits++
      if (req.url !== '/oauth/client-metadata.json') return void res.writeHead(404).end()
      res.writeHead(200, {'content-type': 'application/json', 'cache-control': 'max-age=300'})
      res.end(JSON.stringify({client_id: docUrl, client_name: 'CIMD SDK client', redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none'}))
    })
    await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve))
    docUrl = `https://127.0.0.1:${(docs.address() as AddressInfo).port}/oauth/client-metadata.json`
  })
  after(() => {
    docs.close()
    box.cleanup()
  })

  it('discovers CIMD support, authorizes with the document URL, signs in, consents, exchanges the code, calls echo, revokes', async () => {
    const up = await box.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--no-save', '--json', '--cimd-allow-private-addresses', '--user', EMAIL],
      {env: {NODE_EXTRA_CA_CERTS: certFile, AP_DEMO_USER_PASSWORD: PASSWORD}})
    try {
      const stack = up.doc.result
      const created = await fetch(`${stack.adminUrl}/admin/resources`, {method: 'POST', headers: {authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json'},
        body: JSON.stringify({slug: 'demo-mcp', uri: stack.resource, backend_kind: 'mint', display_name: 'Demo MCP', scopes: [{name: 'mcp:echo', description: 'echo tool'}]})})
      assert.equal(created.status, 201, await created.text())

      // 1. The SDK finds client_id_metadata_document_supported and uses the URL: no registration.
      const provider = new DocumentClientProvider(docUrl)
      assert.equal(await auth(provider, {serverUrl: stack.mcpUrl}), 'REDIRECT')
      const url = provider.authorizationUrl!
      assert.equal(url.searchParams.get('client_id'), docUrl)
      assert.equal(docHits, 0, 'the stack has not fetched the document yet')

      // 2. The browser stand-in: the stack fetches the document, the user signs in and consents.
      const browser = new Browser(stack.publicUrl)
      let {page, left} = await browser.follow(await browser.get(url.toString()))
      assert.match(page.url, /\/login\?redirect=/, page.html)
      assert.equal(docHits, 1)
      ;({page, left} = await browser.follow(await browser.signIn(page, EMAIL, PASSWORD)))
      assert.match(page.html, /CIMD SDK client<\/span> wants permission to access Demo MCP/)
      ;({left} = await browser.follow(await browser.decide(page, 'allow')))
      assert.ok(left)
      assert.equal(`${left.origin}${left.pathname}`, CALLBACK)

      // 3. The code exchange, as a public client named by its URL.
      assert.equal(await auth(provider, {serverUrl: stack.mcpUrl, authorizationCode: left.searchParams.get('code')!}), 'AUTHORIZED')
      const claims = JSON.parse(Buffer.from(provider.saved!.access_token.split('.')[1]!, 'base64url').toString('utf8'))
      assert.equal(claims.client_id, docUrl)
      assert.equal(provider.saved!.expires_in, 900)

      // 4. The MCP call with that token.
      const client = new Client({name: 'cimd-sdk-test', version: '0.0.1'})
      await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {authProvider: provider}))
      try {
        const result = await client.callTool({name: 'echo', arguments: {text: 'hello from a CIMD client'}})
        assert.deepEqual(result.content, [{type: 'text', text: 'hello from a CIMD client'}])
      } finally {
        await client.close()
      }

      // 5. Sign-out as a terminal client does it: RFC 7009 with client_id in the form, no secret.
      const revoke = await fetch(`${stack.publicUrl}/oauth/revoke`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams({token: provider.saved!.refresh_token!, token_type_hint: 'refresh_token', client_id: docUrl})})
      assert.equal(revoke.status, 200)
      const reuse = await fetch(`${stack.publicUrl}/oauth/token`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: provider.saved!.refresh_token!, client_id: docUrl})})
      assert.equal(reuse.status, 400)
    } finally {
      assert.equal(await terminate(up.child), 0, up.stderr())
    }
  })

  it('without the switch, a loopback document is refused (the real server\'s default), and the log says why', async () => {
    const up = await box.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--no-save', '--json'], {env: {NODE_EXTRA_CA_CERTS: certFile}})
    try {
      const q = new URLSearchParams({response_type: 'code', client_id: docUrl, redirect_uri: CALLBACK, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', scope: 'mcp:echo'})
      const page = await fetch(`${up.doc.result.publicUrl}/oauth/authorize?${q}`, {redirect: 'manual'})
      assert.equal(page.status, 400)
      assert.match(await page.text(), /Invalid Client/)
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.match(up.stderr(), new RegExp(`cimd auto-registration failed: client_id="${docUrl.replace(/[.?]/g, '\\$&')}": failed to fetch client metadata document: loopback address rejected: 127\\.0\\.0\\.1`))
    } finally {
      assert.equal(await terminate(up.child), 0, up.stderr())
    }
  })
})
