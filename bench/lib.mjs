// Helpers shared by the benchmark's child processes (plain Node ESM, no dependencies).
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Where the compiled project lives: bench/run.mjs points its children at its snapshot of the build. */
export const APP_ROOT = process.env.BENCH_APP_ROOT || ROOT

/**
 * Imports a compiled module of the project (`npm run build` puts them under dist/src). A build in
 * progress deletes dist/ for a few seconds, so a missing file is waited for up to a minute.
 */
export async function importDist(relative) {
  const file = join(APP_ROOT, 'dist', 'src', relative)
  const deadline = Date.now() + 60_000
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} is missing: run \`npm run build\` first`)
    await new Promise((r) => setTimeout(r, 1000))
  }
  return import(pathToFileURL(file).href)
}

export const SCOPE = 'mcp:echo'

async function adminPost(stack, path, body) {
  const res = await fetch(`${stack.adminUrl}${path}`, {
    method: 'POST',
    headers: {Authorization: `Bearer ${stack.adminKey}`, 'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status !== 201) throw new Error(`POST ${path} -> ${res.status} ${text}`)
  return JSON.parse(text)
}

/** Registers the walkthrough's Mint resource and a client_credentials client (contract §2). */
export async function registerDemo(stack) {
  await adminPost(stack, '/admin/resources', {
    slug: 'demo-mcp',
    uri: stack.resource,
    backend_kind: 'mint',
    display_name: 'Demo MCP',
    scopes: [{name: SCOPE, description: 'echo tool'}],
  })
  const client = await adminPost(stack, '/admin/clients', {
    client_name: 'bench-agent',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: SCOPE,
  })
  return {clientId: client.client_id, clientSecret: client.client_secret}
}

/** HTTP Basic value as RFC 6749 §2.3.1 wants it (each part form-urlencoded first). */
export function basicAuth(id, secret) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`
}

export function tokenRequestBody(resource) {
  return new URLSearchParams({grant_type: 'client_credentials', scope: SCOPE, resource}).toString()
}

/** One client_credentials token bound to the stack's resource. */
export async function mintToken(stack, credentials) {
  const res = await fetch(`${stack.issuer}/oauth/token`, {
    method: 'POST',
    headers: {Authorization: basicAuth(credentials.clientId, credentials.clientSecret), 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json'},
    body: tokenRequestBody(stack.resource),
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`POST /oauth/token -> ${res.status} ${text}`)
  return JSON.parse(text).access_token
}

/**
 * Ends this process when the parent goes away: the parent holds our stdin open, so EOF on it means
 * the parent exited (even by SIGKILL, when no signal handler of the parent could run).
 */
export function dieWithParent(cleanup) {
  let done = false
  const quit = async (code) => {
    if (done) return
    done = true
    const force = setTimeout(() => process.exit(code), 3000)
    force.unref()
    try {
      await cleanup()
    } finally {
      process.exit(code)
    }
  }
  process.stdin.on('end', () => quit(0))
  process.stdin.on('close', () => quit(0))
  process.stdin.on('error', () => quit(0))
  process.stdin.resume()
  process.on('SIGTERM', () => quit(0))
  process.on('SIGINT', () => quit(0))
  return quit
}
