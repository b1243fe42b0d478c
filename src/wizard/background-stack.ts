import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync, readFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'

import {ApDemoError, UnreachableError, ConflictError} from '../errors.js'

export interface BackgroundStack {
  pid: number
  logFile: string
  issuer: string
  adminUrl: string
  mcpUrl: string
  resource: string
  adminKey: string
  /** The `stack up` flags used, for the replay commands. */
  args: string[]
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

/**
 * Starts `ap-demo stack up` as a detached process that outlives the wizard, on the tier-01 ports
 * when they are free (else on free ports), and waits for its JSON announcement.
 */
export async function startBackgroundStack(binPath: string, dataDir: string, timeoutMs = 20_000): Promise<BackgroundStack> {
  mkdirSync(dataDir, {recursive: true, mode: 0o700})
  const host = '127.0.0.1'
  const defaults = (await Promise.all([9000, 9001, 8080].map((p) => portFree(p, host)))).every(Boolean)
  // DPoP allowed: plain Bearer tokens work as in tier 01, and the wizard can offer tier 03.
  const args = ['stack', 'up', '--json', '--no-save', '--data-dir', join(dataDir, 'stack'), '--mcp-dpop', 'allowed']
  if (!defaults) args.push('--port', '0', '--admin-port', '0', '--mcp-port', '0')
  const logFile = join(dataDir, 'stack-background.log')
  const out = openSync(logFile, 'w', 0o600)
  const child = spawn(process.execPath, [binPath, ...args], {detached: true, stdio: ['ignore', out, out], env: {...process.env, NO_COLOR: '1'}})
  closeSync(out)
  child.unref()
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const text = readFileSync(logFile, 'utf8')
    const start = text.indexOf('{')
    if (start !== -1) {
      try {
        const doc = JSON.parse(text.slice(start, text.lastIndexOf('}') + 1)) as {status: string; result: Record<string, string>; error?: {message: string}}
        if (doc.status !== 'ok') throw new ConflictError('stack_failed', `the embedded stack did not start: ${doc.error?.message}`, {hint: `See ${logFile}.`})
        const r = doc.result
        const keyFile = r.adminKeySource!
        const adminKey = process.env.AUTHPLANE_ADMIN_API_KEY ?? readFileSync(keyFile, 'utf8').trim()
        return {pid: child.pid!, logFile, issuer: r.issuer!, adminUrl: r.adminUrl!, mcpUrl: r.mcpUrl!, resource: r.resource!, adminKey, args: args.filter((a) => a !== '--json')}
      } catch (error) {
        if (error instanceof ApDemoError) throw error
        // Not the whole document yet.
      }
    }
    if (child.exitCode !== null) break
  }
  try {
    process.kill(child.pid!)
  } catch {}
  throw new UnreachableError('stack_failed', 'the embedded stack did not start in time', {hint: `See ${logFile}.`})
}
