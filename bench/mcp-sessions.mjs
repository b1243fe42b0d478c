// Benchmark child (run with --expose-gc): memory of the MCP server holding abandoned sessions.
//
//   node --expose-gc bench/mcp-sessions.mjs '{"sessions":1000,"sessionIdleMs":2000,"concurrency":8}'
//
// Starts a stack in this process, mints one token, warms up, then opens N MCP sessions with raw
// fetch (initialize only, body read to the end, never DELETEd) and measures RSS after gc: at the
// start, with the N sessions live, and after the idle sweep has closed them. Prints one JSON line
// {"result":{...}} on stdout, then exits.
import {dieWithParent, importDist, mintToken, registerDemo} from './lib.mjs'

if (typeof global.gc !== 'function') {
  console.error('[mcp-sessions] run me with node --expose-gc')
  process.exit(2)
}

const opts = {sessions: 1000, sessionIdleMs: 2000, concurrency: 8, warmup: 50, ...(process.argv[2] ? JSON.parse(process.argv[2]) : {})}
const {startStack} = await importDist('stack/index.js')
const stack = await startStack({
  port: 0,
  adminPort: 0,
  mcpPort: 0,
  // A load test from one address: the authorization server's per-address limit stays out of it.
  rateLimit: {enabled: false},
  sessionIdleMs: opts.sessionIdleMs,
  // Above N, so that no session is evicted by the bound: only the idle sweep may close them.
  maxSessions: opts.sessions + opts.warmup + 100,
})
const quit = dieWithParent(() => stack.stop())

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function settle() {
  for (let i = 0; i < 4; i++) {
    global.gc()
    await sleep(20)
  }
}

function memory() {
  const m = process.memoryUsage()
  return {rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers}
}

try {
  const credentials = await registerDemo(stack)
  const token = await mintToken(stack, credentials)
  const headers = {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream'}
  let nextId = 1
  const initialize = async () => {
    const res = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'initialize',
        params: {protocolVersion: '2025-03-26', capabilities: {}, clientInfo: {name: 'bench', version: '0.0.0'}},
      }),
    })
    const body = await res.text()
    const sessionId = res.headers.get('mcp-session-id')
    if (res.status !== 200 || !sessionId || !body.includes('"serverInfo"')) throw new Error(`initialize -> ${res.status} ${body.slice(0, 300)}`)
    return sessionId
  }
  const openMany = async (n) => {
    const ids = []
    let started = 0
    const worker = async () => {
      while (started < n) {
        started++
        ids.push(await initialize())
      }
    }
    await Promise.all(Array.from({length: Math.min(opts.concurrency, n)}, worker))
    return ids
  }

  // Warm-up: the same path N times fewer, then the sessions are closed with DELETE.
  for (const id of await openMany(opts.warmup)) {
    const res = await fetch(stack.mcpUrl, {method: 'DELETE', headers: {...headers, 'mcp-session-id': id}})
    await res.arrayBuffer()
  }
  await sleep(100)
  await settle()
  const start = {...memory(), sessions: stack.mcpServer.sessionCount()}

  const t0 = performance.now()
  await openMany(opts.sessions)
  const openMs = performance.now() - t0
  const liveRightAfter = stack.mcpServer.sessionCount()
  await settle()
  const loaded = {...memory(), sessions: stack.mcpServer.sessionCount()}

  // The idle sweep runs every sessionIdleMs/2 and closes sessions idle for sessionIdleMs.
  const t1 = performance.now()
  const deadline = t1 + opts.sessionIdleMs * 2 + 1000
  while (stack.mcpServer.sessionCount() > 0 && performance.now() < deadline) await sleep(100)
  const sweepMs = performance.now() - t1
  await settle()
  const swept = {...memory(), sessions: stack.mcpServer.sessionCount()}

  process.stdout.write(`${JSON.stringify({result: {sessions: opts.sessions, sessionIdleMs: opts.sessionIdleMs, concurrency: opts.concurrency, openMs, liveRightAfter, sweepMs, start, loaded, swept}})}\n`)
  await quit(0)
} catch (error) {
  console.error(`[mcp-sessions] ${error?.stack ?? error}`)
  await quit(1)
}
