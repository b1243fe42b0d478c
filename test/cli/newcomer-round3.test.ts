// Issue 19, a newcomer's run from a fresh clone: each fault checked the way the newcomer met it.
import assert from 'node:assert/strict'
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {firstSentences} from '../../src/cli/help.js'
import {startStack} from '../../src/stack/index.js'
import {assertCleanFailure, BIN, closedPort, ROOT, Sandbox} from './helpers.js'
import {Pty} from './pty.js'

const manifest = () => JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {description?: string; summary?: string}>}

describe('newcomer run, round 3', () => {
  // The most likely newcomer mistake: `verify` with no server running (stack up forgotten). It
  // spun on "waiting: discovery ready" for 60 s without naming the URL or the reason.
  it('verify against servers it did not start fails at once when nothing listens, naming the URL and ECONNREFUSED', async () => {
    const port = await closedPort()
    const box = new Sandbox({AUTHPLANE_ISSUER: `http://127.0.0.1:${port}`, ADMIN_URL: `http://127.0.0.1:${port}`, MCP_URL: `http://127.0.0.1:${port}/mcp`, AUTHPLANE_ADMIN_API_KEY: 'k'.repeat(20)})
    try {
      const r = await box.run(['verify', '--har', 'run.har'])
      assertCleanFailure(r, 4, new RegExp(`^Error: step "discovery ready" failed: nothing listens at http://127\\.0\\.0\\.1:${port}: the authorization server refused the connection \\(ECONNREFUSED, at http://127\\.0\\.0\\.1:${port}/\\.well-known/oauth-authorization-server\\)$`, 'm'))
      // Servers ap-demo did not start: the hint ends with the doctor line (issue 22), which walks from
      // the MCP URL and so finds the issuer the metadata names when --issuer is the mistake.
      assert.match(r.stderr, new RegExp(`^Hint: Start it \\(ap-demo stack up, or docker compose up\\) or fix --issuer\\. If it is still starting, wait for it: --timeout SECONDS\\. Then: ap-demo doctor --mcp-url http://127\\.0\\.0\\.1:${port}/mcp walks`, 'm'))
      // One attempt, not a minute of them.
      const har = JSON.parse(readFileSync(join(box.root, 'run.har'), 'utf8')) as {log: {entries: Array<{response: {_error?: string}}>}}
      assert.equal(har.log.entries.length, 1)
      assert.match(har.log.entries[0]!.response._error!, /ECONNREFUSED/)
      const json = await box.run(['verify', '--json'])
      assert.equal((JSON.parse(json.stdout) as {error: {code: string}}).error.code, 'not_listening')
    } finally {
      box.cleanup()
    }
  })

  it('with --timeout it waits for a slow start, saying from its first line what it polls and why', async () => {
    const [port, adminPort, mcpPort] = [await closedPort(), await closedPort(), await closedPort()]
    const adminKey = 'slow-start-admin-key-0123456789'
    const issuer = `http://127.0.0.1:${port}`
    const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`
    const box = new Sandbox({AUTHPLANE_ISSUER: issuer, ADMIN_URL: `http://127.0.0.1:${adminPort}`, MCP_URL: mcpUrl, AUTHPLANE_ADMIN_API_KEY: adminKey})
    const child = spawn(process.execPath, [BIN, 'verify', '--timeout', '120'], {cwd: box.root, env: box.env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    let stack: Awaited<ReturnType<typeof startStack>> | undefined
    try {
      const waitingLine = `[ 1/10] waiting: discovery ready: ${issuer}/.well-known/oauth-authorization-server: connection refused (ECONNREFUSED); retrying for up to 120 s ...\n`
      await new Promise<void>((resolve, reject) => {
        child.on('close', () => reject(new Error(`verify ended before it waited:\n${stdout}${stderr}`)))
        child.stderr.on('data', (d) => {
          stderr += d
          if (stderr.includes(waitingLine)) resolve()
        })
      })
      // Its first line names the URL and the reason; the server then starts, slowly.
      assert.equal(stderr, waitingLine)
      stack = await startStack({host: '127.0.0.1', port, adminPort, mcpPort, issuer, resource: mcpUrl, adminKey, rateLimit: {enabled: false}})
      assert.equal(await exited, 0, `${stdout}${stderr}`)
      assert.match(stdout, /ALL CHECKS PASSED/)
      assert.equal(stderr.split('waiting: discovery ready').length - 1, 1, 'one line while the reason stays the same (no terminal)')
    } finally {
      child.kill()
      await stack?.stop()
      box.cleanup()
    }
  })

  // `config show -h` and `config path -h` lost the start of their description: the sentence
  // splitter broke on "./.env" and "~/.config".
  it('every command\'s help that shows a description shows it from its first word', async () => {
    assert.equal(firstSentences('The store lives in ~/.config/ap-demo. Then more.', 180), 'The store lives in ~/.config/ap-demo. Then more.')
    assert.equal(firstSentences('Reads ./.env first. Then the profile.', 20), 'Reads ./.env first.')
    assert.equal(firstSentences('Any issuer, e.g. http://localhost:9000. More.', 42), 'Any issuer, e.g. http://localhost:9000.')
    assert.equal(firstSentences('Version 1.5 of it.', 180), 'Version 1.5 of it.')
    const box = new Sandbox()
    try {
      const shown: string[] = []
      for (const [id, command] of Object.entries(manifest().commands)) {
        const help = (await box.run([...id.split(':'), '-h'])).stdout
        const section = /\nDESCRIPTION\n((?: {2}.*\n?)+)/.exec(help)?.[1]
        if (!section) continue
        shown.push(id)
        const text = section.replace(/\s+/g, ' ').trim().replace(/ …$/, '')
        const paragraph = (command.description ?? '').split(/\n\s*\n/)[0]!.replaceAll('<%= config.bin %>', 'ap-demo').replaceAll('<%= command.id %>', id.replaceAll(':', ' ')).replace(/\s+/g, ' ').trim()
        assert.ok(paragraph.startsWith(text), `${id} -h shows its description from the start:\n  shown: ${text}\n  wrote: ${paragraph}`)
      }
      assert.ok(shown.includes('config:show') && shown.includes('config:path'), shown.join(' '))
      const topic = (await box.run(['config', '--help'])).stdout
      for (const id of ['config:show', 'config:path']) {
        const summary = manifest().commands[id]!.summary!
        assert.ok(topic.includes(summary.slice(0, 30)), `${id} in the topic list:\n${topic}`)
      }
    } finally {
      box.cleanup()
    }
  })

  // The wizard took a resource URI with a #fragment, then failed after the last question with an
  // error about a --uri flag nobody typed, losing every answer.
  it('the wizard refuses a resource URI with a fragment at the prompt, in the words of --uri; --uri itself before any question', async () => {
    const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, rateLimit: {enabled: false}})
    const box = new Sandbox({AUTHPLANE_ISSUER: stack.issuer, ADMIN_URL: stack.adminUrl, MCP_URL: stack.mcpUrl, AUTHPLANE_ADMIN_API_KEY: stack.adminKey})
    const pty = new Pty([process.execPath, BIN, 'setup'], {cwd: box.root, env: box.env})
    try {
      await pty.answer(/Resource slug/)
      await pty.answer(/Resource URI/, `${stack.mcpUrl}#frag`)
      // inquirer wraps the message at 80 columns.
      await pty.waitFor(/Not usable: it has a fragment \("#\.\.\."\), which RFC 8707 §2 forbids in a\s+resource \(example: http:\/\/localhost:8080\/mcp\)/)
      // Still at the same question, every answer kept: remove the fragment and go on.
      pty.type('\x7f'.repeat('#frag'.length))
      await pty.answer(/Resource URI/)
      await pty.waitFor(/Resource scopes/)
      pty.type('\x03')
      assert.equal(await pty.exited, 130, pty.text)

      const flag = await box.run(['setup', '--yes', '--uri', `${stack.mcpUrl}#frag`])
      assertCleanFailure(flag, 2, /^Error: --uri "[^"]+#frag" is not usable: it has a fragment \("#\.\.\."\), which RFC 8707 §2 forbids in a resource$/m)
      assert.doesNotMatch(flag.stderr, /Looking for Authplane/, 'refused before the wizard probes anything')
    } finally {
      pty.kill()
      box.cleanup()
      await stack.stop()
    }
  })

  // The first run after `npm ci` waited 13 s and printed nothing: ~300 files read from a cold disk,
  // most inside synchronous require() calls. A slow disk is made here by delaying every open(2)
  // by 30 ms (strace's fault injection), in a real terminal: the notice comes before anything else.
  const strace = (() => {
    try {
      execFileSync('strace', ['-qq', '-o', '/dev/null', '-e', 'trace=openat', 'true'], {stdio: 'ignore'})
      return true
    } catch {
      return false
    }
  })()
  const slowDisk = (args: string[]) => ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=openat', '-e', 'inject=openat:delay_exit=30000', process.execPath, BIN, ...args]
  it('a start on a slow disk says what it is doing before anything else, on a terminal', {skip: strace ? false : 'strace is not installed or may not trace here'}, async () => {
    const box = new Sandbox()
    const notice = 'ap-demo is starting: its files are being read from disk (the first run after installing, or after the machine was idle, can take several seconds; later runs take about one) ...'
    try {
      const pty = new Pty(slowDisk(['verify', '--embedded']), {cwd: box.root, env: box.env})
      assert.equal(await pty.exited, 0, pty.text)
      const lines = pty.text.split('\n').filter((l) => l.trim() !== '')
      assert.equal(lines[0], notice, pty.text)
      assert.match(pty.text, /ALL CHECKS PASSED/)
      // Once, and never under --json, nor without a terminal (a pipe, a CI log: no one to reassure).
      assert.equal(pty.text.split(notice).length, 2)
      const json = new Pty(slowDisk(['config', 'path', '--json']), {cwd: box.root, env: box.env})
      assert.equal(await json.exited, 0, json.text)
      assert.ok(!json.text.includes('ap-demo is starting'), json.text)
      const piped = spawnSync(slowDisk(['config', 'path'])[0]!, slowDisk(['config', 'path']).slice(1), {cwd: box.root, env: box.env, encoding: 'utf8'})
      assert.equal(piped.stderr, '')
      assert.equal(piped.stdout.trim(), box.storePath)
    } finally {
      box.cleanup()
    }
  })
})
