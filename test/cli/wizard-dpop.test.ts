import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {startStack, type StackHandle} from '../../src/stack/index.js'
import {BIN, Sandbox} from './helpers.js'
import {Pty} from './pty.js'

describe('the wizard offers DPoP when the MCP server announces it', () => {
  let stack: StackHandle
  before(async () => {
    stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, mcpDpop: 'required'})
  })
  after(async () => {
    await stack.stop()
  })

  it('asks, verifies with a DPoP-bound token, and replays with --dpop', async () => {
    const box = new Sandbox({AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, MCP_URL: stack.mcpUrl, AUTHPLANE_ADMIN_API_KEY: stack.adminKey})
    const pty = new Pty([process.execPath, BIN, 'setup'], {cwd: box.root, env: box.env})
    try {
      await pty.waitFor(/found the authorization server and the MCP server \(it takes DPoP-bound tokens: required\)/)
      for (const prompt of [/Resource slug/, /Resource URI/, /Resource scopes/, /Client name/, /Client scope ceiling/, /Run ap-demo verify when done/]) await pty.answer(prompt)
      await pty.answer(/Use a DPoP-bound token \(tier 03, RFC 9449\)\? The MCP server requires them\./)
      await pty.waitFor(/The same, without questions:[\s\S]*ap-demo verify --dpop[\s\S]*ap-demo mcp call echo --text hi --dpop/)
      assert.equal(await pty.exited, 0, pty.text)
      assert.match(pty.text, /\[15\/15\] OK   refused: proof for another method/)
      assert.match(pty.text, /ALL CHECKS PASSED/)
    } finally {
      pty.kill()
      box.cleanup()
    }
  })

  it('setup --yes --verify --dpop asks nothing and verifies with DPoP', async () => {
    const box = new Sandbox({AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, MCP_URL: stack.mcpUrl, AUTHPLANE_ADMIN_API_KEY: stack.adminKey})
    try {
      const result = await box.run(['setup', '--yes', '--verify', '--dpop'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /\[15\/15\] OK /)
      assert.match(result.stdout, /ap-demo verify --dpop/)
    } finally {
      box.cleanup()
    }
  })
})
