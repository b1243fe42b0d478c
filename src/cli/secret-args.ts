// Secrets given as flags (--admin-key, --client-secret) are taken out of the argv before oclif sees
// it: oclif's DEBUG=* output logs the whole argv, and every error that quotes an argument would
// quote them too. The argv keeps a placeholder; the flags' parse step puts the value back.

const SECRET_FLAGS = new Set(['--admin-key', '--client-secret'])
const PLACEHOLDER = /^<secret argument (\d+)>$/

// Shared through globalThis: bin/run.js and the commands may load this module from different
// paths (the compiled file and a test's copy), and must see one list.
const store = ((globalThis as {__apDemoSecretArgs?: string[]}).__apDemoSecretArgs ??= [])

function hide(value: string): string {
  store.push(value)
  return `<secret argument ${store.length - 1}>`
}

/** The argv with the values of secret flags replaced by placeholders (`--admin-key X`, `--admin-key=X`). */
export function hideSecretArgs(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const eq = arg.indexOf('=')
    if (eq > 0 && SECRET_FLAGS.has(arg.slice(0, eq))) {
      out.push(`${arg.slice(0, eq)}=${hide(arg.slice(eq + 1))}`)
    } else if (SECRET_FLAGS.has(arg) && i + 1 < argv.length) {
      out.push(arg, hide(argv[i + 1]!))
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}

/** The value a placeholder stands for (anything else is returned as it is): the flags' parse step. */
export function revealSecretArg(value: string): string {
  const match = PLACEHOLDER.exec(value)
  return match ? (store[Number(match[1])] ?? value) : value
}
