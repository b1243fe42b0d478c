// Issue 19: every numeric flag of every command has a documented range (its help line and
// docs/commands.md say it) and a value outside it is refused with one Error line, one Hint line and
// exit 2, before anything starts. R3-06: `stack up --auth-lockout` and `--auth-fail-window` had no
// upper bound, and a huge lockout crashed the login (500, "Invalid time value").
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join, sep} from 'node:path'
import {describe, it} from 'node:test'

import {ROOT, Sandbox} from './helpers.js'

interface NumericFlag {
  command: string
  flag: string
  min: number
  max: number
  dependsOn: string[]
}

/** The integer flags of every command, found by what their parser does with a word. */
async function numericFlags(): Promise<NumericFlag[]> {
  const dir = join(ROOT, 'dist', 'src', 'commands')
  const found: NumericFlag[] = []
  for (const file of readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.js'))) {
    const command = file.slice(0, -3).split(sep).filter((p) => p !== 'index').join(' ')
    const {default: cls} = (await import(join(dir, file))) as {default: {flags: Record<string, {type: string; parse?: (input: string, ctx: unknown, opts: unknown) => Promise<unknown>; min?: number; max?: number; dependsOn?: string[]}>}}
    for (const [name, flag] of Object.entries(cls.flags ?? {})) {
      if (flag.type !== 'option' || !flag.parse) continue
      const integer = await flag.parse('not-a-number', {}, flag).then(
        () => false,
        (error: Error) => /Expected an integer/.test(error.message),
      )
      if (!integer) continue
      assert.ok(typeof flag.min === 'number' && typeof flag.max === 'number', `${command} --${name} has no ${typeof flag.min === 'number' ? 'upper' : 'lower'} bound`)
      found.push({command, flag: name, min: flag.min, max: flag.max, dependsOn: flag.dependsOn ?? []})
    }
  }
  return found
}

describe('numeric flags', () => {
  it('each has a lower and an upper bound, stated on its help line and in docs/commands.md', async () => {
    const flags = await numericFlags()
    assert.ok(flags.length >= 15, `found ${flags.length}`)
    for (const f of ['verify --timeout', 'stack up --auth-lockout', 'stack up --auth-fail-window', 'stack mcp --port', 'token mint --request-timeout']) {
      assert.ok(flags.some((x) => `${x.command} --${x.flag}` === f), f)
    }
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, {summary?: string}>}>}
    const reference = readFileSync(join(ROOT, 'docs', 'commands.md'), 'utf8')
    for (const f of flags) {
      const summary = manifest.commands[f.command.replaceAll(' ', ':')]!.flags[f.flag]!.summary ?? ''
      assert.match(summary, new RegExp(`\\(${f.min}-${f.max}[;)]`), `${f.command} --${f.flag}: the help line states ${f.min}-${f.max}`)
      assert.ok(reference.includes(summary), `docs/commands.md has ${f.command} --${f.flag}'s range`)
    }
    const box = new Sandbox()
    try {
      const help = await box.run(['stack', 'up', '-h'])
      // The AUTHSERVER SETTINGS group shows names only (to fit a screen); the reference has the text.
      assert.match((await box.run(['verify', '-h'])).stdout, /--timeout=<value>\s+Seconds to wait for servers that are still starting \(1-3600\)\./)
      assert.match(help.stdout, /--port=<value>\s+Public \(issuer\) port \(0-65535\)\./)
    } finally {
      box.cleanup()
    }
  })

  it('refuses a value below or above the range: one Error line, one Hint line, exit 2', async () => {
    const flags = await numericFlags()
    const box = new Sandbox()
    try {
      const cases = flags.flatMap((f) => [
        {f, value: f.min - 1, bound: `greater than or equal to ${f.min}`},
        {f, value: f.max + 1, bound: `less than or equal to ${f.max}`},
      ])
      // Two at a time: a CLI start each, on a shared machine.
      for (let i = 0; i < cases.length; i += 2) {
        await Promise.all(
          cases.slice(i, i + 2).map(async ({f, value, bound}) => {
            const args = [...f.command.split(' '), `--${f.flag}=${value}`, ...f.dependsOn.map((d) => `--${d}`)]
            const r = await box.run(args, {timeoutMs: 30_000})
            assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
            assert.equal(r.stdout, '', args.join(' '))
            assert.deepEqual(r.stderr.trimEnd().split('\n').map((l) => l.split(':')[0]), ['Error', 'Hint'], `${args.join(' ')}: ${r.stderr}`)
            assert.match(r.stderr, new RegExp(`^Error: --${f.flag}: expected an integer ${bound} but received: ${value}$`, 'm'), args.join(' '))
          }),
        )
      }
      // From the environment too (stack mcp takes PORT).
      const env = await box.run(['stack', 'mcp'], {env: {PORT: '70000'}})
      assert.equal(env.code, 2, env.stderr)
      assert.match(env.stderr, /^Error: --port: expected an integer less than or equal to 65535 but received: 70000$/m)
    } finally {
      box.cleanup()
    }
  })
})
