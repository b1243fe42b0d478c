import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {toHar} from '../../src/http/har.js'
import type {RecordedEvent, RecordedExchange} from '../../src/http/recorder.js'
import {Redactor} from '../../src/http/redact.js'
import {toAscii} from '../../src/trace/ascii.js'
import {FileError} from '../../src/errors.js'
import {checkWritable, writePrivateFile} from '../../src/trace/files.js'
import {toMermaid} from '../../src/trace/mermaid.js'
import {diagramTarget} from '../../src/trace/run.js'
import {buildSequence, type SequenceModel} from '../../src/trace/sequence.js'
import {harProblems, parseMermaid} from './validators.js'

// The renderers and the redactor on inputs a real server does not produce on demand: hostile text
// in an error description, many servers, long paths, secrets in odd places.

function exchange(method: string, url: string, status: number | undefined, extra: Partial<RecordedExchange> = {}): RecordedExchange {
  return {
    kind: 'exchange',
    started: new Date('2026-01-01T00:00:00Z'),
    request: {method, url, headers: []},
    ...(status === undefined ? {} : {response: {status, statusText: '', headers: [], body: '', complete: true}}),
    wait: 1,
    receive: 1,
    ...extra,
  }
}

const HOSTILE = 'a;b #c <br/> d%%e end\nNote over x: y -->> z ::: "q" `t` {u} [v] (w) & ok'

describe('the Mermaid renderer', () => {
  it('writes any server text so that Mermaid still parses the diagram', async () => {
    const model: SequenceModel = {
      participants: [
        {id: 'agent', label: 'ap-demo (agent)', short: 'ap-demo'},
        {id: 'mcp', label: `MCP ${HOSTILE}`, short: 'MCP'},
      ],
      items: [
        {kind: 'step', label: HOSTILE},
        {kind: 'request', to: 'mcp', method: 'POST', path: `/x;y#z<b>`, status: 401, count: 1},
        {kind: 'note', over: 'mcp', text: `401: ${HOSTILE}`},
        {kind: 'request', to: 'mcp', method: 'POST', path: '/mcp', failure: 'no answer (timeout)', count: 3},
        {kind: 'end', ok: false, text: `stopped: ${HOSTILE}`},
      ],
    }
    const text = toMermaid(model)
    assert.equal(await parseMermaid(text), 'sequence')
    // Each item stays on one line: a newline in server text cannot start a statement.
    assert.equal(text.trimEnd().split('\n').length, 1 + 2 + 5)
    assert.match(text, /agent-xmcp: POST \/mcp · no answer \(timeout\) \(×3\)/)
  })

  it('is checked by a parser that does reject a broken diagram', async () => {
    await assert.rejects(parseMermaid('sequenceDiagram\n    agent->>: POST /x\n'), /Parse error/)
  })
})

describe('the sequence model', () => {
  it('learns the authorization server from the resource metadata, and names unknown servers by host', () => {
    const events: RecordedEvent[] = [
      exchange('POST', 'http://mcp.test/mcp', 401),
      {...exchange('GET', 'http://mcp.test/.well-known/oauth-protected-resource/mcp', 200), response: {status: 200, statusText: 'OK', headers: [], body: JSON.stringify({resource: 'http://mcp.test/mcp', authorization_servers: ['http://as.test']}), complete: true}},
      exchange('GET', 'http://as.test/.well-known/oauth-authorization-server', 200),
      exchange('GET', 'http://elsewhere.test/thing', 200),
    ]
    const model = buildSequence(events, {mcpUrl: 'http://mcp.test/mcp', issuer: 'http://wrong.test'})
    assert.deepEqual(model.participants.map((p) => p.label), ['ap-demo (agent)', 'Authorization server', 'MCP server', 'elsewhere.test'])
    assert.deepEqual(model.items.filter((i) => i.kind === 'request').map((i) => (i as {to: string}).to), ['mcp', 'mcp', 'auth', 'server1'])
  })

  it('counts a poll of a server that is not up yet as one arrow', () => {
    const refused = {failure: {name: 'TypeError', message: 'fetch failed', code: 'ECONNREFUSED'}}
    const events = [1, 2, 3].map(() => exchange('GET', 'http://as.test/.well-known/oauth-authorization-server', undefined, refused))
    events.push(exchange('GET', 'http://as.test/.well-known/oauth-authorization-server', 200))
    const model = buildSequence(events, {issuer: 'http://as.test'})
    assert.deepEqual(model.items, [
      {kind: 'request', to: 'auth', method: 'GET', path: '/.well-known/oauth-authorization-server', failure: 'no answer (ECONNREFUSED)', count: 3},
      {kind: 'request', to: 'auth', method: 'GET', path: '/.well-known/oauth-authorization-server', status: 200, count: 1},
    ])
  })
})

