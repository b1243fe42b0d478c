#!/usr/bin/env node
import module from 'node:module'

// Node 22.1+ can keep V8's compiled code of every module it loads in a cache on disk (NODE_COMPILE_CACHE,
// else a folder in the OS temp dir), so that later starts skip parsing and compiling; Node 20 has no
// such cache. It covers only what loads after this line, hence the import()s below.
module.enableCompileCache?.()
// @oclif/core's own entry points for these three, not its index, which loads all of oclif (help,
// parser, ux...) even for `--version`; a command's module loads what it uses when it runs.
const [{run}, {flush}, {handle}] = await Promise.all([import('@oclif/core/run'), import('@oclif/core/flush'), import('@oclif/core/handle')])

const argv = process.argv.slice(2)

try {
  await run(argv, import.meta.url)
  await flush()
} catch (error) {
  // @oclif/plugin-not-found ends an unknown command with exit 127 and text on stderr; under
  // --json stdout must still hold one document (the envelope of src/cli/base-command.ts).
  if (error?.oclif?.exit === 127 && argv.includes('--json')) {
    const firstFlag = argv.findIndex((a) => a.startsWith('-'))
    const words = (firstFlag === -1 ? argv : argv.slice(0, firstFlag)).join(' ')
    const envelope = {
      status: 'error',
      error: {code: 'unknown_command', message: `"${words}" is not an ap-demo command`, hint: 'Run ap-demo help for the list of commands.', exitCode: 127},
    }
    process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`)
    process.exitCode = 127
  } else {
    await handle(error)
  }
}
