import {Command, Flags, Interfaces} from '@oclif/core'
import chalk from 'chalk'

import {Environment, ENV} from './config/settings.js'
import {ConfigStore, validateProfileName} from './config/store.js'
import {ApDemoError, ExitCode} from './errors.js'
import {toApDemoError} from './error-map.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

/**
 * What every ap-demo command shares: `--json` with one stable envelope on stdout, human text and
 * hints on stderr, and the error -> exit code mapping (src/errors.ts holds the table).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    'no-input': Flags.boolean({
      summary: 'Never prompt; fail with the missing flags instead.',
      description: 'Also implied when stdin or stdout is not a terminal, or when the CI environment variable is set.',
      env: 'AP_DEMO_NO_INPUT',
      helpGroup: 'GLOBAL',
    }),
  }

  private _store?: ConfigStore
  private _env?: Environment

  /** The local store, in oclif's config dir ($XDG_CONFIG_HOME/ap-demo; AP_DEMO_CONFIG_DIR overrides). */
  protected get store(): ConfigStore {
    this._store ??= new ConfigStore({cwd: this.config.configDir})
    return this._store
  }

  /** The environment plus ./.env, as the original example's `set -a; source .env`. */
  protected get env(): Environment {
    this._env ??= new Environment()
    return this._env
  }

  /** --profile, else AP_DEMO_PROFILE, else the store's active profile. */
  protected profileName(flag: string | undefined): string {
    if (flag) return validateProfileName(flag)
    const fromEnv = this.env.get(ENV.profile)
    if (fromEnv) return validateProfileName(fromEnv)
    return this.store.activeProfileName()
  }

  override async init(): Promise<void> {
    await super.init()
    // https://no-color.org: chalk itself only honours FORCE_COLOR and the terminal.
    if (process.env.NO_COLOR) chalk.level = 0
  }

  /** Whether prompts may be shown: a TTY on both ends, no --no-input, no CI. */
  protected canPrompt(flags: {'no-input'?: boolean}): boolean {
    if (flags['no-input']) return false
    if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') return false
    return Boolean(process.stdin.isTTY && process.stdout.isTTY)
  }

  /** Progress and notes for humans: stderr, silent under --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  protected warnUser(message: string, hint?: string): void {
    if (this.jsonEnabled()) return
    process.stderr.write(`${chalk.yellow('Warning:')} ${message}\n`)
    if (hint) process.stderr.write(`${chalk.dim('Hint:')} ${hint}\n`)
  }

  protected override toSuccessJson(result: unknown): unknown {
    return {status: 'ok', result}
  }

  protected override toErrorJson(err: unknown): unknown {
    const e = toApDemoError(err)
    return {
      status: 'error',
      error: {code: e.code, message: e.message, hint: e.hint ?? null, exitCode: e.exitCode, ...e.details},
    }
  }

  protected override async catch(err: Interfaces.CommandError): Promise<void> {
    // oclif's own exit (this.exit) is not an error to report.
    if ((err as {oclif?: {exit?: number}; code?: string}).code === 'EEXIT') throw err
    const e = toApDemoError(err)
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(e))
    } else {
      process.stderr.write(`${chalk.red('Error:')} ${e.message}\n`)
      if (e.hint) process.stderr.write(`${chalk.dim('Hint:')} ${e.hint}\n`)
      if (e.exitCode === ExitCode.INTERNAL && process.env.DEBUG) process.stderr.write(`${(err as Error).stack}\n`)
    }
    this.exit(e.exitCode)
  }
}

export {ApDemoError}
