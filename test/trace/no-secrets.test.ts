import assert from 'node:assert/strict'
import {createPrivateKey} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {startStack, type StackHandle} from '../../src/stack/index.js'
import {Sandbox, type CliResult} from '../cli/helpers.js'
import {harProblems} from './validators.js'

// docs/trace.md promises that a HAR file holds no secret, and --print-curl and --dry-run show each
// secret as the shell variable that holds it. Here every command that talks to a server runs with
// --har and --print-curl, then again with --dry-run (and --har), against one embedded stack; at the
// end every secret that existed during the runs (the admin key, the user passwords, each client
// secret the store ever held, the one given as --client-secret, each access token, the profile's
// DPoP private key) is looked for in every HAR file and every line the runs printed, raw and in
// the encodings a request carries it in. Refresh tokens and any other token are caught by the
// rule that no JWT and no secret field (refresh_token, client_secret, password ...) appears unredacted.

const USER_PASSWORD = 'p@ss "word" \\ 42 & more'

interface Run {
  args: string[]
  env?: NodeJS.ProcessEnv
  /** Prints a secret on stdout because the user asked for it (a token, a generated password). */
  showsSecret?: boolean
  result?: CliResult
  har?: string
}

/** Every string under a key that names a secret, however deep. */
function secretValues(value: unknown, into: Set<string>, key = ''): void {
  if (typeof value === 'string') {
    if (/^(secret|accessToken|access_token|refresh_token|adminKey|password|pem|client_secret)$/.test(key) && value !== '') into.add(value)
    return
  }
  if (Array.isArray(value)) for (const item of value) secretValues(item, into, key)
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) secretValues(v, into, k)
}

/** A PEM private key's own secret parts: its base64 lines and the JWK `d`. */
function pemSecrets(pem: string): string[] {
  const lines = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))
  const jwk = createPrivateKey(pem).export({format: 'jwk'}) as {d?: string}
  return [...lines, ...(jwk.d ? [jwk.d] : [])]
}

/** The forms a secret takes on the wire and in a printed request. */
function variants(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), new URLSearchParams({v: secret}).toString().slice(2), JSON.stringify(secret).slice(1, -1)])]
}

