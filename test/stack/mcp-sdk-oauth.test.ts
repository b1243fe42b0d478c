import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {auth, type OAuthClientProvider} from '@modelcontextprotocol/sdk/client/auth.js'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type {OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens} from '@modelcontextprotocol/sdk/shared/auth.js'

import {startStack} from '../../src/stack/index.js'
import type {StackHandle} from '../../src/stack/types.js'
import {Browser} from './authserver/browser.js'

// An outside client against `stack up`: the MCP SDK's own OAuth client does everything an
// interactive MCP client (Inspector, Claude, Cursor) does, using nothing but the MCP
// authorization specification: 401 -> protected resource metadata -> authorization server
// metadata -> dynamic client registration -> authorization with PKCE and `resource` -> (a
// browser stand-in signs in and consents over HTTP) -> code exchange -> tools/call echo.

const EMAIL = 'sdk-user@example.test'
const PASSWORD = 'a long enough password'
const CALLBACK = 'http://127.0.0.1:47123/callback'

/** An in-memory OAuthClientProvider, as the SDK's interactive example keeps one. */
class MemoryProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed
  saved?: OAuthTokens
  verifier?: string
  authorizationUrl?: URL
  registrations = 0

  get redirectUrl(): string {
    return CALLBACK
  }

  get clientMetadata(): OAuthClientMetadata {
    return {client_name: 'sdk interactive client', redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none'}
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.registrations++
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
    assert.ok(this.verifier, 'no code verifier saved')
    return this.verifier
  }
}

describe('outside client: the MCP SDK OAuth client against the embedded stack', () => {
  let stack: StackHandle

  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0})
    const adminCall = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.adminUrl}${path}`, {method: 'POST', headers: {authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json'}, body: JSON.stringify(body)})
      assert.equal(res.status, 201, await res.text())
    }
    await adminCall('/admin/resources', {slug: 'demo-mcp', uri: stack.resource, backend_kind: 'mint', display_name: 'Demo MCP', scopes: [{name: 'mcp:echo', description: 'echo tool'}]})
    await stack.authServer.ensureUser(EMAIL, PASSWORD)
  })
  after(async () => {
    await stack.stop()
  })

  it('registers, authorizes with PKCE through login and consent, exchanges the code and calls echo', async () => {
    const provider = new MemoryProvider()

    // 1. No tokens: the SDK discovers everything from the MCP server's URL, registers, and asks
    //    for the browser to be sent to the authorization endpoint.
    assert.equal(await auth(provider, {serverUrl: stack.mcpUrl}), 'REDIRECT')
    assert.equal(provider.registrations, 1)
    const url = provider.authorizationUrl!
    assert.equal(`${url.origin}${url.pathname}`, `${stack.publicUrl}/oauth/authorize`)
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
    assert.equal(url.searchParams.get('resource'), stack.resource)
    assert.equal(url.searchParams.get('client_id'), provider.client!.client_id)

    // 2. The browser stand-in: login page, consent page, back to the client's callback.
    const browser = new Browser(stack.publicUrl)
    let {page, left} = await browser.follow(await browser.get(url.toString()))
    assert.match(page.url, /\/login\?redirect=/)
    ;({page, left} = await browser.follow(await browser.signIn(page, EMAIL, PASSWORD)))
    assert.match(page.url, /\/consent\?session_id=/)
    assert.match(page.html, /sdk interactive client<\/span> wants permission to access Demo MCP/)
    ;({left} = await browser.follow(await browser.decide(page, 'allow')))
    assert.ok(left, 'consent did not send the browser back to the client')
    assert.equal(`${left.origin}${left.pathname}`, CALLBACK)
    assert.equal(left.searchParams.get('state'), url.searchParams.get('state'))
    const code = left.searchParams.get('code')!

    // 3. The SDK exchanges the code (with its PKCE verifier) at the token endpoint.
    assert.equal(await auth(provider, {serverUrl: stack.mcpUrl, authorizationCode: code}), 'AUTHORIZED')
    assert.equal(provider.saved?.token_type.toLowerCase(), 'bearer')
    assert.ok(provider.saved?.refresh_token)

    // 4. The SDK's MCP client calls echo through the tier-01 server with that token.
    const client = new Client({name: 'sdk-oauth-test', version: '0.0.1'})
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), {authProvider: provider}))
    try {
      const result = await client.callTool({name: 'echo', arguments: {text: 'hello from an interactive client'}})
      assert.deepEqual(result.content, [{type: 'text', text: 'hello from an interactive client'}])
    } finally {
      await client.close()
    }

    // 5. With a refresh token and no valid access token, the SDK refreshes without a browser.
    provider.saved = {...provider.saved!, access_token: 'expired'}
    assert.equal(await auth(provider, {serverUrl: stack.mcpUrl}), 'AUTHORIZED')
    assert.notEqual(provider.saved.access_token, 'expired')
    assert.equal(provider.registrations, 1)
  })
})
