// Benchmark child: the embedded stack (in-memory store) on free loopback ports, with the
// walkthrough's resource and a client_credentials client already registered.
//
//   node bench/stack-server.mjs ['{"sessionIdleMs":2000}']
//
// stdout, one JSON line each:
//   {"ready":{issuer, publicUrl, adminUrl, mcpUrl, resource, adminKey, clientId, clientSecret, pid}}
//   {"stats":{tokenRequests, tokensIssued, sessions}}   on every SIGUSR2
// Exits on SIGTERM/SIGINT or when its stdin closes (the parent is gone).
import {dieWithParent, importDist, registerDemo} from './lib.mjs'

const extra = process.argv[2] ? JSON.parse(process.argv[2]) : {}
const {startStack} = await importDist('stack/index.js')
// The authorization server limits each client address to 100 requests/s by default, like the real
// one; a load test from one address measures the server, not the limiter, so it is turned off
// (pass '{"rateLimit":{"enabled":true}}' to measure with it).
const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}, ...extra})
const quit = dieWithParent(() => stack.stop())

try {
  const credentials = await registerDemo(stack)
  const write = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`)
  process.on('SIGUSR2', () => write({stats: {...stack.authServer.stats(), sessions: stack.mcpServer.sessionCount()}}))
  write({
    ready: {
      issuer: stack.issuer,
      publicUrl: stack.publicUrl,
      adminUrl: stack.adminUrl,
      mcpUrl: stack.mcpUrl,
      resource: stack.resource,
      adminKey: stack.adminKey,
      ...credentials,
      pid: process.pid,
    },
  })
} catch (error) {
  console.error(`[stack-server] ${error?.stack ?? error}`)
  await quit(1)
}
