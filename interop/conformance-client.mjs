#!/usr/bin/env node
// The conformance suite's client under test: turns what the suite gives a client (the scenario name
// in MCP_CONFORMANCE_SCENARIO, credentials in MCP_CONFORMANCE_CONTEXT, the server URL appended as
// the last argument) into ap-demo command lines, runs them one after the other as a user would
// (stopping at the first that fails) and exits with the status of the last one run. ap-demo runs
// with a throwaway HOME, so that no one's profile is read or written, and with BROWSER set to
// interop/suite-browser.mjs, which follows the authorization redirects as a user's browser would.
// docs/compatibility.md lists each scenario, the commands and why they are what a user would type.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {commandsFor} from './scenario-commands.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const bin = join(here, '..', 'bin', 'run.js')
const scenario = process.env.MCP_CONFORMANCE_SCENARIO
const serverUrl = process.argv.at(-1)
const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {}

const home = mkdtempSync(join(tmpdir(), 'ap-demo-conformance-'))
// A key the scenario hands over in its context is written where a user keeps one: a 0600 file.
const keyFile = join(home, 'client-key.pem')
if (context.private_key_pem) writeFileSync(keyFile, context.private_key_pem, {mode: 0o600})
const plan = serverUrl?.startsWith('http') ? commandsFor(scenario, {serverUrl, context, keyFile}) : undefined
if (!plan || plan.skip) {
  console.error(`conformance-client: no ap-demo command for scenario "${scenario}" (server ${serverUrl})${plan?.skip ? `: ${plan.skip}` : ''}`)
  rmSync(home, {recursive: true, force: true})
  process.exit(2)
}

const env = {
  ...process.env,
  ...plan.env,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  XDG_DATA_HOME: join(home, '.local', 'share'),
  XDG_CACHE_HOME: join(home, '.cache'),
  NO_COLOR: '1',
  BROWSER: `${process.execPath} ${join(here, 'suite-browser.mjs')}`,
}
for (const name of ['AUTHPLANE_ISSUER', 'AUTHPLANE_RESOURCE', 'MCP_URL', 'AP_DEMO_PROFILE', 'AUTHPLANE_CLIENT_ID', 'AP_DEMO_CLIENT_METADATA_URL', 'CI', 'SSH_CONNECTION', 'SSH_TTY']) delete env[name]
if (!plan.env?.AUTHPLANE_CLIENT_SECRET) delete env.AUTHPLANE_CLIENT_SECRET
let status = 0
for (const argv of plan.commands) {
  console.error(`conformance-client: ap-demo ${argv.join(' ')}`)
  const run = spawnSync(process.execPath, [bin, ...argv], {cwd: home, env, stdio: 'inherit'})
  status = run.status ?? 1
  if (status !== 0) break
}
rmSync(home, {recursive: true, force: true})
process.exit(status)
