#!/usr/bin/env node
// The conformance suite's client under test: turns what the suite gives a client (the scenario name
// in MCP_CONFORMANCE_SCENARIO, credentials in MCP_CONFORMANCE_CONTEXT, the server URL appended as
// the last argument) into one ap-demo command line, runs it and exits with its status. ap-demo runs
// as a user would run it, with a throwaway HOME so that no one's profile is read or written.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')
const scenario = process.env.MCP_CONFORMANCE_SCENARIO
const serverUrl = process.argv.at(-1)
const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {}

/** Each scenario as the ap-demo command a user would type; `env` adds variables. */
function commandFor(name) {
  switch (name) {
    // No token involved: --discover calls without one and only looks for an authorization server on 401.
    case 'initialize':
      return {argv: ['mcp', 'tools', '--discover', '--mcp-url', serverUrl, '--json']}
    case 'tools_call':
      return {argv: ['mcp', 'call', 'add_numbers', '--a', '2', '--b', '3', '--discover', '--mcp-url', serverUrl, '--json']}
    // Only the MCP URL and a client: the authorization server comes from the server's 401. The
    // secret travels in the environment, as the README recommends, not on the command line.
    case 'auth/client-credentials-basic':
      return {
        argv: ['mcp', 'call', 'test-tool', '--mcp-url', serverUrl, '--client-id', context.client_id, '--json'],
        env: {AUTHPLANE_CLIENT_SECRET: context.client_secret},
      }
    default:
      return undefined
  }
}

const command = commandFor(scenario)
if (!command || !serverUrl?.startsWith('http')) {
  console.error(`conformance-client: no ap-demo command for scenario "${scenario}" (server ${serverUrl})`)
  process.exit(2)
}

const home = mkdtempSync(join(tmpdir(), 'ap-demo-conformance-'))
const env = {...process.env, ...command.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), XDG_CACHE_HOME: join(home, '.cache'), NO_COLOR: '1'}
for (const name of ['AUTHPLANE_ISSUER', 'AUTHPLANE_RESOURCE', 'MCP_URL', 'AP_DEMO_PROFILE', 'AUTHPLANE_CLIENT_ID']) delete env[name]
if (!command.env?.AUTHPLANE_CLIENT_SECRET) delete env.AUTHPLANE_CLIENT_SECRET
console.error(`conformance-client: ap-demo ${command.argv.join(' ')}`)
const run = spawnSync(process.execPath, [bin, ...command.argv], {cwd: home, env, stdio: 'inherit'})
rmSync(home, {recursive: true, force: true})
process.exit(run.status ?? 1)
