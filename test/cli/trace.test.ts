import assert from 'node:assert/strict'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {harProblems, mermaidBlock, parseMermaid} from '../trace/validators.js'
import {assertCleanFailure, closedPort, ROOT, Sandbox, terminate} from './helpers.js'

// The "done when": `verify --embedded --har run.har --diagram flow.md` writes a HAR that
// validates and holds no secret, and a diagram Mermaid parses; the same against `stack up`, and
// for a discovery-mode `mcp call`.

type Har = {log: {entries: Array<{request: {method: string; url: string; headers: Array<{name: string; value: string}>}; response: {status: number}}>}}

function readHar(path: string): {text: string; har: Har} {
  const text = readFileSync(path, 'utf8')
  return {text, har: JSON.parse(text) as Har}
}

/** No JWT of any kind, and every Authorization header a placeholder. */
function assertRedacted(text: string, har: Har, secrets: string[]): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret is in the file (${secret.slice(0, 4)}…)`)
  assert.doesNotMatch(text, /eyJ[\w-]+\.eyJ/, 'no token')
  const auth = har.log.entries.flatMap((e) => e.request.headers.filter((h) => h.name === 'authorization').map((h) => h.value))
  assert.ok(auth.length > 0)
  for (const value of auth) assert.match(value, /^(Bearer|Basic) (client_id=\S+ secret=)?\[redacted [a-z-]+ [0-9a-f]{8}\]$/)
}

/** The example in the README, and the same run again: equal once ports, ids and session ids are set aside. */
export function normaliseDiagram(text: string): string {
  return text
    .replace(/(127\.0\.0\.1|localhost|\[::1\]):\d+/g, 'HOST:PORT')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'SESSION-ID')
    .replace(/\[redacted ([a-z-]+) [0-9a-f]{8}\]/g, '[redacted $1 FINGERPRINT]')
    .trim()
}

describe('--har and --diagram', () => {
  it('verify --embedded --har run.har --diagram flow.md: a valid HAR without secrets, 0600, and a Mermaid diagram', async () => {
    const box = new Sandbox()
    try {
      const r = await box.run(['verify', '--embedded', '--har', 'run.har', '--diagram', 'flow.md'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /HAR written to run\.har/)
      const {text, har} = readHar(join(box.root, 'run.har'))
      assert.deepEqual(harProblems(har), [])
      assertRedacted(text, har, [])
      assert.match(text, /\[redacted admin-key [0-9a-f]{8}\]/)
      assert.match(text, /\[redacted client-secret [0-9a-f]{8}\]/)
      assert.match(text, /\[redacted access-token [0-9a-f]{8}\]/)
      for (const file of ['run.har', 'flow.md']) assert.equal(statSync(join(box.root, file)).mode & 0o777, 0o600, file)
      const markdown = readFileSync(join(box.root, 'flow.md'), 'utf8')
      assert.match(markdown, /^# ap-demo verify\n\n```mermaid\nsequenceDiagram\n/)
      assert.equal(await parseMermaid(mermaidBlock(markdown)), 'sequence')
    } finally {
      box.cleanup()
    }
  })

  it('verify --embedded --dpop: proofs and DPoP-bound tokens are redacted too', async () => {
    const box = new Sandbox()
    try {
      const r = await box.run(['verify', '--embedded', '--dpop', '--har', 'dpop.har'])
      assert.equal(r.code, 0, r.stderr)
      const {text, har} = readHar(join(box.root, 'dpop.har'))
      assert.deepEqual(harProblems(har), [])
      assert.doesNotMatch(text, /eyJ[\w-]+\.eyJ/, 'no token and no proof')
      const headers = har.log.entries.flatMap((e) => e.request.headers)
      const proofs = headers.filter((h) => h.name.toLowerCase() === 'dpop')
      assert.ok(proofs.length >= 2, 'a proof for the token request and for each MCP request')
      for (const proof of proofs) assert.match(proof.value, /^\[redacted dpop-proof [0-9a-f]{8}\]$/)
      assert.ok(headers.some((h) => /^DPoP \[redacted access-token [0-9a-f]{8}\]$/.test(h.value)), 'Authorization: DPoP <token>')
    } finally {
      box.cleanup()
    }
  })

  // Issue 19: `ap-demo verify --diagram > flow.mmd` must write a file Mermaid reads, so stdout is the
  // diagram alone and the command's own lines go to stderr.
  it('verify --diagram prints only Mermaid on stdout (the steps on stderr); --diagram=ascii a chart within 100 columns; --json carries it as a field', async () => {
    const box = new Sandbox()
    try {
      const mermaid = await box.run(['verify', '--embedded', '--diagram'])
      assert.equal(mermaid.code, 0, mermaid.stderr)
      assert.match(mermaid.stdout, /^sequenceDiagram\n/)
      assert.equal(await parseMermaid(mermaid.stdout), 'sequence')
      assert.match(mermaid.stderr, /^\[10\/10\] OK +refused: tampered token/m)
      assert.match(mermaid.stderr, /^ALL CHECKS PASSED$/m)

      const ascii = await box.run(['verify', '--embedded', '--diagram=ascii'])
      assert.equal(ascii.code, 0, ascii.stderr)
      const chart = ascii.stdout
      assert.match(chart, /^ +ap-demo +admin API +auth server +MCP server\n/)
      assert.match(ascii.stderr, /^ALL CHECKS PASSED$/m)
      for (const line of chart.trimEnd().split('\n')) assert.ok([...line].length <= 100, line)

      const json = await box.run(['verify', '--embedded', '--diagram', '--json'])
      assert.equal(json.code, 0, json.stderr)
      const envelope = JSON.parse(json.stdout)
      assert.equal(envelope.status, 'ok')
      assert.equal(envelope.result.passed, true)
      assert.equal(await parseMermaid(envelope.diagram), 'sequence')
    } finally {
      box.cleanup()
    }
  })

  it('against `stack up`: verify, then a discovery-mode mcp call, each with a HAR and a diagram', async () => {
    const box = new Sandbox()
    const {child} = await box.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--json'])
    try {
      const verify = await box.run(['verify', '--har', 'verify.har', '--diagram', 'verify.md'])
      assert.equal(verify.code, 0, verify.stderr)
      const store = JSON.parse(readFileSync(box.storePath, 'utf8'))
      const profile = store.profiles.default
      const adminKey: string = profile.adminKey
      const client: {id: string; secret: string} = profile.client
      assert.ok(adminKey && client.secret, 'stack up and verify saved the admin key and the client')
      const verifyHar = readHar(join(box.root, 'verify.har'))
      assert.deepEqual(harProblems(verifyHar.har), [])
      assertRedacted(verifyHar.text, verifyHar.har, [adminKey, client.secret])
      assert.equal(await parseMermaid(mermaidBlock(readFileSync(join(box.root, 'verify.md'), 'utf8'))), 'sequence')

      // A fresh user who knows only the MCP URL and a client: the issuer is found from the 401.
      const mcpUrl: string = profile.mcpUrl
      const stranger = new Sandbox({AUTHPLANE_CLIENT_SECRET: client.secret})
      try {
        const call = await stranger.run(['mcp', 'call', 'echo', '--text', 'traced', '--mcp-url', mcpUrl, '--client-id', client.id, '--har', 'call.har', '--diagram', 'call.mmd'])
        assert.equal(call.code, 0, call.stderr)
        assert.equal(call.stdout, 'traced\n')
        const {text, har} = readHar(join(stranger.root, 'call.har'))
        assert.deepEqual(harProblems(har), [])
        assertRedacted(text, har, [adminKey, client.secret])
        const steps = har.log.entries.map((e) => `${e.request.method} ${new URL(e.request.url).pathname} ${e.response.status}`)
        assert.deepEqual(steps.slice(0, 4), ['POST /mcp 401', 'GET /.well-known/oauth-protected-resource/mcp 200', 'GET /.well-known/oauth-authorization-server 200', 'POST /oauth/token 200'])
        const diagram = readFileSync(join(stranger.root, 'call.mmd'), 'utf8')
        assert.equal(await parseMermaid(diagram), 'sequence')
        // The authorization server was learned from the resource metadata, not configured.
        assert.match(diagram, /participant auth as Authorization server/)
        assert.match(diagram, /agent->>auth: POST \/oauth\/token · 200/)
        assert.ok(!diagram.includes(client.secret))
      } finally {
        stranger.cleanup()
      }
    } finally {
      await terminate(child)
      box.cleanup()
    }
  })

  it('refuses an unwritable --har before anything is sent, and writes the HAR of a failed run', async () => {
    const box = new Sandbox()
    try {
      const missing = await box.run(['verify', '--embedded', '--har', 'no/such/dir/run.har'])
      assertCleanFailure(missing, 7, /^Error: cannot write no\/such\/dir\/run\.har: the directory .+ does not exist$/m)
      assert.doesNotMatch(missing.stderr, /embedded stack/)

      const refused = await box.run(['setup', 'resource', '--admin-url', `http://127.0.0.1:${await closedPort()}`, '--admin-key', 'k-0123456789abcdef', '--har', 'failed.har', '--request-timeout', '2'])
      assert.equal(refused.code, 4, refused.stderr)
      const {text, har} = readHar(join(box.root, 'failed.har'))
      assert.deepEqual(harProblems(har), [])
      assert.equal(har.log.entries[0]!.response.status, 0)
      assert.ok(!text.includes('k-0123456789abcdef'))
    } finally {
      box.cleanup()
    }
  })

  it('the example of docs/trace.md is a real verify --embedded run: it differs from a new one only in ports and ids', async () => {
    const page = readFileSync(join(ROOT, 'docs', 'trace.md'), 'utf8')
    const section = /<!-- trace-example -->\n([\s\S]*?)<!-- \/trace-example -->/.exec(page)
    assert.ok(section, 'docs/trace.md has the <!-- trace-example --> block')
    const box = new Sandbox()
    try {
      const r = await box.run(['verify', '--embedded', '--diagram', 'flow.md'])
      assert.equal(r.code, 0, r.stderr)
      const fresh = mermaidBlock(readFileSync(join(box.root, 'flow.md'), 'utf8'))
      assert.equal(normaliseDiagram(mermaidBlock(section[1]!)), normaliseDiagram(fresh), 'regenerate the example of docs/trace.md: ap-demo verify --embedded --diagram flow.md')
    } finally {
      box.cleanup()
    }
  })
})
