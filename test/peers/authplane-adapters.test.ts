// ap-demo against servers built the way Authplane's own Python MCP adapters (authplane-mcp,
// authplane-fastmcp in AuthPlane/python-sdk) build them, played by an SDK v2 peer: their protected
// resource metadata names the issuer with a trailing slash (pydantic's AnyHttpUrl writes
// `http://host:port/`), which Authplane's SDKs do not count as a difference.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import {diagnoseRejection} from '../../src/mcp/diagnose.js'
import type {StackHandle} from '../../src/stack/index.js'
import {assertCleanFailure, Sandbox, useTestStack} from '../cli/helpers.js'
import {startV2Peer, type V2Peer} from './v2-mcp-server.js'

const json = (stdout: string) => JSON.parse(stdout) as {status: string; result: any; error?: any}

/** An unsigned JWT with these claims: the diagnosis decodes a token, it never trusts it. */
function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({alg: 'ES256', typ: 'at+jwt', kid: 'k'})}.${part(claims)}.c2ln`
}

describe('a server whose resource metadata names the issuer with a trailing slash (Authplane\'s Python adapters)', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  let peer!: V2Peer
  let client!: {id: string; secret: string}
  useTestStack((s) => ({stack, env} = s))
  before(async () => {
    peer = await startV2Peer({eras: 'dual', issuer: stack.issuer, announcedIssuer: `${stack.issuer}/`})
    const admin = new Sandbox(env)
    try {
      assert.equal((await admin.run(['setup', 'resource', '--uri', peer.url, '--slug', 'python-adapter'])).code, 0)
      assert.equal((await admin.run(['setup', 'client', '--name', 'python-adapter-agent'])).code, 0)
      client = JSON.parse(readFileSync(admin.storePath, 'utf8')).profiles.default.client
    } finally {
      admin.cleanup()
    }
  })
  after(async () => {
    await peer.stop()
  })

  it('mcp call --discover works: one trailing slash is not a difference at discovery', async () => {
    const prm = (await (await fetch(`${new URL(peer.url).origin}/.well-known/oauth-protected-resource/mcp`)).json()) as {authorization_servers: string[]}
    assert.deepEqual(prm.authorization_servers, [`${stack.issuer}/`], 'the peer names the issuer as the Python adapters do')
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: client.secret})
    try {
      const r = await box.run(['mcp', 'call', 'echo', '--text', 'slash', '--discover', '--mcp-url', peer.url, '--client-id', client.id, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const out = json(r.stdout).result
      assert.equal(out.result.content[0].text, 'slash')
      assert.equal(out.auth.issuer, `${stack.issuer}/`, 'the issuer as the metadata names it')
      // --issuer without the slash is the same issuer: listed, and the token comes from it.
      const named = await box.run(['mcp', 'call', 'echo', '--text', 'named', '--discover', '--issuer', stack.issuer, '--mcp-url', peer.url, '--client-id', client.id, '--json', '--no-cache'])
      assert.equal(named.code, 0, named.stderr)
      assert.equal(json(named.stdout).result.auth.issuer, stack.issuer)
    } finally {
      box.cleanup()
    }
  })

  it('anything beyond one trailing slash is still a different issuer', async () => {
    const box = new Sandbox({AUTHPLANE_CLIENT_SECRET: client.secret})
    try {
      const other = stack.issuer.replace('127.0.0.1', 'localhost')
      const r = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--discover', '--issuer', other, '--mcp-url', peer.url, '--client-id', client.id])
      assertCleanFailure(r, 7, /the MCP server trusts .* not "http:\/\/localhost:\d+"/)
      const twice = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--discover', '--issuer', `${stack.issuer}//`, '--mcp-url', peer.url, '--client-id', client.id])
      assertCleanFailure(twice, 7, /not "http:\/\/127\.0\.0\.1:\d+\/\/"/)
    } finally {
      box.cleanup()
    }
  })

  it('the 401 diagnosis says "issuer mismatch" only when the issuers differ after the rule; otherwise what the challenge says', async () => {
    const metadataUrl = `${new URL(peer.url).origin}/.well-known/oauth-protected-resource/mcp`
    const now = Math.floor(Date.now() / 1000)
    const claims = {iss: stack.issuer, aud: [peer.url], scope: 'mcp:echo', exp: now + 600, sub: 'c', client_id: 'c', jti: 'j', iat: now}
    const challenge = (description: string) => ({status: 401, wwwAuthenticate: `Bearer error="invalid_token", error_description="${description}", resource_metadata="${metadataUrl}"`, body: {error: 'invalid_token', error_description: description}})

    const signature = await diagnoseRejection(challenge('token refused: signature verification failed'), unsignedJwt(claims))
    assert.equal(signature.cause, 'signature')
    assert.deepEqual(signature.expected?.issuer, [`${stack.issuer}/`])

    const unexplained = await diagnoseRejection(challenge('Authentication required'), unsignedJwt(claims))
    assert.equal(unexplained.cause, 'other')
    assert.doesNotMatch(unexplained.message, /issuer/)
    assert.match(unexplained.message, /server said: Authentication required/)

    const elsewhere = await diagnoseRejection(challenge('Authentication required'), unsignedJwt({...claims, iss: stack.issuer.replace('127.0.0.1', 'localhost')}))
    assert.equal(elsewhere.cause, 'issuer')
    assert.match(elsewhere.message, /^issuer mismatch: the token's iss is "http:\/\/localhost:\d+" but the MCP server trusts "http:\/\/127\.0\.0\.1:\d+\/"/)
  })
})

