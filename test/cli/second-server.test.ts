// Working against a second MCP server never silently moves the walkthrough (issue 18): a resource
// registered for another server is remembered, not made current; the profile says what is current
// and how to switch; a call to the other server carries a token for that server.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import type {StackHandle} from '../../src/stack/index.js'
import {startV2Peer, type V2Peer} from '../peers/v2-mcp-server.js'
import {Sandbox, useTestStack} from './helpers.js'

const json = (stdout: string) => JSON.parse(stdout) as {status: string; result: any; error?: any}

describe('a second MCP server next to the walkthrough\'s own', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  let other!: V2Peer
  let box!: Sandbox
  useTestStack((s) => ({stack, env} = s))
  before(async () => {
    other = await startV2Peer({eras: 'dual', issuer: stack.issuer})
    // As after `ap-demo stack up`: the profile points at the stack (not the environment).
    box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: env.AUTHPLANE_ADMIN_API_KEY})
    const store = {activeProfile: 'default', profiles: {default: {issuer: stack.issuer, adminUrl: stack.adminUrl, mcpUrl: stack.mcpUrl, resourceUri: stack.resource}}}
    const {mkdirSync, writeFileSync} = await import('node:fs')
    const {dirname} = await import('node:path')
    mkdirSync(dirname(box.storePath), {recursive: true, mode: 0o700})
    writeFileSync(box.storePath, JSON.stringify(store), {mode: 0o600})
    for (const args of [['setup', 'resource'], ['setup', 'client']]) {
      const r = await box.run(args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    }
  })
  after(async () => {
    await other.stop()
    box.cleanup()
  })

  const profile = () => JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default

  it('setup resource --uri <other server> registers it without making it current, and says how to switch', async () => {
    const r = await box.run(['setup', 'resource', '--slug', 'second', '--uri', other.url, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = json(r.stdout).result
    assert.equal(out.current, false)
    assert.deepEqual(out.walkthrough, {resource: 'demo-mcp', audience: stack.resource, mcpUrl: stack.mcpUrl})
    assert.equal(profile().resourceUri, stack.resource)
    assert.equal(profile().resource.slug, 'demo-mcp')
    assert.deepEqual(profile().otherResources.map((x: {slug: string}) => x.slug), ['second'])
    const human = await box.run(['setup', 'resource', '--slug', 'second', '--uri', other.url])
    assert.match(human.stdout, /not as its current resource: it still works with demo-mcp \(http:\/\/127\.0\.0\.1:\d+\/mcp\) at http:\/\/127\.0\.0\.1:\d+\/mcp/)
    assert.match(human.stdout, /make it current: ap-demo setup resource --slug second --uri http:\/\/127\.0\.0\.1:\d+\/mcp --use/)
    const shown = await box.run(['config', 'show'])
    assert.match(shown.stdout, /other {5}second http:\/\/127\.0\.0\.1:\d+\/mcp not current; switch: ap-demo setup resource --slug second/)
  })

  it('a plain mcp call still goes to the walkthrough\'s server with a token for it; --mcp-url takes its own audience', async () => {
    const before = other.requests.length
    const plain = await box.run(['mcp', 'call', 'echo', '--text', 'home', '--json'])
    assert.equal(plain.code, 0, plain.stderr)
    assert.equal(json(plain.stdout).result.auth.resource, stack.resource)
    assert.equal(other.requests.length, before, 'nothing went to the other server')
    const there = await box.run(['mcp', 'call', 'echo', '--text', 'away', '--mcp-url', other.url, '--json'])
    assert.equal(there.code, 0, there.stderr)
    // Not the profile's server: its audience comes from its own resource metadata (RFC 9728).
    assert.equal(json(there.stdout).result.auth.mode, 'discovered')
    assert.equal(json(there.stdout).result.auth.resource, other.url)
    assert.equal(json(there.stdout).result.result.content[0].text, 'away')
  })

  it('verify --mcp-url --resource works on what it is told, and leaves the profile where it was', async () => {
    const r = await box.run(['verify', '--mcp-url', other.url, '--resource', other.url, '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const report = json(r.stdout).result
    assert.equal(report.mcpUrl, other.url)
    assert.match(report.steps[2].detail, /^reused second \(for http:\/\/127\.0\.0\.1:\d+\/mcp; the profile's walkthrough stays on http:\/\/127\.0\.0\.1:\d+\/mcp\)$/)
    assert.equal(profile().resourceUri, stack.resource)
    // A server nothing is registered for yet, in a profile whose demo-mcp is the walkthrough's: a
    // resource of its own (the walkthrough's slug names the other one).
    const third = await startV2Peer({eras: 'modern', issuer: stack.issuer})
    try {
      const fresh = await box.run(['verify', '--mcp-url', third.url, '--resource', third.url, '--json'])
      assert.equal(fresh.code, 0, fresh.stderr + fresh.stdout)
      assert.match(json(fresh.stdout).result.steps[2].detail, /^created demo-mcp-[0-9a-f]{6} \(for /)
    } finally {
      await third.stop()
    }
  })

  it('--use makes the other server current: resource and MCP URL; clean deletes what ap-demo made', async () => {
    const r = await box.run(['setup', 'resource', '--slug', 'second', '--uri', other.url, '--use', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(json(r.stdout).result.current, true)
    assert.equal(profile().mcpUrl, other.url)
    assert.equal(profile().resourceUri, other.url)
    const before = other.requests.length
    const call = await box.run(['mcp', 'call', 'echo', '--text', 'switched'])
    assert.equal(call.code, 0, call.stderr)
    assert.ok(other.requests.length > before, 'the plain call went to the server made current')
    const clean = await box.run(['clean', '--yes', '--json'])
    assert.equal(clean.code, 0, clean.stderr)
    const removed = json(clean.stdout).result.removed as Array<{what: string; result: string}>
    assert.equal(removed.filter((x) => x.what === 'resource' && x.result === 'deleted').length, 3, JSON.stringify(removed))
  })
})
