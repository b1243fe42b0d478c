import {flush, handle, run} from '@oclif/core'

/**
 * The entry point of bin/run.js. A reader that stops early (`ap-demo --help | head -1`) closes
 * stdout; that is not a failure of ap-demo, so it ends quietly with exit 0 (also for help, which
 * runs before any command).
 */
export async function main(argv: string[], binUrl: string): Promise<void> {
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
