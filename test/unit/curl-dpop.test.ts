import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {RequestRecorder} from '../../src/cli/observer.js'
import {DPOP_CURL_NOTE, toCurl} from '../../src/http/curl.js'

describe('--print-curl with DPoP', () => {
  const proof = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJodG0iOiJQT1NUIn0.c2ln'
  const dpopRequest = {method: 'POST', url: 'http://localhost:8080/mcp', headers: {authorization: 'DPoP eyJtoken.secret.part', dpop: proof}, body: '{}'}

  it('prints the proof and hides the token behind $ACCESS_TOKEN', () => {
    const line = toCurl(dpopRequest, {})
    assert.ok(line.includes(`-H 'dpop: ${proof}'`))
    assert.ok(line.includes('-H "authorization: DPoP ${ACCESS_TOKEN}"'))
    assert.ok(!line.includes('secret.part'), 'the access token never appears')
  })

  it('says once, above the first request with a proof, that a proof is single-use', () => {
    const printed: string[] = []
    const observer = new RequestRecorder({printCurl: true, dryRun: false, secrets: () => ({}), print: (l) => printed.push(l)}).observer!
    observer({method: 'GET', url: 'http://localhost:9000/.well-known/oauth-authorization-server', headers: {}})
    observer(dpopRequest)
    observer(dpopRequest)
    assert.equal(printed.length, 4)
    assert.equal(printed[1], DPOP_CURL_NOTE)
    assert.match(DPOP_CURL_NOTE, /single-use/)
    assert.equal(printed.filter((l) => l === DPOP_CURL_NOTE).length, 1)
  })

  it('shows a Bearer token as $ACCESS_TOKEN too, without the note', () => {
    const printed: string[] = []
    const observer = new RequestRecorder({printCurl: true, dryRun: false, secrets: () => ({}), print: (l) => printed.push(l)}).observer!
    observer({method: 'GET', url: 'http://localhost:8080/mcp', headers: {authorization: 'Bearer abc.def.ghi'}})
    assert.deepEqual(printed.length, 1)
    assert.ok(printed[0]!.includes('Bearer ${ACCESS_TOKEN}'))
  })
})