describe('the text chart', () => {
  it('fits 100 columns with many servers and long paths and notes', () => {
    const participants = ['agent', 'admin', 'auth', 'mcp', 's1', 's2', 's3'].map((id) => ({id, label: `${id} server with a long name`, short: `${id} server with a long name`}))
    const model: SequenceModel = {
      participants,
      items: [
        {kind: 'step', label: 'x'.repeat(150)},
        ...participants.slice(1).map((p) => ({kind: 'request' as const, to: p.id, method: 'GET', path: `/${'very-long-segment/'.repeat(8)}`, status: 200, count: 1})),
        {kind: 'note', over: 's3', text: 'word '.repeat(60)},
        {kind: 'note', over: 's3', text: 'x'.repeat(300)},
        {kind: 'end', ok: false, text: `stopped: ${'why '.repeat(50)}`},
      ],
    }
    const chart = toAscii(model)
    for (const line of chart.trimEnd().split('\n')) assert.ok([...line].length <= 100, `${[...line].length}: ${line}`)
    // Each arrow reaches its own lifeline: the lifelines are where the second row has bars.
    const lines = chart.split('\n')
    const bars = [...lines[1]!].flatMap((c, i) => (c === '|' ? [i] : []))
    assert.equal(bars.length, 7)
    participants.slice(1).forEach((_p, k) => assert.equal(lines[3 + k]!.indexOf('>'), bars[k + 1]! - 1))
  })
})

