// Diagnostic, not part of `npm run bench`: the ceiling that node:http itself puts on the token
// endpoint on this machine. A child serves POST /oauth/token with a fixed token-sized JSON body
// ("plain") or with one ES256 signature per request through signBenchmarkToken() ("sign"); this
// process drives it exactly like bench/run.mjs step 2 (keep-alive Agent, concurrency 32).
//
//   node bench/http-floor.mjs [plain|sign] [seconds]
import {spawn} from 'node:child_process'
import http from 'node:http'
import {dieWithParent, importDist} from './lib.mjs'

const mode = process.argv[2] ?? 'plain'
if (process.argv[4] === 'server') {
  const sign = mode === 'sign' ? (await importDist('stack/authserver/index.js')).signBenchmarkToken() : undefined
  const fixed = JSON.stringify({access_token: 'x'.repeat(560), token_type: 'Bearer', expires_in: 3600, scope: 'mcp:echo'})
  const server = http.createServer({keepAliveTimeout: 5000}, (req, res) => {
    req.on('data', () => {})
    req.on('end', () => {
      const body = sign ? JSON.stringify({access_token: sign(), token_type: 'Bearer', expires_in: 3600, scope: 'mcp:echo'}) : fixed
      res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', Pragma: 'no-cache'})
      res.end(body)
    })
  })
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))
  dieWithParent(() => new Promise((r) => server.close(r)))
} else {
  const seconds = Number(process.argv[3] ?? 4)
  const child = spawn(process.execPath, [process.argv[1], mode, String(seconds), 'server'], {stdio: ['pipe', 'pipe', 'inherit']})
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
  const agent = new http.Agent({keepAlive: true, maxSockets: 32})
  const body = Buffer.from('grant_type=client_credentials&scope=mcp%3Aecho&resource=http%3A%2F%2F127.0.0.1%3A8080%2Fmcp')
  const headers = {'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length, Authorization: `Basic ${'x'.repeat(88)}`}
  const once = () =>
    new Promise((resolve, reject) => {
      const req = http.request({agent, hostname: '127.0.0.1', port, path: '/oauth/token', method: 'POST', headers}, (res) => {
        res.on('data', () => {})
        res.on('end', resolve)
      })
      req.on('error', reject)
      req.end(body)
    })
  try {
    for (const ms of [1000, seconds * 1000]) {
      let n = 0
      const end = performance.now() + ms
      await Promise.all(Array.from({length: 32}, async () => {
        while (performance.now() < end) {
          await once()
          n++
        }
      }))
      if (ms !== 1000) console.log(`${mode}: ${Math.round(n / seconds)} req/s (node:http, c=32, ${seconds} s)`)
    }
  } finally {
    child.kill()
    agent.destroy()
  }
}
