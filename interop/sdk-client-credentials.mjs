#!/usr/bin/env node
// A third-party client against our stack: the client_credentials example that ships inside
// @modelcontextprotocol/sdk (examples/client/simpleClientCredentials.js), run UNCHANGED against
// the real `ap-demo stack up` process. The example only gets what a user would give it (client id
// and secret, the MCP URL, the expected issuer); everything else it must discover: 401 ->
// RFC 9728 protected resource metadata -> RFC 8414 authorization server metadata -> token ->
// MCP initialize -> tools/list, which must list `echo`.
//
// What the example sent is observed, not changed: interop/fetch-tap.mjs is preloaded into its
// process and logs each fetch (never a secret or a token), so that this script can also report
// the chain's order and the `resource` and `scope` of its token request.
//   node interop/sdk-client-credentials.mjs        (after npm run build)
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {REPO} from './lib.mjs'

const WAIT_MS = 30_000
const EXAMPLE_TIMEOUT_MS = 60_000
const HTTP_TIMEOUT_MS = 10_000
const SCOPE = 'mcp:echo'

// The SDK the repository depends on (its package exports do not expose package.json or examples).
const SDK_DIR = join(REPO, 'node_modules', '@modelcontextprotocol', 'sdk')
const SDK_VERSION = existsSync(join(SDK_DIR, 'package.json')) ? JSON.parse(readFileSync(join(SDK_DIR, 'package.json'), 'utf8')).version : '(not installed)'
const EXAMPLE = join(SDK_DIR, 'dist', 'esm', 'examples', 'client', 'simpleClientCredentials.js')

/** Everything this run started, stopped in reverse order whatever happens. */
const cleanups = []
async function cleanup() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()()
    } catch (error) {
      console.error(`cleanup: ${error.message}`)
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup().finally(() => process.exit(130))
  })
}

class CheckFailed extends Error {}
function check(condition, message) {
  if (!condition) throw new CheckFailed(message)
}

/** A user's fresh machine: empty HOME and XDG dirs, no inherited Authplane or MCP variables. */
function sandboxEnv(root, extra) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AUTHPLANE_|ADMIN_URL|MCP_|ECHO_TEXT|AP_DEMO_|XDG_|NODE_OPTIONS|NODE_TEST)/.test(k)) continue
    env[k] = v
  }
  for (const dir of ['home', 'config', 'data', 'cache']) mkdirSync(join(root, dir), {recursive: true, mode: 0o700})
  return {...env, HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'config'), XDG_DATA_HOME: join(root, 'data'), XDG_CACHE_HOME: join(root, 'cache'), NO_COLOR: '1', ...extra}
}

/** Kills a child and waits for it to be gone (SIGTERM, then SIGKILL after 5 s). */
function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(hard)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** `ap-demo stack up --json`: resolves with its JSON document once printed. */
function startStackUp(env, cwd) {
  const args = ['stack', 'up', '--port', '0', '--admin-port', '0', '--mcp-port', '0', '--memory', '--no-save', '--json']
  const child = spawn(process.execPath, [join(REPO, 'bin', 'run.js'), ...args], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
  cleanups.push(() => stopChild(child))
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack up printed no JSON within ${WAIT_MS / 1000} s; stderr: ${stderr}`)), WAIT_MS)
    child.stdout.on('data', (d) => {
      stdout += d
      try {
        const doc = JSON.parse(stdout)
        clearTimeout(timer)
        resolve({args, doc})
      } catch {
        // not complete yet
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`stack up exited with ${code} before it printed JSON; stderr: ${stderr}`))
    })
  })
}

async function admin(adminUrl, adminKey, path, body) {
  const res = await fetch(`${adminUrl}/admin${path}`, {
    method: 'POST',
    headers: {authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  })
  const text = await res.text()
  if (res.status !== 201) throw new Error(`POST /admin${path} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}

/** Runs the example with the tap preloaded; resolves with its exit code and output. */
function runExample(env) {
  const tap = pathToFileURL(join(REPO, 'interop', 'fetch-tap.mjs')).href
  const child = spawn(process.execPath, ['--import', tap, EXAMPLE], {cwd: dirname(EXAMPLE), env, stdio: ['ignore', 'pipe', 'pipe']})
  cleanups.push(() => stopChild(child))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), EXAMPLE_TIMEOUT_MS)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr, timedOut: signal === 'SIGKILL'})
    })
  })
}

