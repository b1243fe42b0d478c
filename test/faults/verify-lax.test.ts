// `verify` is seen to fail: against MCP servers that let in what they must refuse, each run stops
// at the step that proves the flaw, with exit code 1 and the failure in the --json document. And
// the tampered token of the last step is pinned: a correct server refuses it for its signature alone.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify} from 'jose'

import {startStack, type StackHandle} from '../../src/stack/index.js'
import {tamper} from '../../src/walkthrough/verify.js'
import {probeInitialize} from '../../src/walkthrough/mcp-probe.js'
import {Sandbox, startTestStack} from '../cli/helpers.js'
import {ADMIN_KEY, createClient, createResource, token} from '../stack/authserver/helpers.js'
import {startLaxMcpServer, type Laxness} from './lax-mcp.js'

const cases: Array<{laxness: Laxness; step: number; name: string; code: string}> = [
  {laxness: 'any-bearer', step: 9, name: 'refused: token without resource', code: 'not_refused'},
  {laxness: 'aud-without-signature', step: 10, name: 'refused: tampered token', code: 'not_refused'},
  {laxness: 'unprotected', step: 2, name: 'MCP server ready (401 without a token)', code: 'mcp_unprotected'},
]

describe('fault suite: verify against lax MCP servers', () => {
  // Each case gets its own stack and user: verify registers the resource under one slug, and each
  // lax server is a new resource URI.
  for (const c of cases) {
    it(`fails at step ${c.step} ("${c.name}") against a server that is ${c.laxness}`, async () => {
      const {stack, env} = await startTestStack()
      const lax = await startLaxMcpServer(stack.issuer, c.laxness)
      const box = new Sandbox({...env, MCP_URL: lax.url, AUTHPLANE_RESOURCE: lax.resource})
      try {
        const result = await box.run(['verify', '--json', '--timeout', '5'])
        assert.equal(result.code, 1, result.stdout + result.stderr)
        const doc = JSON.parse(result.stdout)
        assert.equal(doc.status, 'error')
        assert.equal(doc.error.exitCode, 1)
        assert.equal(doc.error.code, c.code)
        assert.match(doc.error.message, new RegExp(`^step "${escape(c.name)}" failed`))
        const steps = doc.error.report.steps as Array<{step: number; name: string; ok: boolean}>
        assert.deepEqual(steps.map((s) => s.ok), [...Array(c.step - 1).fill(true), false], 'every step before passed, this one failed')
        assert.equal(steps.at(-1)?.name, c.name)
        assert.equal(doc.error.report.failedStep, c.name)
        assert.equal(doc.error.report.passed, false)
        if (c.step !== 9) return
        // The human form says the same on one error line.
        const human = await box.run(['verify', '--timeout', '5'])
        assert.equal(human.code, 1)
        assert.match(human.stderr, new RegExp(`^Error: step "${escape(c.name)}" failed`, 'm'))
        assert.doesNotMatch(human.stderr, /\n\s+at .+:\d+:\d+/)
      } finally {
        box.cleanup()
        await lax.stop()
        await stack.stop()
      }
    })
  }
})

function escape(text: string): string {
  return text.replace(/[()]/g, '\\$&')
}

describe('fault suite: the tampered token is one a correct server refuses', () => {
  let stack: StackHandle
  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, adminKey: ADMIN_KEY})
  })
  after(() => stack.stop())

  it('keeps header, signature and audience, changes the claims, and fails only the signature check', async () => {
    await createResource(stack.authServer, {uri: stack.resource})
    const client = await createClient(stack.authServer)
    const minted = await token(stack.authServer, client, {resource: stack.resource})
    assert.equal(minted.status, 200, minted.text)
    const accessToken: string = minted.body.access_token
    const forged = tamper(accessToken)
    const [h, p, s] = accessToken.split('.')
    const [fh, fp, fs] = forged.split('.')
    assert.equal(fh, h)
    assert.equal(fs, s)
    assert.notEqual(fp, p)
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
    const forgedClaims = JSON.parse(Buffer.from(fp!, 'base64url').toString())
    assert.deepEqual(forgedClaims.aud, claims.aud, 'a server checking only aud would take it')
    assert.equal(forgedClaims.exp, claims.exp + 3600)
    assert.equal(decodeProtectedHeader(forged).kid, decodeProtectedHeader(accessToken).kid)

    const jwks = createRemoteJWKSet(new URL(`${stack.publicUrl}/.well-known/jwks.json`))
    await jwtVerify(accessToken, jwks, {issuer: stack.issuer, audience: stack.resource})
    await assert.rejects(jwtVerify(forged, jwks, {issuer: stack.issuer, audience: stack.resource}), joseErrors.JWSSignatureVerificationFailed)

    // The stack's MCP server: the real token gets in, the forged one gets 401.
    assert.equal((await probeInitialize(stack.mcpUrl, accessToken, {timeoutMs: 5000})).status, 200)
    const refused = await probeInitialize(stack.mcpUrl, forged, {timeoutMs: 5000})
    assert.equal(refused.status, 401)
    assert.match(refused.wwwAuthenticate ?? '', /invalid_token/)
  })
})
