import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {Tool} from '@modelcontextprotocol/client'

import {toCurl} from '../../src/http/curl.js'
import {buildToolArguments, parseToolFlags, splitToolArgv} from '../../src/mcp/arguments.js'
import {challengeSchemes, parseWwwAuthenticate} from '../../src/mcp/diagnose.js'
import {serverText} from '../../src/mcp/errors.js'
import {formatError} from '../../src/cli/render/messages.js'
import {resolveMcpProtocol} from '../../src/mcp/protocol.js'
import {normaliseSlug, parseScopeArgument} from '../../src/walkthrough/resource.js'
import {tamper} from '../../src/walkthrough/verify.js'

describe('scope and slug syntax (the real server CLI\'s)', () => {
  it('parses name, name||description and rejects an upstream for Mint', () => {
    assert.deepEqual(parseScopeArgument('mcp:echo'), {name: 'mcp:echo'})
    assert.deepEqual(parseScopeArgument('mcp:echo||echo tool'), {name: 'mcp:echo', description: 'echo tool'})
    assert.deepEqual(parseScopeArgument('a||b|c'), {name: 'a', description: 'b|c'}, 'split into at most three parts')
    assert.throws(() => parseScopeArgument('mcp:echo|github|x'), /upstream/)
    assert.throws(() => parseScopeArgument('||x'), /invalid scope/)
    assert.throws(() => parseScopeArgument('two words'), /invalid scope/)
  })
  it('lower-cases slugs, then applies the pattern', () => {
    assert.equal(normaliseSlug('Demo-MCP'), 'demo-mcp')
    assert.throws(() => normaliseSlug('-x'), /invalid slug/)
    assert.throws(() => normaliseSlug('a'.repeat(65)), /invalid slug/)
  })
})

