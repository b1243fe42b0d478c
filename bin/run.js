#!/usr/bin/env node
import module from 'node:module'

// Node 22.1+ can keep V8's compiled code of every module it loads in a cache on disk (NODE_COMPILE_CACHE,
// else a folder in the OS temp dir), so that later starts skip parsing and compiling; Node 20 has no
// such cache. It covers only what loads after this line, hence the import() below.
module.enableCompileCache?.()
// The bundle (scripts/bundle.mjs) of src/cli/main.ts.
const {main} = await import('../dist/bundle/cli/main.js')

await main(process.argv.slice(2), import.meta.url)
