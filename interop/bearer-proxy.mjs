// A loopback reverse proxy that adds `Authorization: Bearer <token>` to every request, so that a
// client which cannot authenticate (the MCP conformance suite's server scenarios) can reach the
// bearer-protected tier-01 MCP server. Everything else passes through untouched, in both
// directions and streamed (SSE included), with one exception explained at mapHost().
import {Agent, createServer, request} from 'node:http'

// RFC 9110 §7.6.1: connection-scoped headers are not forwarded by an intermediary.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'])

/**
 * The Host header our server sees. The suite connects to this proxy, so it sends
 * `Host: localhost:<proxy port>`; our server, like any DNS-rebinding-protected server, only
 * accepts its own authority (`localhost:<server port>`). Two honest ways out: start the server
 * under test with the proxy's authority in its allow-list, or have the proxy behave like a plain
 * port forward. We do the latter: only a `:<proxy port>` suffix is rewritten to `:<server port>`;
 * the host NAME, every other port and the Origin header reach the server exactly as the suite sent
 * them. So the server is tested in its default configuration, and every accept/refuse decision
 * about `evil.example.com` vs `localhost` is the server's own. (Rewriting names, or Origin, would
 * let the proxy decide the scenario instead of the server.)
 */
export function mapHost(host, proxyPort, targetPort) {
  if (typeof host !== 'string') return host
  const suffix = `:${proxyPort}`
  return host.endsWith(suffix) ? `${host.slice(0, -suffix.length)}:${targetPort}` : host
}

/**
 * Starts the proxy on 127.0.0.1 (free port) in front of `target` (the MCP URL). Resolves with
 * `{url, port, stop()}`; `url` uses the host name `localhost`, as the suite's dns-rebinding
 * scenario needs a localhost URL. `onRequest` (optional) is told each forwarded request.
 */
export async function startBearerProxy({target, token, onRequest}) {
  const targetUrl = new URL(target)
  const targetPort = Number(targetUrl.port || 80)
  const agent = new Agent({keepAlive: false})
  const server = createServer()
  let port = 0

  server.on('request', (req, res) => {
    const headers = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && name !== 'authorization') headers[name] = value
    }
    // A request without Host stays without one: the server must see that, too.
    if (req.headers.host !== undefined) headers.host = mapHost(req.headers.host, port, targetPort)
    headers.authorization = `Bearer ${token}`
    onRequest?.({method: req.method, path: req.url, host: req.headers.host, forwardedHost: headers.host, origin: req.headers.origin})

    const upstream = request(
      {host: targetUrl.hostname, port: targetPort, method: req.method, path: req.url, headers, agent, setHost: false},
      (answer) => {
        const out = {}
        for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) out[name] = value
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out)
        // SSE: write each chunk as it arrives.
        res.flushHeaders()
        answer.pipe(res)
      },
    )
    upstream.on('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, {'content-type': 'application/json'})
        res.end(JSON.stringify({error: 'bad_gateway', error_description: `bearer proxy: ${err.message}`}))
      } else {
        res.destroy()
      }
    })
    // The client went away (e.g. it closed an SSE stream): end the upstream exchange too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy()
    })
    req.pipe(upstream)
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = server.address().port
  return {
    url: `http://localhost:${port}${targetUrl.pathname}`,
    port,
    stop() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        agent.destroy()
      })
    },
  }
}