describe('a server that takes DPoP-bound tokens only under Bearer with a proof (Authplane\'s tier-03 Python server)', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  let peer!: V2Peer
  let box!: Sandbox
  useTestStack((s) => ({stack, env} = s))
  before(async () => {
    // As the issue met it: the Python adapters' metadata also names the issuer with a slash.
    peer = await startV2Peer({eras: 'dual', issuer: stack.issuer, announcedIssuer: `${stack.issuer}/`, dpop: 'bearer-proof'})
    box = new Sandbox({...env, MCP_URL: peer.url, AUTHPLANE_RESOURCE: peer.url})
    assert.equal((await box.run(['setup', 'resource', '--slug', 'tier03-python'])).code, 0)
    assert.equal((await box.run(['setup', 'client'])).code, 0)
  })
  after(async () => {
    await peer.stop()
    box.cleanup()
  })

  it('mcp call --dpop works: the Bearer-only challenge turns the DPoP scheme into Bearer plus the proof', async () => {
    peer.requests.length = 0
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'bound', '--dpop', '--no-cache'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'bound\n')
    const [first, second, ...rest] = peer.requests
    assert.match(first?.authorization ?? '', /^DPoP /)
    assert.equal(first?.status, 401)
    assert.match(second?.authorization ?? '', /^Bearer /)
    assert.ok(second?.dpop, 'the proof goes with it')
    assert.ok([second, ...rest].every((q) => /^Bearer /.test(q?.authorization ?? '') && q?.dpop), 'the rest of the run keeps Bearer, each request with a proof')
  })

  it('verify --dpop passes all 15 steps, the refusals sent under Bearer as well', async () => {
    const r = await box.run(['verify', '--dpop', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const report = json(r.stdout).result
    assert.equal(report.steps.length, 15)
    assert.ok(report.steps.every((s: {ok: boolean}) => s.ok))
    assert.match(report.steps[5].detail, /token under Bearer \+ proof$/)
    assert.match(report.steps[10].detail, /^401 /, 'the bound token without its proof is refused')
  })

  it('--dpop-scheme dpop forces the RFC scheme: the 401 is explained as the scheme, not as an issuer mismatch', async () => {
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--dpop', '--dpop-scheme', 'dpop'])
    assertCleanFailure(r, 3, /offers only the Bearer scheme and refused the DPoP-bound token sent as "Authorization: DPoP"/)
    assert.doesNotMatch(r.stderr, /issuer mismatch/)
    assert.match(r.stderr, /Hint: .*--dpop-scheme auto .* or --dpop-scheme bearer/)
    peer.requests.length = 0
    const bearer = await box.run(['mcp', 'call', 'echo', '--text', 'y', '--dpop', '--dpop-scheme', 'bearer'])
    assert.equal(bearer.code, 0, bearer.stderr)
    assert.ok(peer.requests.every((q) => /^Bearer /.test(q.authorization ?? '')), 'no request under DPoP')
    assertCleanFailure(await box.run(['mcp', 'call', 'echo', '--text', 'z', '--dpop-scheme', 'bearer']), 2, /--dpop-scheme is for a DPoP-bound token/)
  })
})