describe('no secret in any HAR file, --print-curl or --dry-run output, for every command', () => {
  let stack: StackHandle
  let box: Sandbox
  const runs: Run[] = []
  const secrets = new Set<string>()
  let harCount = 0

  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}, mcpDpop: 'allowed'})
    box = new Sandbox({AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, AUTHPLANE_ADMIN_API_KEY: stack.adminKey, MCP_URL: stack.mcpUrl, AP_DEMO_USER_PASSWORD: USER_PASSWORD})
    secrets.add(stack.adminKey)
    secrets.add(USER_PASSWORD)
  })
  after(async () => {
    box.cleanup()
    await stack.stop()
  })

  /** Runs the command with --har FILE (and the extra flags), keeps what it printed and the secrets the store then holds. */
  async function run(run: Run, extra: string[]): Promise<CliResult> {
    const har = join(box.root, `run-${++harCount}.har`)
    const result = await box.run([...run.args, '--har', har, ...extra], {env: run.env, timeoutMs: 120_000})
    runs.push({...run, result, har})
    if (existsSync(box.storePath)) secretValues(JSON.parse(readFileSync(box.storePath, 'utf8')), secrets)
    if (run.args.includes('--json') && result.stdout.trim().startsWith('{')) secretValues(JSON.parse(result.stdout), secrets)
    return result
  }

  it('runs every command with --har and --print-curl', async () => {
    const commands: Run[] = [
      {args: ['setup', 'resource']},
      {args: ['setup', 'client']},
      {args: ['setup', 'client', '--rotate']},
      {args: ['setup', 'user', '--email', 'env@example.com']},
      // No AP_DEMO_USER_PASSWORD: the password is generated and shown once, on stdout.
      {args: ['setup', 'user', '--email', 'generated@example.com', '--json'], env: {AP_DEMO_USER_PASSWORD: ''}, showsSecret: true},
      {args: ['setup', 'user', '--email', 'env@example.com', '--disable']},
      {args: ['setup', 'user', '--list']},
      {args: ['token', 'mint', '--json'], showsSecret: true},
      {args: ['token', 'mint', '--dpop', '--no-cache', '--json'], showsSecret: true},
      {args: ['token', 'mint', '--decode', '--no-cache']},
      {args: ['mcp', 'tools']},
      {args: ['mcp', 'call', 'echo', '--text', 'hi']},
      {args: ['mcp', 'call', 'echo', '--text', 'hi', '--dpop', '--no-cache']},
      {args: ['verify']},
      {args: ['verify', '--dpop']},
      {args: ['setup', '--yes', '--verify']},
    ]
    for (const command of commands) {
      const r = await run(command, ['--print-curl'])
      assert.equal(r.code, 0, `${command.args.join(' ')}: ${r.stderr}`)
      // --json keeps stderr quiet: the HAR file is that run's record.
      if (!command.args.includes('--json')) assert.match(r.stderr, /^curl /m, `${command.args.join(' ')} printed its requests`)
    }
    // A client given on the command line, found through the MCP server's 401 (discovery).
    const saved = (JSON.parse(readFileSync(box.storePath, 'utf8')) as {profiles: Record<string, {client: {id: string; secret: string}}>}).profiles.default!.client
    const r = await run({args: ['mcp', 'call', 'echo', '--text', 'hi', '--mcp-url', stack.mcpUrl, '--client-id', saved.id, '--client-secret', saved.secret, '--no-cache']}, ['--print-curl'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /-u "[^"]+:\$\{AUTHPLANE_CLIENT_SECRET\}"/)
  })

  it('runs every command with --dry-run (and --har)', async () => {
    const commands: Run[] = [
      {args: ['setup', 'resource', '--slug', 'other-mcp', '--uri', 'http://localhost:1/other']},
      {args: ['setup', 'client', '--new']},
      {args: ['setup', 'client', '--rotate']},
      {args: ['setup', 'user', '--email', 'dry@example.com']},
      {args: ['setup', 'user', '--email', 'dry-generated@example.com'], env: {AP_DEMO_USER_PASSWORD: ''}},
      {args: ['token', 'mint', '--no-cache']},
      {args: ['mcp', 'call', 'echo', '--text', 'hi', '--no-cache']},
      {args: ['mcp', 'tools', '--no-cache']},
      {args: ['verify']},
      {args: ['setup', '--yes', '--verify']},
      {args: ['clean', '--yes']},
    ]
    for (const command of commands) {
      const r = await run(command, ['--dry-run'])
      assert.equal(r.code, 0, `${command.args.join(' ')}: ${r.stderr}`)
      assert.match(`${r.stdout}${r.stderr}`, /^curl /m, `${command.args.join(' ')} showed a request`)
    }
    const passwords = runs.flatMap((x) => (x.args.includes('dry@example.com') ? [x.result!.stdout] : []))
    assert.match(passwords.join(''), /"password\\":\\"\$\{AP_DEMO_USER_PASSWORD\}\\"/, 'the user password is shown as its variable')
    // The last: clean deletes what the runs made (its own HAR holds the admin key's uses).
    const cleaned = await run({args: ['clean', '--yes']}, ['--print-curl'])
    assert.equal(cleaned.code, 0, cleaned.stderr)
  })

  it('finds none of the secrets in any file or output, in any encoding', () => {
    for (const s of [...secrets]) if (s.includes('PRIVATE KEY')) for (const part of pemSecrets(s)) secrets.add(part)
    // The store held several client secrets (created, rotated, the wizard's), tokens and the DPoP key.
    const kinds = {clientSecrets: 0, tokens: 0, keys: 0}
    for (const s of secrets) {
      if (s.startsWith('eyJ')) kinds.tokens++
      else if (s.includes('PRIVATE KEY')) kinds.keys++
    }
    assert.ok(kinds.tokens >= 2 && kinds.keys === 1, `the runs left the secrets to look for: ${JSON.stringify(kinds)}`)
    const searched = [...secrets].filter((s) => s.length >= 6).flatMap((s) => variants(s).map((v) => ({secret: s, v})))
    const basic = [...secrets].map((s) => s)
    let checked = 0
    for (const x of runs) {
      const what = x.args.join(' ')
      const har = readFileSync(x.har!, 'utf8')
      assert.deepEqual(harProblems(JSON.parse(har)), [], `${what}: a valid HAR`)
      const texts: Array<[string, string]> = [[`${what}: HAR`, har], [`${what}: stderr`, x.result!.stderr]]
      if (!x.showsSecret) texts.push([`${what}: stdout`, x.result!.stdout])
      for (const [where, text] of texts) {
        for (const {secret, v} of searched) assert.ok(!text.includes(v), `${where} holds a secret (${secret.slice(0, 6)}…)`)
        // A DPoP proof is no secret (signed, naming only the public key): --print-curl shows it, single-use.
        for (const jwt of text.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g) ?? []) {
          const header = JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as {typ?: string}
          assert.ok(header.typ === 'dpop+jwt' && !where.endsWith('HAR'), `${where} holds a JWT (typ ${header.typ})`)
        }
        // HTTP Basic carries id:secret in base64 (RFC 7617).
        for (const b64 of text.match(/Basic [A-Za-z0-9+/=]{8,}/g) ?? []) {
          const decoded = Buffer.from(b64.slice(6), 'base64').toString('utf8')
          assert.ok(!basic.some((s) => decoded.includes(s) || decoded.includes(encodeURIComponent(s))), `${where} holds Basic credentials`)
        }
        // Any secret field of a body, whoever's it was, is a placeholder or a shell variable.
        for (const m of text.matchAll(/\\?"(client_secret|access_token|refresh_token|id_token|password|admin_key|api_key)\\?"\s*:\s*\\?"((?:[^"\\]|\\.)*?)\\?"/g)) {
          assert.match(m[2]!, /^(\[redacted [a-z-]+ [0-9a-f]{8}\]|\$\{[A-Z_]+\})$/, `${where}: field ${m[1]} is "${m[2]!.slice(0, 6)}…"`)
        }
        checked++
      }
    }
    assert.ok(checked >= 3 * 20, `searched ${checked} outputs`)
  })
})
