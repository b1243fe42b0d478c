import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import chalk from 'chalk'

import {hasTerminalControls, terminalBlock, terminalJson, terminalLine, terminalSafe} from '../../src/terminal-text.js'

// R3-04: the one rule for outside text on its way to a terminal, and every human renderer of
// src/cli/render fed strings full of escapes. A renderer added later fails the last test until it
// is listed here with a sample.

/** A window title (OSC 0 ... BEL), a screen clear (CSI), a clipboard write (OSC 52), C1 CSI, CR, DEL, NUL, a bidi override, a newline. */
const HOSTILE = 'x\x1b]0;title\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J\rover\x7f\x00\u202eevil\nnext'

/** What a terminal would obey; `block` allows the newlines and tabs of a multi-line text. */
function obeyed(text: string, block: boolean): RegExpExecArray | null {
  return (block ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/ : /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/).exec(text)
}

/** Every string of a sample (values and keys) replaced by the hostile one, numbered to stay distinct. */
function hostile<T>(sample: T): T {
  let n = 0
  // The keys of maps that come from outside (a tool's argument names, tool=scope pairs) too.
  const walk = (v: unknown, parent = ''): unknown => {
    if (typeof v === 'string') return `${HOSTILE}${n++}`
    if (Array.isArray(v)) return v.map((x) => walk(x))
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [parent === 'toolScopes' || parent === 'properties' ? `${HOSTILE}${n++}` : k, walk(x, k)]))
    return v
  }
  return walk(sample) as T
}

describe('the terminal rule', () => {
  it('escapes every C0 and C1 control, DEL and the bidi controls visibly, and keeps every other character', () => {
    for (let code = 0; code <= 0x2ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue
      const c = String.fromCodePoint(code)
      const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)
      const line = terminalLine(c)
      if (control) {
        assert.match(line, /^\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[nrt])$/, `U+${code.toString(16)}`)
        assert.equal(hasTerminalControls(c), true)
      } else {
        assert.equal(line, c, `U+${code.toString(16)} is kept`)
      }
    }
    assert.equal(terminalLine('\x1b]0;pwned\x07'), '\\x1b]0;pwned\\x07')
    assert.equal(terminalLine('a\nb\tc\rd'), 'a\\nb\\tc\\rd')
    assert.equal(terminalBlock('a\nb\tc\rd\x1b[2J'), 'a\nb\tc\\rd\\x1b[2J')
    assert.equal(terminalLine('\u009b2J \u202e'), '\\x9b2J \\u202e')
    assert.equal(terminalLine('naïve 日本 🙂 C:\\path'), 'naïve 日本 🙂 C:\\path')
  })

  it('escapes a whole result object (keys too) without changing it, and JSON text to the same document', () => {
    const input = {name: HOSTILE, list: [HOSTILE, 3, null, true], nested: {[HOSTILE]: {deep: HOSTILE}}}
    const safe = terminalSafe(input)
    assert.equal(obeyed(JSON.stringify(safe).replace(/\\u00/g, ''), false), null)
    assert.equal(input.name, HOSTILE, 'the input is not changed')
    assert.deepEqual(safe.list.slice(1), [3, null, true])
    const json = terminalJson(JSON.stringify(input, null, 2))
    assert.equal(obeyed(json, true), null)
    assert.deepEqual(JSON.parse(json), input)
  })
})

