// @oclif/core's own entry points for these three, not its index, which loads all of oclif (help,
// parser, ux...) even for `--version`; a command's module loads what it uses when it runs.
import {flush} from '@oclif/core/flush'
import {handle} from '@oclif/core/handle'
import {run} from '@oclif/core/run'

import {hideSecretArgs} from './secret-args.js'

/**
 * The entry point of bin/run.js. A reader that stops early (`ap-demo --help | head -1`) closes
 * stdout; that is not a failure of ap-demo, so it ends quietly with exit 0 (also for help, which
 * runs before any command).
 */
export async function main(given: string[], binUrl: string): Promise<void> {
  // Secret flag values never reach oclif's DEBUG=* output (it logs process.argv) or error text.
  const argv = hideSecretArgs(given)
  process.argv.splice(2, Infinity, ...argv)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
  try {
    await run(argv, binUrl)
    await flush()
  } catch (error) {
    await handle(error as Error)
  }
}
