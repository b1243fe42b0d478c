import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {generateKeyPairSync} from 'node:crypto'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {DPOP_CURL_NOTE} from '../../src/http/curl.js'
import {DPOP_VERIFY_STEPS} from '../../src/walkthrough/verify.js'
import {assertCleanFailure, Sandbox, terminate} from './helpers.js'

const FREE_PORTS = ['--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory']

describe('ap-demo against stack up --mcp-dpop required --tool-scope whoami=mcp:whoami', () => {
  const box = new Sandbox()
  let child: ChildProcess
  let stackDoc: {result: {mcpDpop: string; toolScopes: Record<string, string>}}

  before(async () => {
    ;({child, doc: stackDoc} = await box.startJson(['stack', 'up', ...FREE_PORTS, '--mcp-dpop', 'required', '--tool-scope', 'whoami=mcp:whoami', '--json']))
    for (const args of [['setup', 'resource', '--scope', 'mcp:echo', '--scope', 'mcp:whoami'], ['setup', 'client', '--scope', 'mcp:echo mcp:whoami']]) {
      const r = await box.run(args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    }
  })
  after(async () => {
    await terminate(child)
    box.cleanup()
  })

  it('announces the mode in its result', () => {
    assert.equal(stackDoc.result.mcpDpop, 'required')
    assert.deepEqual(stackDoc.result.toolScopes, {whoami: 'mcp:whoami'})
  })

  it('mcp call echo --text hi --dpop prints hi, with a key created once and kept 0600', async () => {
    const first = await box.run(['mcp', 'call', 'echo', '--text', 'hi', '--dpop'])
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stdout, 'hi\n')
    assert.match(first.stderr, /created the DPoP key of profile "default" \(ES256, thumbprint [\w-]{43}\)/)
    const stored = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.dpopKey
    assert.match(stored.pem, /^-----BEGIN PRIVATE KEY-----/)
    assert.equal(statSync(box.storePath).mode & 0o777, 0o600)
    const second = await box.run(['mcp', 'call', 'echo', '--text', 'again', '--dpop'])
    assert.equal(second.stdout, 'again\n', second.stderr)
    assert.doesNotMatch(second.stderr, /created the DPoP key/)
    assert.equal(JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.dpopKey.thumbprint, stored.thumbprint)
  })

  it('config show names the key by its thumbprint and never prints it', async () => {
    const stored = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.dpopKey
    const human = await box.run(['config', 'show'])
    assert.match(human.stdout, new RegExp(`dpop key  ES256, thumbprint ${stored.thumbprint}`))
    const json = await box.run(['config', 'show', '--json'])
    assert.equal(JSON.parse(json.stdout).result.dpopKey.thumbprint, stored.thumbprint)
    for (const out of [human.stdout, json.stdout]) assert.ok(!out.includes('PRIVATE KEY') && !out.includes(stored.pem.split('\n')[1]), 'the private key is never shown')
  })

  it('the same call without --dpop is refused with a hint that names --dpop', async () => {
    const result = await box.run(['mcp', 'call', 'echo', '--text', 'hi'])
    assertCleanFailure(result, 3, /accepts only DPoP-bound tokens/)
    assert.match(result.stderr, /^Hint: Add --dpop/m)
  })

  it('token mint --dpop --decode shows cnf.jkt beside the key thumbprint', async () => {
    const result = await box.run(['token', 'mint', '--dpop', '--decode'])
    assert.equal(result.code, 0, result.stderr)
    const thumbprint = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default.dpopKey.thumbprint
    assert.ok(result.stdout.includes(`DPoP: token cnf.jkt ${thumbprint}`), result.stdout)
    assert.match(result.stdout, new RegExp(`key thumbprint ${thumbprint} \\(ES256, the profile's key\\) = bound to this key`))
  })

  // Before verify, which registers a client of its own scope (mcp:echo).
  it('steps up once to the tool scope the 403 names, with DPoP', async () => {
    const result = await box.run(['mcp', 'call', 'whoami', '--scope', 'mcp:echo', '--dpop', '--json'])
    assert.equal(result.code, 0, result.stdout + result.stderr)
    const doc = JSON.parse(result.stdout)
    assert.deepEqual(doc.result.auth.steppedUpTo, ['mcp:echo', 'mcp:whoami'])
    assert.match(doc.result.result.content[0].text, /scope mcp:echo mcp:whoami\ntoken DPoP-bound, cnf.jkt /)
  })

  it('verify --dpop passes, each refusal shown as a step', async () => {
    const result = await box.run(['verify', '--dpop'])
    assert.equal(result.code, 0, result.stdout + result.stderr)
    for (const [i, name] of DPOP_VERIFY_STEPS.entries()) assert.ok(result.stdout.includes(`[${String(i + 1).padStart(2)}/15] OK   ${name}`), `${name}\n${result.stdout}`)
    assert.match(result.stdout, /ALL CHECKS PASSED/)
  })

  it('--print-curl shows the requests with their proofs, and says once that a proof is single-use', async () => {
    const result = await box.run(['mcp', 'call', 'echo', '--text', 'hi', '--dpop', '--no-cache', '--print-curl'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr.split(DPOP_CURL_NOTE).length, 2, 'the note appears exactly once')
    assert.match(result.stderr, /-X POST '[^']+\/oauth\/token' .*-H 'dpop: eyJ/)
    assert.match(result.stderr, /-X POST '[^']+\/mcp' .*-H "authorization: DPoP \$\{ACCESS_TOKEN\}" .*-H 'dpop: eyJ/)
  })

  it('refuses a --dpop-key file that is malformed, encrypted, of another kind or missing: exit 2, naming the file', async () => {
    const bad = join(box.root, 'bad.pem')
    writeFileSync(bad, 'not a key\n')
    const encrypted = join(box.root, 'encrypted.pem')
    writeFileSync(encrypted, generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey.export({type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw'}))
    const ed = join(box.root, 'ed25519.pem')
    writeFileSync(ed, generateKeyPairSync('ed25519').privateKey.export({type: 'pkcs8', format: 'pem'}))
    const cases: Array<[string, RegExp]> = [
      [bad, /bad\.pem is not a PEM private key/],
      [encrypted, /encrypted\.pem is an encrypted private key/],
      [ed, /ed25519\.pem is a ed25519 key; DPoP proofs are signed with ES256 or RS256/],
      [join(box.root, 'missing.pem'), /missing\.pem does not exist/],
    ]
    for (const [file, message] of cases) {
      const result = await box.run(['mcp', 'call', 'echo', '--text', 'hi', '--dpop-key', file])
      assertCleanFailure(result, 2, message)
      assert.ok(result.stderr.includes(file), result.stderr)
    }
  })

  it('calls with an RS256 key from --dpop-key', async () => {
    const rsa = join(box.root, 'rsa.pem')
    writeFileSync(rsa, generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs8', format: 'pem'}))
    const result = await box.run(['mcp', 'call', 'echo', '--text', 'rsa', '--dpop-key', rsa])
    assert.equal(result.stdout, 'rsa\n', result.stderr)
  })
})

describe('plain verify against stack up --mcp-dpop allowed', () => {
  it('passes', async () => {
    const box = new Sandbox()
    const {child} = await box.startJson(['stack', 'up', ...FREE_PORTS, '--mcp-dpop', 'allowed', '--json'])
    try {
      const result = await box.run(['verify'])
      assert.equal(result.code, 0, result.stdout + result.stderr)
      assert.match(result.stdout, /\[10\/10\] OK/)
    } finally {
      await terminate(child)
      box.cleanup()
    }
  })
})

describe('tier-03 flags of stack up and stack mcp', () => {
  const box = new Sandbox()
  after(() => box.cleanup())
  const cases: Array<[string[], RegExp]> = [
    [['stack', 'up', ...FREE_PORTS, '--tool-scope', 'whoami'], /--tool-scope "whoami" is not TOOL=SCOPE/],
    [['stack', 'up', ...FREE_PORTS, '--tool-scope', 'whoami=a b'], /is not TOOL=SCOPE/],
    [['stack', 'mcp', '--port', '0', '--tool-scope', 'a=x', '--tool-scope', 'a=y'], /two scopes/],
    [['stack', 'mcp', '--port', '0', '--mcp-dpop-nonce'], /--mcp-dpop-nonce needs DPoP/],
    [['stack', 'up', ...FREE_PORTS, '--mcp-dpop', 'sometimes'], /Expected --mcp-dpop=sometimes to be one of: off, allowed, required/],
    [['stack', 'up', '--docker', '--mcp-dpop', 'required'], /cannot also be provided when using --docker/],
  ]
  for (const [args, message] of cases) {
    it(`${args.slice(0, 2).join(' ')} ${args.slice(-2).join(' ')} -> exit 2`, async () => {
      assertCleanFailure(await box.run(args), 2, message)
    })
  }
})
