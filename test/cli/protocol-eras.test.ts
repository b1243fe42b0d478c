// `stack up --mcp-protocol` and ap-demo's client against each era of the tier-01 server (issue 18):
// against a server of the stateless 2026-07-28 era only, everything works (auth, --discover,
// --dpop, per-tool scopes and step-up, verify); against a 2025-only one, everything as before.
import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import {assertCleanFailure, Sandbox, terminate} from './helpers.js'

const FREE_PORTS = ['--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory']
const json = (stdout: string) => JSON.parse(stdout) as {status: string; result: any; error?: any}

describe('ap-demo against stack up --mcp-protocol 2026-07-28 (the stateless era only)', () => {
  const box = new Sandbox()
  let child: ChildProcess
  let stackDoc: {result: {mcpProtocol: string; mcpUrl: string; issuer: string}}

  before(async () => {
    ;({child, doc: stackDoc} = await box.startJson(['stack', 'up', ...FREE_PORTS, '--mcp-protocol', '2026-07-28', '--mcp-dpop', 'allowed', '--tool-scope', 'whoami=mcp:whoami', '--json']))
    for (const args of [['setup', 'resource', '--scope', 'mcp:echo', '--scope', 'mcp:whoami'], ['setup', 'client', '--scope', 'mcp:echo mcp:whoami']]) {
      const r = await box.run(args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    }
  })
  after(async () => {
    await terminate(child)
    box.cleanup()
  })

  it('says which eras it serves', async () => {
    assert.equal(stackDoc.result.mcpProtocol, '2026-07-28')
  })

  it('mcp call works with a token, with --dpop, and steps up for a tool scope, all in 2026-07-28', async () => {
    const plain = await box.run(['mcp', 'call', 'echo', '--text', 'modern', '--json'])
    assert.equal(plain.code, 0, plain.stderr)
    assert.equal(json(plain.stdout).result.session.era, 'modern')
    const bound = await box.run(['mcp', 'call', 'whoami', '--dpop', '--json'])
    assert.equal(bound.code, 0, bound.stderr)
    assert.match(json(bound.stdout).result.result.content[0].text, /DPoP-bound, cnf\.jkt/)
    const stepUp = await box.run(['mcp', 'call', 'whoami', '--scope', 'mcp:echo', '--no-cache'])
    assert.equal(stepUp.code, 0, stepUp.stderr)
    assert.match(stepUp.stderr, /403 insufficient_scope: stepping up to a token for "mcp:echo mcp:whoami"/)
    assert.match(stepUp.stdout, /scope mcp:echo mcp:whoami/)
  })

  it('mcp call --discover finds the issuer from the 2026-07-28 server\'s 401', async () => {
    const client = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.client as {id: string; secret: string}
    const fresh = new Sandbox({AUTHPLANE_CLIENT_SECRET: client.secret})
    try {
      const r = await fresh.run(['mcp', 'call', 'echo', '--text', 'found', '--mcp-url', stackDoc.result.mcpUrl, '--client-id', client.id, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const out = json(r.stdout).result
      assert.equal(out.auth.mode, 'discovered')
      assert.equal(out.auth.issuer, stackDoc.result.issuer)
      assert.equal(out.session.era, 'modern')
    } finally {
      fresh.cleanup()
    }
  })

  it('pinned to 2025-11-25 the client is refused with -32022, explained', async () => {
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'x', '--protocol', '2025-11-25'])
    assertCleanFailure(r, 5, /does not speak protocol revision 2025-11-25 \(it supports 2026-07-28\)/)
  })

  it('verify and verify --dpop pass every step; the refusals go as server/discover', async () => {
    const r = await box.run(['verify', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.deepEqual(json(r.stdout).result.protocol, {choice: 'auto', era: 'modern', version: '2026-07-28'})
    const bound = await box.run(['verify', '--dpop', '--diagram=mermaid'])
    assert.equal(bound.code, 0, bound.stderr + bound.stdout)
    // stdout is the diagram's alone (> flow.mmd); the step lines go to stderr.
    assert.match(bound.stderr, /\[15\/15\] OK/)
    assert.doesNotMatch(bound.stdout, /->>mcp: POST \/mcp initialize · 200/, 'no initialize was answered')
    assert.match(bound.stdout, /agent->>mcp: POST \/mcp server\/discover · 200\n {4}Note over mcp: protocol 2026-07-28, stateless \(no session\)/)
  })
})

describe('ap-demo against stack up --mcp-protocol 2025-11-25 (as a server before 2026-07-28)', () => {
  const box = new Sandbox()
  let child: ChildProcess

  before(async () => {
    ;({child} = await box.startJson(['stack', 'up', ...FREE_PORTS, '--mcp-protocol', '2025-11-25', '--json']))
    for (const args of [['setup', 'resource'], ['setup', 'client']]) assert.equal((await box.run(args)).code, 0)
  })
  after(async () => {
    await terminate(child)
    box.cleanup()
  })

  it('the negotiating client falls back to initialize; verify says 2025-11-25 with the session', async () => {
    const call = await box.run(['mcp', 'call', 'echo', '--text', 'old', '--json'])
    assert.equal(call.code, 0, call.stderr)
    assert.equal(json(call.stdout).result.session.era, 'legacy')
    const r = await box.run(['verify', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const report = json(r.stdout).result
    assert.equal(report.protocol.era, 'legacy')
    assert.match(report.steps[5].detail, /^2025-11-25 \(initialize\), demo-server 1\.0\.0$/)
  })

  it('a pin to 2026-07-28 names the 2025 era and the --protocol that reaches it', async () => {
    const r = await box.run(['mcp', 'call', 'echo', '--text', 'x'], {env: {AP_DEMO_MCP_PROTOCOL: '2026-07-28'}})
    assertCleanFailure(r, 5, /it answered server\/discover with HTTP 400, as a server of the 2025 era/)
    assert.match(r.stderr, /--protocol 2025-11-25 \(or unset AP_DEMO_MCP_PROTOCOL if it pins 2026-07-28\)/)
  })
})
