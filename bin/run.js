#!/usr/bin/env node
import {closeSync, openSync, readSync} from 'node:fs'
import module from 'node:module'

// The first start after installing, or after the machine sat idle, reads some 300 files from a cold
// disk cache: seconds on a slow disk, most of them inside synchronous require() calls, where no
// timer of this thread can fire to say so (docs/benchmarks.md, "The first run"). So one small read
// of a file the CLI loads anyway is timed first (tens of microseconds when it is cached); only when
// it was slow, and a person watches stderr (a terminal; never under --json), does a watchdog thread
// start, which says what is going on unless the command has started within a second of the
// process. Warm starts pay for that one read and nothing else.
const COLD_READ_MS = 10
const NOTICE_AFTER_MS = 1000

function watchSlowStart() {
  if (process.argv.includes('--json')) return
  const started = performance.now()
  try {
    const fd = openSync(new URL('../dist/bundle/commands.js', import.meta.url), 'r')
    readSync(fd, Buffer.allocUnsafe(4096), 0, 4096, 0)
    closeSync(fd)
  } catch {
    return
  }
  if (performance.now() - started < COLD_READ_MS || !process.getBuiltinModule('node:tty').isatty(2)) return
  const ready = new Int32Array(new SharedArrayBuffer(4))
  const signal = () => {
    Atomics.store(ready, 0, 1)
    Atomics.notify(ready, 0)
  }
  // BaseCommand.init calls it when the command starts; exit ends the watch in any case.
  globalThis.__apDemoStarted = signal
  process.once('exit', signal)
  // Loaded only now (Node >= 20.16): a warm start never loads it.
  const {Worker} = process.getBuiltinModule('node:worker_threads')
  const watchdog = new Worker(
    `const {workerData: w} = require('node:worker_threads')
    if (Atomics.wait(w.ready, 0, 0, w.delay) === 'timed-out') require('node:fs').writeSync(2, w.message)`,
    {
      eval: true,
      stdout: false,
      stderr: false,
      workerData: {
        ready,
        delay: Math.max(0, NOTICE_AFTER_MS - performance.now()),
        message: 'ap-demo is starting: its files are being read from disk (the first run after installing, or after the machine was idle, can take several seconds; later runs take about one) ...\n',
      },
    },
  )
  watchdog.unref()
}

watchSlowStart()
// Node 22.1+ can keep V8's compiled code of every module it loads in a cache on disk (NODE_COMPILE_CACHE,
// else a folder in the OS temp dir), so that later starts skip parsing and compiling; Node 20 has no
// such cache. It covers only what loads after this line, hence the import() below.
module.enableCompileCache?.()
// The bundle (scripts/bundle.mjs) of src/cli/main.ts.
const {main} = await import('../dist/bundle/cli/main.js')

await main(process.argv.slice(2), import.meta.url)