function readTap(file) {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
}

function describeExchange(e) {
  const what = e.jsonrpc ? ` [${e.jsonrpc.join(', ')}]` : e.form ? ` [grant_type=${e.form.grant_type}]` : ''
  return `${e.method} ${e.url}${what} -> ${e.status ?? e.error}${e.authorization ? `  (Authorization: ${e.authorization} ...)` : ''}`
}

async function main() {
  if (!existsSync(join(REPO, 'dist', 'src', 'commands', 'stack', 'up.js'))) {
    console.error('interop: dist/ is missing; run: npm run build')
    return 2
  }
  if (!existsSync(EXAMPLE)) {
    console.error(`interop: ${EXAMPLE} is missing from @modelcontextprotocol/sdk ${SDK_VERSION}; run: npm ci`)
    return 2
  }
  const root = mkdtempSync(join(tmpdir(), 'ap-demo-sdk-cc-'))
  let keep = false
  cleanups.push(() => (keep ? console.error(`interop: kept ${root} for inspection`) : rmSync(root, {recursive: true, force: true})))
  try {
    // With --memory the admin key is only known when we choose it (it is never printed).
    const adminKey = randomBytes(32).toString('base64url')
    const env = sandboxEnv(root, {AUTHPLANE_ADMIN_API_KEY: adminKey})
    const {args, doc} = await startStackUp(env, root)
    check(doc.status === 'ok', `stack up --json said ${JSON.stringify(doc)}`)
    const {issuer, adminUrl, mcpUrl, resource} = doc.result
    console.log(`ap-demo ${args.join(' ')}: issuer ${issuer}, MCP ${mcpUrl}`)

    const created = await admin(adminUrl, adminKey, '/resources', {
      slug: 'sdk-example',
      uri: resource,
      backend_kind: 'mint',
      display_name: 'MCP SDK example target',
      scopes: [{name: SCOPE, description: 'echo tool'}],
    })
    const client = await admin(adminUrl, adminKey, '/clients', {
      client_name: 'mcp-sdk-simpleClientCredentials',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPE,
    })
    console.log(`registered resource ${created.uri} (scope ${SCOPE}) and client ${client.client_id} (client_secret_basic) via the admin API`)

    const tapLog = join(root, 'tap.jsonl')
    const run = await runExample(
      sandboxEnv(root, {
        MCP_CLIENT_ID: client.client_id,
        MCP_CLIENT_SECRET: client.client_secret,
        MCP_SERVER_URL: mcpUrl,
        MCP_EXPECTED_ISSUER: issuer,
        AP_DEMO_TAP_LOG: tapLog,
      }),
    )
    const exchanges = readTap(tapLog)
    const printOutput = () => {
      console.error(`--- example stdout ---\n${run.stdout}--- example stderr ---\n${run.stderr}--- HTTP exchanges ---`)
      for (const e of exchanges) console.error(`  ${describeExchange(e)}`)
    }
    try {
      check(!run.timedOut, `the example did not finish within ${EXAMPLE_TIMEOUT_MS / 1000} s`)
      check(run.code === 0, `the example exited with ${run.code}`)
      const tools = /^Available tools: (.*)$/m.exec(run.stdout)?.[1]?.split(', ') ?? []
      check(tools.includes('echo'), `the example's output does not list echo (tools: ${JSON.stringify(tools)})`)

      // The chain, in order, as the example's own fetch calls saw it.
      const mcpPath = new URL(mcpUrl).pathname
      const index = (predicate, what, after = -1) => {
        const i = exchanges.findIndex((e, n) => n > after && predicate(e))
        check(i >= 0, `no ${what} after step ${after} in the example's traffic`)
        return i
      }
      const first401 = index((e) => e.url === mcpUrl && e.status === 401 && !e.authorization, 'unauthenticated MCP request answered 401')
      const challenge = exchanges[first401].wwwAuthenticate ?? ''
      const prmUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1]
      check(prmUrl !== undefined, `the 401 carries no resource_metadata: ${challenge}`)
      const prm = index((e) => e.method === 'GET' && e.url === prmUrl && e.status === 200, `GET ${prmUrl} answered 200`, first401)
      const asMeta = index((e) => e.method === 'GET' && new URL(e.url).pathname.startsWith('/.well-known/oauth-authorization-server') && e.status === 200, 'RFC 8414 metadata answered 200', prm)
      const token = index((e) => e.form?.grant_type === 'client_credentials', 'client_credentials token request', asMeta)
      const tokenExchange = exchanges[token]
      check(tokenExchange.status === 200, `the token request answered ${tokenExchange.status}`)
      const listed = index((e) => e.url === mcpUrl && e.jsonrpc?.includes('tools/list') && e.authorization === 'Bearer' && e.status === 200, 'tools/list with a Bearer token answered 200', token)

      const prmDoc = exchanges[prm].document
      const asDoc = exchanges[asMeta].document
      check(prmDoc.resource === resource, `PRM resource ${prmDoc.resource} is not ${resource}`)
      check(asDoc.issuer === issuer, `the RFC 8414 document's issuer ${asDoc.issuer} is not ${issuer}`)
      check(tokenExchange.url === asDoc.token_endpoint, `the token request went to ${tokenExchange.url}, not the metadata's token_endpoint ${asDoc.token_endpoint}`)
      check(tokenExchange.authorization === 'Basic' && tokenExchange.form.client_secret === undefined, 'the client did not authenticate with client_secret_basic')
      const sent = tokenExchange.form
      check(sent.resource === resource, `the token request's resource ${JSON.stringify(sent.resource)} is not the PRM resource ${resource}`)
      const claims = tokenExchange.tokenResponse?.claims ?? {}
      check(Array.isArray(claims.aud) && claims.aud.length === 1 && claims.aud[0] === resource, `the issued token's aud ${JSON.stringify(claims.aud)} is not [${resource}]`)
      check(claims.scope === SCOPE, `the issued token's scope ${JSON.stringify(claims.scope)} is not ${SCOPE}`)

      console.log(`@modelcontextprotocol/sdk ${SDK_VERSION} examples/client/simpleClientCredentials.js, unchanged, exit 0:`)
      for (const line of run.stdout.trim().split('\n')) console.log(`  | ${line}`)
      console.log('HTTP exchanges of the example, in order (observed by interop/fetch-tap.mjs):')
      for (const [n, e] of exchanges.entries()) {
        const mark = [first401, prm, asMeta, token, listed].includes(n) ? '*' : ' '
        console.log(` ${mark} ${describeExchange(e)}`)
      }
      console.log('Proved:')
      console.log(`  401 with WWW-Authenticate resource_metadata -> GET ${prmUrl} (RFC 9728)`)
      console.log(`  -> GET ${exchanges[asMeta].url} (RFC 8414; issuer matches MCP_EXPECTED_ISSUER)`)
      console.log(`  -> POST ${tokenExchange.url}: grant_type=client_credentials, resource=${sent.resource}, scope=${sent.scope === undefined ? '(not sent)' : sent.scope}, client auth HTTP Basic`)
      console.log(`     token issued: aud=${JSON.stringify(claims.aud)} scope="${claims.scope}"${sent.scope === undefined ? ' (no scope requested: contract §3 grants the client ceiling intersected with the resource scopes)' : ''}`)
      console.log(`  -> MCP initialize + tools/list with the Bearer token: tools = ${tools.join(', ')}`)
      const offered = `the 401 challenge offered scope "${/scope="([^"]*)"/.exec(challenge)?.[1]}", the PRM scopes_supported ${JSON.stringify(prmDoc.scopes_supported)}`
      console.log(`  (${offered}${sent.scope === undefined ? '; for client_credentials this SDK sends only the provider\'s own scope option, which the example leaves unset' : ''})`)
      console.log('PASS  MCP SDK client_credentials example against ap-demo stack up')
      return 0
    } catch (error) {
      if (!(error instanceof CheckFailed)) throw error
      keep = process.env.AP_DEMO_INTEROP_KEEP === '1'
      printOutput()
      console.error(`FAIL  ${error.message}`)
      return 1
    }
  } finally {
    await cleanup()
  }
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    console.error(`FAIL  ${error?.stack ?? error}`)
    await cleanup()
    process.exit(1)
  },
)
