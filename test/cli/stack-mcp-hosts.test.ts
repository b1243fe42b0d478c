import assert from 'node:assert/strict'
import {request} from 'node:http'
import {describe, it} from 'node:test'

import {assertCleanFailure, Sandbox, terminate} from './helpers.js'

/** Status of an unauthenticated POST to the MCP endpoint carrying exactly this Host header. */
function statusFor(mcpUrl: string, host: string): Promise<number> {
  const url = new URL(mcpUrl)
  return new Promise((resolve, reject) => {
    const req = request({host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: {Host: host, 'Content-Type': 'application/json'}, agent: false}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')))
    req.on('error', reject)
    req.end('{}')
  })
}

describe('stack mcp --allowed-host (DNS-rebinding allow-list)', () => {
  it('refuses a value that is not a host[:port] with the usage exit code', async () => {
    const box = new Sandbox()
    try {
      const result = await box.run(['stack', 'mcp', '--port', '0', '--allowed-host', 'http://mcp-server:8080/'])
      assertCleanFailure(result, 2, /--allowed-host "http:\/\/mcp-server:8080\/" is not a host\[:port\]/)
    } finally {
      box.cleanup()
    }
  })

  it('admits the listed names next to localhost, and refuses other Host headers with 403', async () => {
    const box = new Sandbox()
    try {
      const {child, doc} = await box.startJson(['stack', 'mcp', '--port', '0', '--issuer', 'http://127.0.0.1:9', '--allowed-host', 'mcp-server:8080', '--json'])
      try {
        const mcpUrl = doc.result.mcpUrl as string
        // 401: the request passed the Host check and was refused for its missing token (contract §5).
        assert.equal(await statusFor(mcpUrl, 'mcp-server:8080'), 401)
        assert.equal(await statusFor(mcpUrl, `localhost:${new URL(mcpUrl).port}`), 401)
        assert.equal(await statusFor(mcpUrl, 'other-container:8080'), 403)
      } finally {
        await terminate(child)
      }
    } finally {
      box.cleanup()
    }
  })
})

describe('stack up --mcp-allowed-host', () => {
  it('passes the allow-list to the embedded stack\'s MCP server', async () => {
    const box = new Sandbox()
    try {
      const {child, doc} = await box.startJson(['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--no-save', '--mcp-allowed-host', 'agents.internal:8443', '--json'])
      try {
        const mcpUrl = doc.result.mcpUrl as string
        assert.equal(await statusFor(mcpUrl, 'agents.internal:8443'), 401)
        assert.equal(await statusFor(mcpUrl, 'agents.internal:8444'), 403)
      } finally {
        await terminate(child)
      }
    } finally {
      box.cleanup()
    }
  })

  it('is refused with --docker, and a malformed value is a usage error', async () => {
    const box = new Sandbox()
    try {
      assertCleanFailure(await box.run(['stack', 'up', '--mcp-allowed-host', 'a b']), 2, /--mcp-allowed-host "a b" is not a host\[:port\]/)
      assertCleanFailure(await box.run(['stack', 'up', '--docker', '--mcp-allowed-host', 'x:1']), 2, /--mcp-allowed-host/)
    } finally {
      box.cleanup()
    }
  })
})
