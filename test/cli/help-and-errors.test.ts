// The CLI layer as a user meets it: help that fits a screen, errors that say what was expected,
// a closed stdout, waits that say what they wait for. Few processes: one per behaviour.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'

import {closedPort, ROOT, Sandbox} from './helpers.js'

const manifest = () => JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}

describe('help and errors', () => {
  it('every --help fits a screen (<= 44 lines: the help itself 40, a topic its command list), -h works, and the root help opens with a getting-started example', async () => {
    const box = new Sandbox()
    try {
      const ids = Object.keys(manifest().commands).map((id) => id.split(':'))
      const longest = {lines: 0, id: ''}
      for (const id of ids) {
        const {code, stdout} = await box.run([...id, '-h'])
        assert.equal(code, 0, `${id.join(' ')} -h`)
        const lines = stdout.trimEnd().split('\n')
        if (lines.length > longest.lines) Object.assign(longest, {lines: lines.length, id: id.join(' ')})
        assert.ok(lines.length <= 44, `${id.join(' ')} --help has ${lines.length} lines`)
        assert.ok(!/\[\s*\|/.test(stdout) && !/\|\s*\]/.test(stdout), `${id.join(' ')}: a usage line with an empty alternative`)
      }
      const root = await box.run(['--help'])
      assert.match(root.stdout.split('\n')[0]!, /^Get started/)
      assert.match(root.stdout, /\$ ap-demo verify --embedded/)
    } finally {
      box.cleanup()
    }
  })

  it('the config commands take --profile and nothing else; each command only the flags it uses', () => {
    const {commands} = manifest()
    for (const id of ['config:show', 'config:list', 'config:path', 'config:use']) {
      const extra = Object.keys(commands[id]!.flags).filter((f) => f !== 'json' && f !== 'profile')
      assert.deepEqual(extra, [], id)
    }
    assert.ok(!('admin-key' in commands['token:mint']!.flags), 'token mint does not talk to the admin API')
    for (const flag of ['client-id', 'client-secret', 'scope', 'no-cache']) {
      assert.ok(flag in commands['token:mint']!.flags && flag in commands['mcp:call']!.flags, `token mint and mcp call both take --${flag}`)
    }
  })

  it('a flag that does not parse says what was expected', async () => {
    const box = new Sandbox()
    try {
      const port = await box.run(['stack', 'up', '--port', 'abc'])
      assert.equal(port.code, 2)
      assert.match(port.stderr, /^Error: --port: expected an integer but received: abc$/m)
      const arg = await box.run(['config', 'use'])
      assert.equal(arg.code, 2)
      assert.match(arg.stderr, /^Error: missing argument PROFILE \(Profile name\.\)$/m)
    } finally {
      box.cleanup()
    }
  })

  it('a reader that closes stdout early ends ap-demo quietly with exit 0 (set -o pipefail)', async () => {
    const box = new Sandbox()
    try {
      for (const command of ['--help', 'mcp call --help']) {
        const {stdout, stderr} = await promisify(execFile)('bash', ['-c', `set -o pipefail; node ${join(ROOT, 'bin', 'run.js')} ${command} | head -1; echo "exit $?"`], {env: box.env, cwd: box.root, encoding: 'utf8'})
        assert.match(stdout, /exit 0\n$/, `${command}: ${stdout} ${stderr}`)
        assert.equal(stderr, '', `${command}: nothing on stderr`)
      }
    } finally {
      box.cleanup()
    }
  })

  it('verify against servers that are down says what it waits for, and prints its error once', async () => {
    const port = await closedPort()
    const down = {AUTHPLANE_ISSUER: `http://127.0.0.1:${port}`, ADMIN_URL: `http://127.0.0.1:${port}`, MCP_URL: `http://127.0.0.1:${port}/mcp`, AUTHPLANE_ADMIN_API_KEY: 'k'.repeat(20)}
    const box = new Sandbox(down)
    try {
      const result = await box.run(['verify', '--timeout', '3'])
      assert.equal(result.code, 4, result.stderr)
      assert.match(result.stderr, /\[ 1\/10\] waiting: discovery ready: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server: connection refused \(ECONNREFUSED\); retrying for up to 3 s \.\.\./)
      const message = /^Error: (.*)$/m.exec(result.stderr)![1]!
      assert.equal(result.stderr.split(message).length + result.stdout.split(message).length - 2, 1, `the error appears once:\n${result.stdout}${result.stderr}`)
      assert.match(result.stdout, /\[ 1\/10\] FAIL discovery ready/)
    } finally {
      box.cleanup()
    }
  })

  it('no file outside src/cli/ decides an exit code', () => {
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, {withFileTypes: true})) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) walk(path)
        else if (path.endsWith('.ts') && /\bExitCode\b|exitCode:\s*\d|process\.exit(Code)?\b/.test(readFileSync(path, 'utf8'))) offenders.push(relative(ROOT, path))
      }
    }
    walk(join(ROOT, 'src'))
    // The stack's servers end their own process on a signal; that is not a CLI exit code.
    assert.deepEqual(offenders.filter((f) => !f.startsWith('src/cli/') && !f.startsWith('src/stack/')), [])
  })
})
