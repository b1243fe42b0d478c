import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {assertCleanFailure, Sandbox, type CliResult} from '../cli/helpers.js'
import {C1_CLEAR, CLIPBOARD, HOSTILE_TOOL, RESULT_TEXT, startEscapeServer, TITLE, type EscapeServer} from './escape-mcp.js'

// R3-04: a hostile MCP server's names, descriptions, results and errors, and a tool name the user
// typed, reach the terminal with every control character shown as a visible escape: no window
// title change, no screen clear, no clipboard write. --json keeps the exact strings (JSON escapes them).

/** What a terminal would obey: C0 but newline and tab, DEL, C1, bidi controls. */
const OBEYED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

function assertNeutralised(r: CliResult, what: string): void {
  for (const [stream, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    const found = OBEYED.exec(text)
    assert.equal(found, null, `${what}: raw U+${found?.[0].codePointAt(0)!.toString(16).padStart(4, '0')} on ${stream}:\n${JSON.stringify(text)}`)
  }
}

describe('an MCP server that sends terminal escapes (fault suite)', () => {
  let server: EscapeServer
  let box: Sandbox
  before(async () => {
    server = await startEscapeServer()
    box = new Sandbox({MCP_URL: ''})
  })
  after(async () => {
    box.cleanup()
    await server.stop()
  })
  const run = (args: string[]) => box.run([...args, '--mcp-url', server.url])

  it('mcp tools: names, descriptions and argument schemas are shown escaped, the description keeps its lines', async () => {
    const r = await run(['mcp', 'tools'])
    assert.equal(r.code, 0, r.stderr)
    assertNeutralised(r, 'mcp tools')
    assert.ok(r.stdout.includes('clip  Copies things.\\x1b]0;pwned\\x07\\x1b[2J\\x1b[H\n    Second line of the description\\x9b2J.'), r.stdout)
    assert.ok(r.stdout.includes('\\x1b]0;pwned\\x07steal  safe\\rFAKE \\u202eevil'), r.stdout)
    assert.ok(r.stdout.includes('--note\\x1b]0;pwned\\x07 <string>  a note\\x1b]52;c;cm0gLXJmIH4=\\x07'), r.stdout)
  })

  it('mcp call: the result keeps its lines, its OSC 52 clipboard write, screen clear and CR are shown, not obeyed', async () => {
    const r = await run(['mcp', 'call', 'clip'])
    assert.equal(r.code, 0, r.stderr)
    assertNeutralised(r, 'mcp call clip')
    assert.equal(r.stdout, 'first line\\x1b]52;c;cm0gLXJmIH4=\\x07\nsecond line\\x1b[2J\\x1b[H\\x9b2J\nsafe\\rFAKE \\u202eevil\n')
  })

  it('a tool error, a 403 description and a typed tool name are escaped in the Error line, and the hint that quotes the tools', async () => {
    const failed = await run(['mcp', 'call', 'fail'])
    assertCleanFailure(failed, 1, /^Error: tool "fail" reported an error: it failed\\x1b\[2J\\x1b\[H\\x1b\]0;pwned\\x07$/m)
    assertNeutralised(failed, 'mcp call fail')

    const forbidden = await run(['mcp', 'call', 'forbidden'])
    assert.notEqual(forbidden.code, 0)
    assert.match(forbidden.stderr, /you may not\\x1b\]0;pwned\\x07\\x1b\[2J/)
    assertNeutralised(forbidden, 'mcp call forbidden')

    const typed = await run(['mcp', 'call', `${TITLE}mine`])
    assertCleanFailure(typed, 2, /^Error: the MCP server has no tool "\\x1b\]0;pwned\\x07mine"$/m)
    assert.match(typed.stderr, /^Hint: It offers: clip, \\x1b\]0;pwned\\x07steal, fail, forbidden \(ap-demo mcp tools\)\.$/m)
    assertNeutralised(typed, 'mcp call <typed>')
  })

  it('the sequence diagram, printed or written, shows the server\'s words escaped', async () => {
    const ascii = await run(['mcp', 'call', 'forbidden', '--diagram=ascii'])
    assertNeutralised(ascii, 'mcp call --diagram=ascii')
    assert.match(ascii.stdout, /you may not\\x1b\]0;pwned\\x07/)
    const file = await run(['mcp', 'call', 'forbidden', '--diagram', 'flow.txt'])
    assertNeutralised(file, 'mcp call --diagram flow.txt')
    const chart = readFileSync(join(box.root, 'flow.txt'), 'utf8')
    assert.doesNotMatch(chart, OBEYED)
    assert.match(chart, /you may not\\x1b\]0;pwned\\x07/)
  })

  it('--json keeps the exact strings, JSON-escaped, so nothing raw reaches the terminal either', async () => {
    const tools = await run(['mcp', 'tools', '--json'])
    assert.equal(tools.code, 0, tools.stderr)
    assertNeutralised(tools, 'mcp tools --json')
    const names = (JSON.parse(tools.stdout) as {result: {tools: Array<{name: string; description: string}>}}).result.tools.map((t) => t.name)
    assert.deepEqual(names, ['clip', HOSTILE_TOOL, 'fail', 'forbidden'])
    const call = await run(['mcp', 'call', 'clip', '--json'])
    assert.equal(call.code, 0, call.stderr)
    assert.equal((JSON.parse(call.stdout) as {result: {result: {content: Array<{text: string}>}}}).result.result.content[0]!.text, RESULT_TEXT)
    assert.ok(RESULT_TEXT.includes(CLIPBOARD) && RESULT_TEXT.includes(C1_CLEAR))
    // JSON.stringify leaves C1 and the bidi controls raw: ap-demo's envelope must not.
    assertNeutralised(call, 'mcp call --json')
  })
})
