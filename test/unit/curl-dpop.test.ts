import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {DPOP_CURL_NOTE, toCurl} from '../../src/http/curl.js'

describe('--print-curl with DPoP', () => {
  const proof = 'eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJodG0iOiJQT1NUIn0.c2ln'

  it('prints the proof, hides the token behind $ACCESS_TOKEN, and says the proof is single-use', () => {
    const text = toCurl({method: 'POST', url: 'http://localhost:8080/mcp', headers: {authorization: 'DPoP eyJtoken.secret.part', dpop: proof}, body: '{}'}, {})
    const [note, line] = text.split('\n')
    assert.equal(note, DPOP_CURL_NOTE)
    assert.match(note!, /single-use/)
    assert.ok(line!.includes(`-H 'dpop: ${proof}'`))
    assert.ok(line!.includes('-H "authorization: DPoP ${ACCESS_TOKEN}"'))
    assert.ok(!text.includes('secret.part'), 'the access token never appears')
  })

  it('leaves requests without a proof on one line', () => {
    const text = toCurl({method: 'GET', url: 'http://localhost:9000/.well-known/oauth-authorization-server', headers: {authorization: 'Bearer abc.def.ghi'}}, {})
    assert.equal(text.split('\n').length, 1)
    assert.ok(text.includes('Bearer ${ACCESS_TOKEN}'))
  })
})