describe('the redactor', () => {
  it('keeps the Basic client id readable and fingerprints the secret, the same as in the creation response', () => {
    const secret = 's3cr3t+/=with:odd&chars'
    const basic = Buffer.from(`my-client:${encodeURIComponent(secret)}`).toString('base64')
    const x1 = exchange('POST', 'http://as.test/token', 200)
    x1.request.headers = [['authorization', `Basic ${basic}`], ['content-type', 'application/x-www-form-urlencoded'], ['DPoP', 'eyJhbGciOiJFUzI1NiJ9.eyJodG0iOiJQT1NUIn0.sig']]
    x1.request.body = `grant_type=client_credentials&client_secret=${encodeURIComponent(secret)}&client_assertion=short`
    const x2 = exchange('POST', `http://admin.test/admin/clients?echo=${encodeURIComponent(secret)}`, 201)
    x2.response!.body = JSON.stringify({client_id: 'my-client', client_secret: secret, nested: [{refresh_token: 'rt-1'}]})
    x2.response!.headers = [['set-cookie', 'session=abc']]
    const har = toHar([x1, x2], {creator: {name: 't', version: '0'}, secrets: []})
    assert.deepEqual(harProblems(har), [])
    const text = JSON.stringify(har)
    for (const leaked of [secret, encodeURIComponent(secret), basic, 'eyJhbGciOiJFUzI1NiJ9', 'rt-1', 'session=abc', 'short']) assert.ok(!text.includes(leaked), `leaked ${leaked}`)
    const [first, second] = har.log.entries
    const auth = first!.request.headers.find((h) => h.name === 'authorization')!.value
    const mark = /^Basic client_id=my-client secret=(\[redacted client-secret [0-9a-f]{8}\])$/.exec(auth)?.[1]
    assert.ok(mark, auth)
    assert.ok(first!.request.postData!.text.includes(`client_secret=${mark}`))
    assert.deepEqual(first!.request.postData!.params!.find((p) => p.name === 'client_secret')?.value, mark)
    assert.ok(second!.response.content.text!.includes(`"client_secret":"${mark}"`))
    assert.ok(second!.request.url.includes(encodeURIComponent(mark)), `${second!.request.url} ${mark}`)
    assert.equal(second!.request.queryString[0]!.value, mark)
    assert.match(first!.request.headers.find((h) => h.name === 'DPoP')!.value, /^\[redacted dpop-proof [0-9a-f]{8}\]$/)
  })

  it('redacts the authorization code and a revoked token by name in forms, query strings and the redirect; a JSON "code" stays', () => {
    const code = 'SplxlOBeZQQYbYS6WxSbIA'
    const callback = exchange('GET', `http://127.0.0.1:5555/callback?code=${code}&state=st-1`, 200)
    const redirect = exchange('GET', 'http://as.test/authorize?client_id=c', 302)
    redirect.response!.headers = [['location', `http://127.0.0.1:5555/callback?code=${code}&state=st-1`]]
    const exchangeCode = exchange('POST', 'http://as.test/oauth/token', 200)
    exchangeCode.request.body = `grant_type=authorization_code&code=${code}&redirect_uri=x`
    const revoke = exchange('POST', 'http://as.test/oauth/revoke', 200)
    revoke.request.body = 'token=RT-SECRET-abcdefgh&token_type_hint=refresh_token'
    const rpc = exchange('POST', 'http://mcp.test/mcp', 400)
    rpc.response!.body = JSON.stringify({jsonrpc: '2.0', id: 1, error: {code: -32022, message: 'x'}, detail: {code: 'not_found'}})
    const har = toHar([redirect, callback, exchangeCode, revoke, rpc], {creator: {name: 't', version: '0'}, secrets: []})
    assert.deepEqual(harProblems(har), [])
    const text = JSON.stringify(har)
    for (const leaked of [code, 'RT-SECRET-abcdefgh']) assert.ok(!text.includes(leaked), `leaked ${leaked}`)
    assert.match(text, /redacted authorization-code [0-9a-f]{8}/)
    assert.ok(text.includes('state=st-1'), 'the state is no secret')
    assert.ok(text.includes('\\"code\\":-32022') && text.includes('\\"code\\":\\"not_found\\"'), 'JSON codes stay')
  })

  // Mutation run of issue 19: with the client_secret field rule removed every test still passed,
  // since each secret was also known from a Basic header or the store. Here nothing is known
  // beforehand: only the field's name tells the redactor that its value is a secret.
  it('redacts each secret field by its name alone, however short, in JSON, forms, query strings and SSE', () => {
    const x1 = exchange('POST', 'http://admin.test/admin/clients', 201)
    x1.response!.body = JSON.stringify({client_id: 'c1', client_secret: 'tiny', client_name: 'demo'})
    const x2 = exchange('POST', 'http://as.test/oauth/token', 200)
    x2.request.headers = [['content-type', 'application/x-www-form-urlencoded']]
    x2.request.body = 'grant_type=client_credentials&client_id=c2&client_secret=post-secret-value-1'
    x2.response!.body = JSON.stringify({access_token: 'opaque-access-1', token_type: 'Bearer', refresh_token: 'rt', id_token: 'idt-123'})
    const x3 = exchange('POST', 'http://admin.test/admin/users', 201)
    x3.request.body = JSON.stringify({email: 'a@b.c', password: 'pw "quoted" \\ x'})
    const x4 = exchange('POST', 'http://as.test/login', 302)
    x4.request.headers = [['content-type', 'application/x-www-form-urlencoded']]
    x4.request.body = 'email=a%40b.c&password=p%26w&Client_Secret=MiXeD'
    const x5 = exchange('GET', 'http://mcp.test/mcp?access_token=query-token-1&x=1', 200)
    x5.response!.body = 'event: message\ndata: {"result":{"registration_access_token":"rat-1"}}\n\n'
    // The PKCE verifier of a code exchange (ap-demo login): with it, a leaked code can be redeemed
    // (mutant redact-code-verifier of scripts/mutants.mjs removed its rule).
    const x6 = exchange('POST', 'http://as.test/oauth/token', 200)
    x6.request.headers = [['content-type', 'application/x-www-form-urlencoded']]
    x6.request.body = 'grant_type=authorization_code&code=c0de&code_verifier=vrf-9WzY3kq&client_id=c6'
    const har = toHar([x1, x2, x3, x4, x5, x6], {creator: {name: 't', version: '0'}, secrets: []})
    assert.deepEqual(harProblems(har), [])
    const text = JSON.stringify(har)
    for (const leaked of ['tiny', 'post-secret-value-1', 'opaque-access-1', 'idt-123', 'quoted', 'p%26w', 'p&w', 'MiXeD', 'query-token-1', 'rat-1', 'vrf-9WzY3kq']) assert.ok(!text.includes(leaked), `leaked ${leaked}`)
    const [e1, e2, e3, e4, e5, e6] = har.log.entries
    const mark = (kind: string) => new RegExp(`\\[redacted ${kind} [0-9a-f]{8}\\]`)
    assert.match(JSON.parse(e1!.response.content.text!).client_secret, mark('client-secret'))
    assert.equal(JSON.parse(e1!.response.content.text!).client_name, 'demo', 'other fields are kept')
    assert.match(e2!.request.postData!.params!.find((p) => p.name === 'client_secret')!.value, mark('client-secret'))
    assert.match(e2!.request.postData!.text, /client_secret=\[redacted client-secret [0-9a-f]{8}\]/)
    const token = JSON.parse(e2!.response.content.text!) as Record<string, string>
    assert.match(token.access_token!, mark('access-token'))
    assert.match(token.refresh_token!, mark('refresh-token'))
    assert.match(token.id_token!, mark('id-token'))
    assert.match(JSON.parse(e3!.request.postData!.text).password, mark('password'))
    assert.match(e4!.request.postData!.params!.find((p) => p.name === 'password')!.value, mark('password'))
    assert.match(e4!.request.postData!.params!.find((p) => p.name === 'Client_Secret')!.value, mark('client-secret'))
    assert.match(e5!.request.queryString.find((q) => q.name === 'access_token')!.value, mark('access-token'))
    assert.match(e5!.response.content.text!, /"registration_access_token":"\[redacted access-token [0-9a-f]{8}\]"/)
    assert.match(e6!.request.postData!.params!.find((p) => p.name === 'code_verifier')!.value, mark('secret'))
    assert.equal(e6!.request.postData!.params!.find((p) => p.name === 'client_id')!.value, 'c6', 'other parameters are kept')
  })

  it('redacts a secret learned from a Basic header wherever else it stands, though no field there names it', () => {
    // Mutant redact-basic-secret of scripts/mutants.mjs: the secret inside `Authorization: Basic`
    // was replaced in that header only, so a server that echoed it (an error text, a URL) leaked it.
    const secret = 'basic-only-secret-9f2'
    const basic = Buffer.from(`my-client:${encodeURIComponent(secret)}`).toString('base64')
    const x1 = exchange('POST', 'http://as.test/oauth/token', 401)
    x1.request.headers = [['authorization', `Basic ${basic}`], ['content-type', 'application/x-www-form-urlencoded']]
    x1.request.body = 'grant_type=client_credentials'
    x1.response!.body = JSON.stringify({error: 'invalid_client', error_description: `no client has the secret ${secret}`})
    const x2 = exchange('GET', `http://debug.test/echo?creds=${encodeURIComponent(`my-client:${secret}`)}`, 200)
    const har = toHar([x1, x2], {creator: {name: 't', version: '0'}, secrets: []})
    assert.deepEqual(harProblems(har), [])
    assert.ok(!JSON.stringify(har).includes(secret), JSON.stringify(har))
    const [e1, e2] = har.log.entries
    const mark = /secret=(\[redacted client-secret [0-9a-f]{8}\])$/.exec(e1!.request.headers.find((h) => h.name === 'authorization')!.value)?.[1]
    assert.ok(mark)
    assert.equal(JSON.parse(e1!.response.content.text!).error_description, `no client has the secret ${mark}`)
    assert.equal(e2!.request.queryString.find((q) => q.name === 'creds')!.value, `my-client:${mark}`)
  })

  it('replaces a known secret in its JSON-escaped form too (a password with quotes, in any field)', () => {
    const password = 'pw "quoted" \\ x'
    const x = exchange('POST', 'http://admin.test/admin/users', 400)
    x.response!.body = JSON.stringify({detail: `password ${password} is too weak`})
    const har = toHar([x], {creator: {name: 't', version: '0'}, secrets: [{value: password, kind: 'password'}]})
    assert.ok(!JSON.stringify(har).includes('quoted'), JSON.stringify(har))
    assert.match(har.log.entries[0]!.response.content.text!, /password \[redacted password [0-9a-f]{8}\] is too weak/)
  })

  it('draws a new fingerprint key for each file: fingerprints tell nothing outside it', () => {
    assert.notEqual(new Redactor().placeholder('same secret'), new Redactor().placeholder('same secret'))
    const one = new Redactor()
    assert.equal(one.placeholder('same secret', 'admin-key'), one.placeholder('same secret', 'admin-key'))
  })
})