describe('tool arguments from the input schema', () => {
  const tool = {
    name: 't',
    inputSchema: {
      type: 'object',
      properties: {text: {type: 'string'}, n: {type: 'integer'}, x: {type: 'number'}, on: {type: 'boolean'}, tags: {type: 'array'}},
      required: ['text'],
    },
  } as unknown as Tool
  it('coerces by type and names the schema on errors', () => {
    assert.deepEqual(buildToolArguments(tool, [['text', 'hi'], ['n', '3'], ['x', '1.5'], ['on', 'yes'], ['tags', '["a"]']]), {text: 'hi', n: 3, x: 1.5, on: true, tags: ['a']})
    assert.throws(() => buildToolArguments(tool, [['text', 'a'], ['n', '1.2']]), /--n must be an integer/)
    assert.throws(() => buildToolArguments(tool, [['nope', 'a']]), /no argument --nope \(it takes: --text <string> \(required\)/)
    assert.throws(() => buildToolArguments(tool, []), /needs --text/)
    assert.deepEqual(buildToolArguments(tool, [['n', '2']], '{"text":"j","n":1}'), {text: 'j', n: 2}, 'flags win over --args')
    assert.throws(() => buildToolArguments(tool, [], '[1]'), /JSON object/)
  })
  it('splits the command\'s own flags from the tool\'s', () => {
    const defs = {json: {type: 'boolean'}, scope: {type: 'option'}, 'no-cache': {type: 'boolean'}}
    assert.deepEqual(splitToolArgv(['echo', '--text', 'hi', '--json', '--scope', 's', '--n=3'], defs), {own: ['echo', '--json', '--scope', 's'], tool: ['--text', 'hi', '--n=3'], nearMisses: []})
    assert.deepEqual(parseToolFlags('t', ['--text', 'hi', '--n=3']), [['text', 'hi'], ['n', '3']])
    assert.throws(() => parseToolFlags('t', ['stray']), /unexpected argument/)
  })
  it('keeps a near miss of the command\'s own flags aside, without taking the next flag as its value', () => {
    const defs = {dpop: {type: 'boolean'}, scope: {type: 'option'}}
    assert.deepEqual(splitToolArgv(['echo', '--dpopp', '--text', 'hi', '--scopes', 'a b', '--sc=x'], defs), {
      own: ['echo'],
      tool: ['--text', 'hi', '--sc=x'],
      nearMisses: [{flag: 'dpopp', suggestion: 'dpop', value: undefined}, {flag: 'scopes', suggestion: 'scope', value: 'a b'}],
    })
    const tool = {name: 'echo', inputSchema: {type: 'object' as const, properties: {text: {type: 'string'}, scopes: {type: 'string'}}, required: ['text']}}
    assert.throws(() => buildToolArguments(tool, [['text', 'hi']], undefined, [{flag: 'dpopp', suggestion: 'dpop'}]), /^McpUnknownFlagError: unknown flag --dpopp: did you mean --dpop\? \(tool arguments come from the tool's schema: --text <string> \(required\)/)
    // A property of the schema is the tool's, however close to a flag of the command.
    assert.deepEqual(buildToolArguments(tool, [['text', 'hi']], undefined, [{flag: 'scopes', suggestion: 'scope', value: 'a b'}]), {text: 'hi', scopes: 'a b'})
    assert.throws(() => buildToolArguments(tool, [['text', 'hi']], undefined, [{flag: 'scopes', suggestion: 'scope'}]), /--scopes needs a value/)
  })
})

describe('WWW-Authenticate (RFC 6750 §3)', () => {
  it('reads quoted parameters with escapes', () => {
    const parsed = parseWwwAuthenticate('Bearer error="invalid_token", error_description="bad \\"aud\\"", scope="mcp:echo", resource_metadata="http://h/.well-known/oauth-protected-resource/mcp"')
    assert.equal(parsed?.scheme, 'Bearer')
    assert.deepEqual(parsed?.params, {error: 'invalid_token', error_description: 'bad "aud"', scope: 'mcp:echo', resource_metadata: 'http://h/.well-known/oauth-protected-resource/mcp'})
    assert.equal(parseWwwAuthenticate(null), undefined)
  })
})

describe('curl rendering', () => {
  it('never prints a secret: each becomes the variable that holds it', () => {
    const key = 'admin-key-0123456789abcdef'
    const line = toCurl({method: 'POST', url: 'http://localhost:9001/admin/clients', headers: {Authorization: `Bearer ${key}`, 'Content-Type': 'application/json'}, body: '{"a":"it\'s $HOME"}'}, {[key]: 'AUTHPLANE_ADMIN_API_KEY'})
    assert.ok(!line.includes(key))
    assert.match(line, /-H "Authorization: Bearer \$\{AUTHPLANE_ADMIN_API_KEY\}"/)
    assert.match(line, /--data-raw '\{"a":"it'\\''s \$HOME"\}'/, 'single-quoted data keeps $ literal')
    const secret = 'S3cr3t-value-that-is-long-enough-to-mask-xx'
    const basic = toCurl({method: 'POST', url: 'http://localhost:9000/oauth/token', headers: {authorization: `Basic ${Buffer.from(`client:${secret}`).toString('base64')}`}, body: 'grant_type=client_credentials'}, {[secret]: 'AUTHPLANE_CLIENT_SECRET'})
    assert.match(basic, /-u "client:\$\{AUTHPLANE_CLIENT_SECRET\}"/)
    const bearer = toCurl({method: 'GET', url: 'http://x/mcp', headers: {authorization: 'Bearer eyJ.x.y', 'mcp-session-id': 'abc'}}, {})
    assert.match(bearer, /"authorization: Bearer \$\{ACCESS_TOKEN\}" -H "mcp-session-id: \$\{MCP_SESSION_ID\}"/)
  })

  it('--print-curl and --dry-run show secret form fields by name as variables: the code, the PKCE verifier, a client assertion, a revoked token', () => {
    const exchangeLine = toCurl({method: 'POST', url: 'http://localhost:9000/oauth/token', headers: {}, body: 'grant_type=authorization_code&code=pKwXarGdzz&code_verifier=R_2UQTRT9L3l&refresh_token=BAL0jyl1I2de&client_assertion=eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln'}, {})
    for (const leaked of ['pKwXarGdzz', 'R_2UQTRT9L3l', 'BAL0jyl1I2de', 'eyJhbGciOiJFUzI1NiJ9']) assert.ok(!exchangeLine.includes(leaked), exchangeLine)
    assert.match(exchangeLine, /code=\$\{AUTHORIZATION_CODE\}&code_verifier=\$\{CODE_VERIFIER\}&refresh_token=\$\{REFRESH_TOKEN\}&client_assertion=\$\{CLIENT_ASSERTION\}/)
    assert.match(toCurl({method: 'POST', url: 'http://localhost:9000/oauth/revoke', headers: {}, body: 'token=abc123&token_type_hint=refresh_token'}, {}), /token=\$\{TOKEN\}&token_type_hint=refresh_token/)
    const callback = toCurl({method: 'GET', url: 'http://127.0.0.1:5555/callback?code=pKwXarGdzz&state=s', headers: {}}, {})
    assert.ok(!callback.includes('pKwXarGdzz'), callback)
    assert.match(callback, /"http:\/\/127\.0\.0\.1:5555\/callback\?code=\$\{AUTHORIZATION_CODE\}&state=s"/)
    // A known secret keeps its own variable.
    assert.match(toCurl({method: 'POST', url: 'http://x/t', headers: {}, body: 'client_secret=sekret-1'}, {'sekret-1': 'AUTHPLANE_CLIENT_SECRET'}), /client_secret=\$\{AUTHPLANE_CLIENT_SECRET\}/)
  })
  it('MCP: the initialize line shows the answer headers, the event-stream GET ends by itself, others are unchanged', () => {
    const init = toCurl({method: 'POST', url: 'http://x/mcp', headers: {accept: 'application/json, text/event-stream'}, body: '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}'}, {})
    assert.match(init, /^curl -sS -D - -X POST /)
    const sse = toCurl({method: 'GET', url: 'http://x/mcp', headers: {accept: 'text/event-stream', 'mcp-session-id': 'abc'}}, {})
    assert.match(sse, /^curl -sS -N --max-time 5 'http:\/\/x\/mcp'/)
    const call = toCurl({method: 'POST', url: 'http://x/mcp', headers: {accept: 'application/json, text/event-stream'}, body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"initialize"}}'}, {})
    assert.match(call, /^curl -sS -X POST /, 'a tool named "initialize" is not the initialize request')
  })
  it('tampers a JWT by changing its payload, not its signature', () => {
    const t = tamper('aaa.bbbbbb.ccc')
    assert.notEqual(t, 'aaa.bbbbbb.ccc')
    assert.equal(t.split('.')[2], 'ccc')
  })
})

describe('MCP protocol choices and server text (issue 18)', () => {
  it('--protocol, else AP_DEMO_MCP_PROTOCOL, else auto; a bad value names where it came from', () => {
    assert.equal(resolveMcpProtocol(undefined, undefined), 'auto')
    assert.equal(resolveMcpProtocol(undefined, '2026-07-28'), '2026-07-28')
    assert.equal(resolveMcpProtocol('2025-11-25', '2026-07-28'), '2025-11-25')
    assert.throws(() => resolveMcpProtocol(undefined, 'modern'), /AP_DEMO_MCP_PROTOCOL="modern" is not an MCP protocol choice/)
  })

  it('reads every challenge\'s scheme of a WWW-Authenticate header, quoted commas and all', () => {
    assert.deepEqual(challengeSchemes('Bearer error="invalid_token", error_description="a, b", resource_metadata="x"'), ['Bearer'])
    assert.deepEqual(challengeSchemes('DPoP error="invalid_dpop_proof", algs="ES256 RS256", Bearer scope="mcp:echo"'), ['DPoP', 'Bearer'])
    assert.deepEqual(challengeSchemes('Bearer, DPoP algs="ES256"'), ['Bearer', 'DPoP'])
    assert.deepEqual(challengeSchemes(null), [])
  })

  it('keeps a server\'s words short, and the error report shows their control characters as escapes', () => {
    assert.equal(serverText('x'.repeat(500)).length, 200)
    const said = serverText('Unsupported \u001b[31mversion\u0007')
    const lines = formatError({message: `the server refused the protocol: ${said}`}).join('\n')
    assert.ok(lines.includes('Unsupported \\x1b[31mversion\\x07'), lines)
    assert.ok(!lines.includes('\u001b[31mversion'), lines)
  })
})