describe('every human renderer', () => {
  const previous = chalk.level
  // Colours off: any escape in the output can then only have come from the input.
  chalk.level = 0

  const step = {step: 7, name: 'echo tool', ok: true, ms: 12, detail: 'the server said something'}
  const client = {id: 'id', name: 'name', scope: 'mcp:echo', authMethod: 'client_secret_basic', createdAt: '2026-01-01T00:00:00Z'}
  const resource = {id: 'id', slug: 'slug', uri: 'http://x/mcp', displayName: 'Demo', scopes: [{name: 'mcp:echo', description: 'd'}], createdByApDemo: true, adminUrl: 'http://x'}
  const user = {id: 'id', email: 'a@b.c', name: 'n', role: 'user', status: 'active', provider: 'local', created_at: 't'}
  const setting = {value: 'v', source: 'env', from: 'f'}
  const tool = {name: 'clip', description: 'first\nsecond', inputSchema: {type: 'object', required: ['note'], properties: {note: {type: 'string', description: 'd', enum: ['a']}}}}
  const stackUp = {issuer: 'i', publicUrl: 'p', adminUrl: 'a', mcpUrl: 'm', resource: 'r', mcpDpop: 'allowed', mcpDpopNonce: true, mcpProtocol: 'both', toolScopes: {whoami: 'mcp:whoami'}, dataDir: 'd', adminKeySource: 's', profile: 'p', store: 's', notices: [], user: {email: 'e', created: true, password: 'pw', passwordSource: 'generated'}}

  const signIn = {mcpUrl: 'm', resource: 'r', issuer: 'i', clientId: 'c', registration: 'registered', reregistered: false, clientAuthMethod: 'none', requestedScopes: ['s'], scope: 's', sub: 'u', expiresAt: 'e', refreshToken: true, discovery: {resourceMetadata: 'p', authorizationServerMetadata: 'a', source: 'rfc8414', scopeSource: 'challenge'}}
  const signOut = {mcpUrl: 'm', signedOut: [{issuer: 'i', resource: 'r', clientId: 'c', sub: 'u', revoked: false, revokedToken: 'refresh_token', reason: 'invalid_client'}]}

  /** Each renderer, its hostile calls, and whether its output is a multi-line block (newlines allowed). */
  const RENDERERS: Record<string, {block?: boolean; calls: (fn: (...a: any[]) => unknown) => unknown[]}> = {
    configShow: {calls: () => []}, // builds the result from the settings; renders nothing
    renderConfigShow: {calls: (f) => [f(hostile({profile: 'p', store: 's', settings: {issuer: setting, adminUrl: setting, adminKey: setting, mcpUrl: setting, resource: setting}, resource, otherResources: [resource], client: {...client, secret: 'masked', adminUrl: 'a'}, cachedTokens: 2, dpopKey: {alg: 'ES256', thumbprint: 't', createdAt: 'c'}, signIns: [{mcpUrl: 'm', issuer: 'i', clientId: 'c', sub: 's', scope: 'x', expiresAt: 'e', refreshToken: true}], clientMetadataUrl: 'u'}))]},
    renderConfigList: {calls: (f) => [f(hostile({active: 'a', profiles: [{name: 'n', active: true, issuer: 'i', clientId: 'c', resource: 'r'}]}))]},
    renderTools: {block: true, calls: (f) => [f(hostile({tools: [tool], auth: {mode: 'none'}}))]},
    renderToolText: {block: true, calls: (f) => [f(HOSTILE)]},
    formatError: {calls: (f) => [f({message: HOSTILE, hint: HOSTILE})]},
    formatWarning: {calls: (f) => [f(HOSTILE, HOSTILE)]},
    renderResource: {calls: (f) => [f(hostile({action: 'created', profile: 'p', resource, current: true, walkthrough: {resource: 'r', audience: 'a', mcpUrl: 'm'}})), f(hostile({action: 'exists', profile: 'p', resource, current: false, walkthrough: {resource: 'r', audience: 'a', mcpUrl: 'm'}}))]},
    renderClient: {calls: (f) => [f(hostile({action: 'created', reason: 'r', profile: 'p', client, secret: 'shown'})), f(hostile({action: 'reused', reason: null, profile: 'p', client, secret: {stored: true, store: 's', profile: 'p'}}))]},
    renderClean: {calls: (f) => [f(hostile({profile: 'p', removed: [{what: 'client', id: 'i', result: 'deleted'}]}))]},
    describeNotice: {calls: (f) => [f(hostile({kind: 'signing_key_replaced', file: 'f', liveTokens: 2, lastExpiry: 'e'}))]},
    protocolWords: {calls: (f) => [f(HOSTILE)]},
    mcpPolicyLine: {calls: (f) => [f(hostile({mcpDpop: 'allowed', mcpDpopNonce: true, toolScopes: {whoami: 'mcp:whoami'}}))]},
    renderStackUp: {calls: (f) => [f(hostile(stackUp), HOSTILE), f(hostile({...stackUp, user: {email: 'e', created: false, password: null, passwordSource: 's'}}), HOSTILE)]},
    renderDockerUp: {calls: (f) => [f(hostile({docker: true, issuer: 'i', adminUrl: 'a', mcpUrl: 'm', resource: 'r', resourceMetadataUrl: 'u', adminKeySource: 's', sources: {issuer: 'i', adminUrl: 'a', mcpUrl: 'm', resource: 'r'}, composeFile: 'c', envFile: 'e', engineVersion: 'v', composeVersion: 'v', waitedMs: 1000, profile: 'p', store: 's'}))]},
    renderStackMcp: {calls: (f) => [f(hostile({mcpUrl: 'm', resource: 'r', resourceMetadataUrl: 'u', issuer: 'i', mcpProtocol: '2026-07-28', mcpDpop: 'required', mcpDpopNonce: false, toolScopes: {echo: 's'}}))]},
    renderToken: {
      block: true,
      calls: (f) => {
        const token = hostile({access_token: 't', token_type: 'DPoP', expires_in: 60, scope: 's', fromCache: false, jwt: true, header: {alg: 'ES256', kid: 'k'}, claims: {aud: ['a'], scope: 's', exp: 2, [HOSTILE]: 'k'}, clientId: 'c', warning: 'w', dpop: {alg: 'ES256', thumbprint: 't', key: 'k', cnfJkt: 'j'}})
        return [f(token, false), f(token, true)]
      },
    },
    renderUser: {calls: (f) => [f(hostile({action: 'created', profile: 'p', users: [user], password: 'pw', passwordSource: 'generated'})), f(hostile({action: 'listed', profile: 'p', users: [user, user], password: null, passwordSource: null}))]},
    renderStackUser: {calls: (f) => [f(hostile({email: 'e', created: true, password: 'pw', passwordSource: 's'})), f(hostile({email: 'e', created: true, password: null, passwordSource: 's'}))]},
    loginResult: {calls: () => []}, // builds the --json result from the sign-in; renders nothing
    logoutResult: {calls: () => []}, // likewise for logout
    renderLogin: {calls: (f) => [f(hostile(signIn)), f(hostile({...signIn, sub: null, expiresAt: null, scope: null, refreshToken: false}))]},
    renderLogout: {calls: (f) => [f(hostile(signOut)), f(hostile({mcpUrl: 'm', signedOut: []}))]},
    logoutWarnings: {calls: (f) => [f(hostile(signOut)), f(hostile({...signOut, signedOut: [{...signOut.signedOut[0], reason: 'no revocation_endpoint'}]}))]},
    formatDoctorStep: {calls: (f) => [f(hostile(step)), f(hostile({...step, ok: false}))]},
    renderDoctorReport: {
      calls: (f) => {
        const finding = (id: string, severity: string) => ({...hostile({summary: 's', evidence: ['e', 'f'], fix: 'x'}), id, severity})
        return [f({primary: 'token_audience_rejected', findings: [finding('token_audience_rejected', 'error'), finding('dpop_required', 'warning')], steps: [], mcpUrl: 'm'})]
      },
    },
    doctorEnvelope: {calls: () => []}, // the --json envelope; renders nothing
    wrapText: {calls: () => []}, // lays out text its callers have already passed through the rule
    formatStepLines: {calls: (f) => [f(hostile(step), 10), f(hostile({...step, detail: 'x'.repeat(200)}), 10), f(hostile({...step, ok: false}), 10)]},
  }

  it('shows no control character of its input, and shows each one visibly', async () => {
    try {
      const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'render')
      const exported: string[] = []
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
        const module = (await import(join(dir, file))) as Record<string, unknown>
        for (const [name, fn] of Object.entries(module)) {
          if (typeof fn !== 'function') continue
          exported.push(name)
          const spec = RENDERERS[name]
          assert.ok(spec, `src/cli/render/${file.replace(/\.js$/, '.ts')} exports ${name}: add it to this test with a hostile sample`)
          for (const output of spec.calls(fn as (...a: any[]) => unknown)) {
            const text = JSON.stringify(output) === undefined ? String(output) : flatten(output)
            const found = obeyed(text, spec.block ?? false)
            assert.equal(found, null, `${name}: raw U+${found?.[0].codePointAt(0)!.toString(16)} in ${JSON.stringify(text).slice(0, 300)}`)
            assert.ok(text.includes('\\x1b]0;title\\x07') || text.includes('\\u001b]0;title\\u0007'), `${name} shows the escape: ${text.slice(0, 200)}`)
          }
        }
      }
      assert.deepEqual(exported.sort(), Object.keys(RENDERERS).sort(), 'every listed renderer exists')
    } finally {
      chalk.level = previous
    }
  })
})

/** A renderer's output (a string, lines, or an object of strings) as one text. */
function flatten(output: unknown): string {
  if (typeof output === 'string') return output
  if (Array.isArray(output)) return output.map(flatten).join('\n')
  if (typeof output === 'object' && output !== null) return Object.values(output).map(flatten).join('\n')
  return String(output)
}
