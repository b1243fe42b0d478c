#!/usr/bin/env node
import {flush, handle, run} from '@oclif/core'

import {hideSecretArgs} from '../dist/src/cli/secret-args.js'

// Secret flag values never reach oclif's DEBUG output or error messages (src/cli/secret-args.ts).
const argv = hideSecretArgs(process.argv.slice(2))
process.argv.splice(2, Infinity, ...argv)

try {
  await run(argv, import.meta.url)
  await flush()
} catch (error) {
  // @oclif/plugin-not-found ends an unknown command with exit 127 and text on stderr; under
  // --json stdout must still hold one document (the envelope of src/base-command.ts).
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