describe('trace files', () => {
  it('replace an existing file atomically with mode 0600 and leave no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-trace-'))
    try {
      const file = join(dir, 'run.har')
      writeFileSync(file, 'old', {mode: 0o644})
      writePrivateFile(file, '{"new":true}\n')
      assert.equal(statSync(file).mode & 0o777, 0o600)
      assert.deepEqual(readdirSync(dir), ['run.har'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('are refused before the run when their directory is missing or they name a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-trace-'))
    try {
      assert.throws(() => checkWritable(join(dir, 'missing', 'run.har')), (e: unknown) => e instanceof FileError && e.code === 'trace_unwritable' && e.details.reason === 'no_directory')
      assert.throws(() => checkWritable(dir), (e: unknown) => e instanceof FileError && e.details.reason === 'is_directory')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('take their format from --diagram: Mermaid or ascii on stdout, Markdown for .md, the chart for .txt', () => {
    assert.deepEqual(diagramTarget('mermaid'), {format: 'mermaid'})
    assert.deepEqual(diagramTarget('ascii'), {format: 'ascii'})
    assert.deepEqual(diagramTarget('flow.md'), {format: 'markdown', file: 'flow.md'})
    assert.deepEqual(diagramTarget('flow.txt'), {format: 'ascii', file: 'flow.txt'})
    assert.deepEqual(diagramTarget('flow.mmd'), {format: 'mermaid', file: 'flow.mmd'})
  })
})
