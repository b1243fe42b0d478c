import {randomBytes} from 'node:crypto'
import {chmodSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ensurePrivateDir} from './authserver/files.js'
import {startAuthServer} from './authserver/index.js'
import {StackFileError, stackFileError} from './errors.js'
import {startMcpServer} from './mcp-server/index.js'
import type {StackHandle, StackOptions} from './types.js'

export {StackFileError} from './errors.js'
export type {StackFileProblem} from './errors.js'
export {MAX_TOKEN_TTL_SECONDS, MCP_PROTOCOL_MODES} from './types.js'
export type {StackNotice, SigningKeyReplacedNotice, AuthServerHandle, AuthServerOptions, McpServerHandle, McpProtocolMode, McpServerOptions, StackHandle, StackOptions} from './types.js'
export {startAuthServer} from './authserver/index.js'
export {startMcpServer} from './mcp-server/index.js'

export const ADMIN_KEY_FILE = 'admin-key'

/**
 * The admin key when none is given: read from `<dataDir>/admin-key`, or generated once (32 random
 * bytes, base64url: comfortably above the real server's 16-character minimum) and kept there with
 * mode 0600, so that `ap-demo stack up` keeps the same key across restarts.
 */
export function loadOrCreateAdminKey(dataDir: string): string {
  ensurePrivateDir(dataDir)
  const file = join(dataDir, ADMIN_KEY_FILE)
  const existing = readAdminKey(file)
  if (existing !== undefined) return existing
  const key = randomBytes(32).toString('base64url')
  // 'wx' fails if another process created the file in the meantime; then its key wins.
  try {
    writeFileSync(file, `${key}\n`, {mode: 0o600, flag: 'wx'})
    chmodSync(file, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readAdminKey(file) ?? key
    rmSync(file, {force: true})
    throw stackFileError(error, file)
  }
  return key
}

// The key travels in an Authorization header: anything but visible ASCII in it would be refused
// by every HTTP client, or worse, split the header.
const ADMIN_KEY_SHAPE = /^[\x21-\x7e]+$/

function readAdminKey(file: string): string | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw stackFileError(error, file)
  }
  const key = text.trim()
  if (!ADMIN_KEY_SHAPE.test(key)) {
    throw new StackFileError(file, 'corrupt', key === '' ? 'the admin key file is empty' : 'the admin key holds characters other than visible ASCII', `Put one key of 16 or more visible ASCII characters in it, or remove it to have one generated (rm ${file}).`)
  }
  return key
}

/**
 * Starts the embedded Authplane-compatible authorization server and the tier-01 MCP server in this
 * process. Port 0 picks free ports; the handle reports the actual URLs.
 */
export async function startStack(options: StackOptions = {}): Promise<StackHandle> {
  const host = options.host ?? '127.0.0.1'
  const adminKey =
    options.adminKey ?? (options.dataDir ? loadOrCreateAdminKey(options.dataDir) : randomBytes(32).toString('base64url'))
  const authServer = await startAuthServer({
    host,
    port: options.port ?? 9000,
    adminPort: options.adminPort ?? 9001,
    issuer: options.issuer,
    adminKey,
    dataDir: options.dataDir,
    tokenTtlSeconds: options.tokenTtlSeconds,
    corsOrigins: options.corsOrigins,
    rateLimit: options.rateLimit,
    adminRateLimit: options.adminRateLimit,
    dpop: options.dpop,
    dcrMode: options.dcrMode,
    dcrApprovedRedirects: options.dcrApprovedRedirects,
  })
  let mcpServer
  try {
    mcpServer = await startMcpServer({
      host,
      port: options.mcpPort ?? 8080,
      issuer: authServer.issuer,
      // The announced issuer may name a host this process cannot resolve (e.g. http://authserver:9000
      // in a Docker topology); the MCP server then fetches metadata from where the server listens.
      issuerFetchUrl: authServer.publicUrl,
      resource: options.resource,
      sessionIdleMs: options.sessionIdleMs,
      maxSessions: options.maxSessions,
      allowedHosts: options.mcpAllowedHosts,
      corsOrigins: options.corsOrigins,
      dpop: options.mcpDpop,
      dpopNonce: options.mcpDpopNonce,
      toolScopes: options.toolScopes,
      protocol: options.mcpProtocol,
    })
  } catch (error) {
    await authServer.stop()
    throw error
  }
  let stopping: Promise<void> | undefined
  return {
    issuer: authServer.issuer,
    publicUrl: authServer.publicUrl,
    adminUrl: authServer.adminUrl,
    mcpUrl: mcpServer.url,
    resource: mcpServer.resource,
    adminKey,
    authServer,
    mcpServer,
    notices: authServer.notices,
    stop() {
      stopping ??= (async () => {
        await mcpServer.stop()
        await authServer.stop()
      })()
      return stopping
    },
  }
}
