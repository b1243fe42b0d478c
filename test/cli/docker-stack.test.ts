import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import type {StackHandle} from '../../src/stack/index.js'
import {assertCleanFailure, closedPort, ROOT, Sandbox, useTestStack, type CliResult} from './helpers.js'

// `stack up|down --docker` without a Docker engine: the machines that run these tests have none.
// A fake `docker` (a /bin/sh script first on PATH) stands in for the client: it records its argv
// and either answers like a working client whose `compose up -d` starts nothing, or fails like a
// client whose engine is not running. The servers `stack up --docker` then waits for are the REAL
// embedded stack, started by the test on the URLs the command reads from the environment or .env.

const NO_ENGINE = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'

/** A directory holding only a fake `docker`; its calls are logged one per line, arguments tab-separated. */
function fakeDocker(box: Sandbox, kind: 'working' | 'no-engine'): {path: string; calls: () => string[][]} {
  const dir = join(box.root, `fake-docker-${kind}`)
  mkdirSync(dir, {recursive: true})
  const log = join(dir, 'calls.log')
  const engine =
    kind === 'working'
      ? `case "$1" in
  info) echo "27.0.0-fake"; exit 0;;
  compose) need_admin_key "$@"; exit 0;;
esac`
      : `echo "${NO_ENGINE}" >&2
exit 1`
  // Only shell builtins: PATH holds nothing but this directory.
  writeFileSync(
    join(dir, 'docker'),
    `#!/bin/sh
for a in "$@"; do printf '%s\\t' "$a" >> '${log}'; done
printf '\\n' >> '${log}'
if [ "$1 $2" = "compose version" ]; then echo "Docker Compose version v2.29.1"; exit 0; fi
# Like compose: every subcommand interpolates the whole file, and the file marks the admin key as
# required (\${AUTHPLANE_ADMIN_API_KEY:?...}): from the environment, else from the --env-file.
need_admin_key() {
  [ -n "$AUTHPLANE_ADMIN_API_KEY" ] && return 0
  file=""; prev=""
  for a in "$@"; do [ "$prev" = "--env-file" ] && file="$a"; prev="$a"; done
  if [ -n "$file" ]; then
    while IFS= read -r line; do case "$line" in AUTHPLANE_ADMIN_API_KEY=?*) return 0;; esac; done < "$file"
  fi
  echo 'error while interpolating services.authserver.environment.AUTHPLANE_ADMIN_API_KEY: required variable AUTHPLANE_ADMIN_API_KEY is missing a value' >&2
  exit 1
}
${engine}
`,
  )
  chmodSync(join(dir, 'docker'), 0o755)
  return {
    path: dir,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.replace(/\t$/, '').split('\t')) : []),
  }
}

function oneErrorLine(result: CliResult): void {
  assert.equal(result.stderr.split('\n').filter((l) => l.startsWith('Error:')).length, 1, result.stderr)
  assert.equal(result.stdout, '', 'nothing on stdout without --json')
}

function envelope(result: CliResult): {status: string; error: {code: string; message: string; hint: string; exitCode: number}} {
  return JSON.parse(result.stdout)
}

describe('stack up/down --docker without a Docker engine', () => {
  it('no docker on PATH: one line, exit 7, the standard JSON envelope; nothing else is tried', async () => {
    const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: 'dev-admin-key-change-me'})
    const empty = join(box.root, 'empty-bin')
    mkdirSync(empty)
    try {
      for (const args of [['stack', 'up', '--docker'], ['stack', 'down', '--docker']]) {
        const human = await box.run(args, {env: {PATH: empty}})
        assertCleanFailure(human, 7, /^Error: docker is not installed \(no `docker` on PATH/m)
        oneErrorLine(human)
        assert.match(human.stderr, /^Hint: .*ap-demo stack up/m)
        const json = await box.run([...args, '--json'], {env: {PATH: empty}})
        assert.equal(json.code, 7)
        const doc = envelope(json)
        assert.equal(doc.status, 'error')
        assert.equal(doc.error.code, 'docker_not_found')
        assert.equal(doc.error.exitCode, 7)
        assert.ok(doc.error.hint)
      }
    } finally {
      box.cleanup()
    }
  })

  it('a client whose engine does not answer: one line, exit 4, and no `compose up`/`down` was attempted', async () => {
    const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: 'dev-admin-key-change-me'})
    const docker = fakeDocker(box, 'no-engine')
    try {
      const up = await box.run(['stack', 'up', '--docker'], {env: {PATH: docker.path}})
      assertCleanFailure(up, 4, /^Error: no Docker engine answers: Cannot connect to the Docker daemon/m)
      oneErrorLine(up)
      const down = await box.run(['stack', 'down', '--docker', '--volumes', '--json'], {env: {PATH: docker.path}})
      assert.equal(down.code, 4)
      const doc = envelope(down)
      assert.equal(doc.error.code, 'docker_engine_unreachable')
      assert.equal(doc.error.exitCode, 4)
      assert.match(doc.error.message, /Is the docker daemon running/)
      const verbs = docker.calls().map((c) => c.slice(0, 2).join(' '))
      assert.ok(verbs.includes('info --format'), verbs.join('\n'))
      assert.ok(!verbs.some((v) => v === 'compose -f'), `compose up/down must not run without an engine: ${verbs.join('\n')}`)
    } finally {
      box.cleanup()
    }
  })

  it('stack down without --docker stops nothing and says how to stop the embedded stack (exit 2)', async () => {
    const box = new Sandbox()
    try {
      const result = await box.run(['stack', 'down'])
      assertCleanFailure(result, 2, /nothing to stop[\s\S]*^Hint: Press Ctrl-C in the terminal running `ap-demo stack up`/m)
      const doc = envelope(await box.run(['stack', 'down', '--json']))
      assert.equal(doc.error.code, 'nothing_to_stop')
      assert.equal(doc.error.exitCode, 2)
    } finally {
      box.cleanup()
    }
  })

  it('--docker refuses the embedded stack\'s flags, and --timeout/--volumes need --docker', async () => {
    const box = new Sandbox()
    try {
      assertCleanFailure(await box.run(['stack', 'up', '--docker', '--port', '9100']), 2, /^Error: --port=9100 cannot also be provided when using --docker$/m)
      assertCleanFailure(await box.run(['stack', 'up', '--timeout', '5']), 2, /--timeout: --docker/)
      assertCleanFailure(await box.run(['stack', 'down', '--volumes']), 2, /--volumes: --docker/)
    } finally {
      box.cleanup()
    }
  })
})

describe('stack up --docker against real servers (fake docker client, embedded stack)', () => {
  let stack!: StackHandle
  let env!: NodeJS.ProcessEnv
  useTestStack((s) => ({stack, env} = s))

  it('runs compose with the repository\'s file and ./.env, waits for both servers, saves the profile, and verify then passes', async () => {
    const box = new Sandbox()
    const docker = fakeDocker(box, 'working')
    // The user's .env in the current directory, as `cp .env.example .env` would leave it, but
    // pointing at the test stack's URLs.
    writeFileSync(
      join(box.root, '.env'),
      [
        `AUTHPLANE_ADMIN_API_KEY=${env.AUTHPLANE_ADMIN_API_KEY}`,
        `AUTHPLANE_ISSUER=${stack.issuer}`,
        `AUTHPLANE_RESOURCE=${stack.resource}`,
        `ADMIN_URL=${stack.adminUrl}`,
        `MCP_URL=${stack.mcpUrl}`,
        '',
      ].join('\n'),
    )
    try {
      const result = await box.run(['stack', 'up', '--docker', '--json', '--timeout', '20'], {env: {PATH: docker.path}})
      assert.equal(result.code, 0, result.stderr + result.stdout)
      const doc = JSON.parse(result.stdout)
      assert.equal(doc.status, 'ok')
      assert.deepEqual(
        {issuer: doc.result.issuer, adminUrl: doc.result.adminUrl, mcpUrl: doc.result.mcpUrl, resource: doc.result.resource, envFile: doc.result.envFile, composeFile: doc.result.composeFile},
        {issuer: stack.issuer, adminUrl: stack.adminUrl, mcpUrl: stack.mcpUrl, resource: stack.resource, envFile: join(box.root, '.env'), composeFile: join(ROOT, 'docker-compose.yml')},
      )
      assert.match(doc.result.adminKeySource, /^AUTHPLANE_ADMIN_API_KEY in .*\.env$/)
      assert.ok(!result.stdout.includes(String(env.AUTHPLANE_ADMIN_API_KEY)), 'the admin key is not printed')

      const calls = docker.calls()
      assert.deepEqual(calls.at(-1), ['compose', '-f', join(ROOT, 'docker-compose.yml'), '--env-file', join(box.root, '.env'), 'up', '-d'])
      assert.deepEqual(calls.slice(0, 2).map((c) => c.slice(0, 2)), [['compose', 'version'], ['info', '--format']])

      const profile = JSON.parse(readFileSync(box.storePath, 'utf8')).profiles.default
      assert.deepEqual(
        {issuer: profile.issuer, adminUrl: profile.adminUrl, mcpUrl: profile.mcpUrl, resourceUri: profile.resourceUri, adminKey: profile.adminKey},
        {issuer: stack.issuer, adminUrl: stack.adminUrl, mcpUrl: stack.mcpUrl, resourceUri: stack.resource, adminKey: env.AUTHPLANE_ADMIN_API_KEY},
      )

      // The saved profile alone is enough for the walkthrough (no .env, no variables).
      writeFileSync(join(box.root, '.env'), '')
      const verify = await box.run(['verify'])
      assert.equal(verify.code, 0, verify.stderr + verify.stdout)
      assert.match(verify.stdout + verify.stderr, /ALL CHECKS PASSED/)

      const down = await box.run(['stack', 'down', '--docker', '--volumes'], {env: {PATH: docker.path}})
      assert.equal(down.code, 0, down.stderr)
      assert.match(down.stdout, /data volume was deleted/)
      assert.deepEqual(docker.calls().at(-1), ['compose', '-f', join(ROOT, 'docker-compose.yml'), '--env-file', join(box.root, '.env'), 'down', '--volumes'])
    } finally {
      box.cleanup()
    }
  })

  it('settings from the environment, human output; no env file means no --env-file', async () => {
    const box = new Sandbox({...env, AUTHPLANE_RESOURCE: stack.resource})
    const docker = fakeDocker(box, 'working')
    try {
      const result = await box.run(['stack', 'up', '--docker', '--no-save', '--timeout', '20'], {env: {PATH: docker.path}})
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`^  issuer     ${stack.issuer}$`, 'm'))
      assert.match(result.stdout, /admin key {2}from env AUTHPLANE_ADMIN_API_KEY/)
      assert.match(result.stdout, /not saved \(--no-save\)/)
      assert.ok(!existsSync(box.storePath) || !JSON.parse(readFileSync(box.storePath, 'utf8')).profiles?.default?.issuer)
      assert.deepEqual(docker.calls().at(-1), ['compose', '-f', join(ROOT, 'docker-compose.yml'), 'up', '-d'])

      // Later, in a shell without the exported key: `down` must still work (compose interpolates
      // the whole file, and the file requires the key).
      const down = await box.run(['stack', 'down', '--docker'], {env: {PATH: docker.path, AUTHPLANE_ADMIN_API_KEY: ''}})
      assert.equal(down.code, 0, down.stderr)
      assert.deepEqual(docker.calls().at(-1), ['compose', '-f', join(ROOT, 'docker-compose.yml'), 'down'])
    } finally {
      box.cleanup()
    }
  })

  it('an issuer that differs from the announced one (localhost vs 127.0.0.1) fails at once (exit 7)', async () => {
    // One trailing slash would not be a difference (Authplane's SDKs, docs/fidelity.md K9).
    const box = new Sandbox({...env, AUTHPLANE_ISSUER: stack.issuer.replace('127.0.0.1', 'localhost'), AUTHPLANE_RESOURCE: stack.resource})
    const docker = fakeDocker(box, 'working')
    try {
      const started = Date.now()
      const result = await box.run(['stack', 'up', '--docker', '--json', '--timeout', '30'], {env: {PATH: docker.path}})
      assert.equal(result.code, 7, result.stdout)
      assert.equal(envelope(result).error.code, 'issuer_mismatch')
      assert.ok(Date.now() - started < 20_000, 'does not wait for the timeout')
      assert.ok(!existsSync(box.storePath) || !JSON.parse(readFileSync(box.storePath, 'utf8')).profiles?.default?.issuer, 'nothing saved')
    } finally {
      box.cleanup()
    }
  })

  it('an MCP server that expects another audience than AUTHPLANE_RESOURCE is a configuration error (exit 7)', async () => {
    const box = new Sandbox({...env, AUTHPLANE_RESOURCE: 'http://localhost:8080/other'})
    const docker = fakeDocker(box, 'working')
    try {
      const result = await box.run(['stack', 'up', '--docker', '--timeout', '20'], {env: {PATH: docker.path}})
      assertCleanFailure(result, 7, /the MCP server expects the audience ".*" but ap-demo would bind tokens to "http:\/\/localhost:8080\/other"/)
    } finally {
      box.cleanup()
    }
  })

  it('nothing answering: a clear timeout after --timeout seconds (exit 4), naming the URL and the logs to read', async () => {
    const port = await closedPort()
    const box = new Sandbox({AUTHPLANE_ADMIN_API_KEY: 'dev-admin-key-change-me', AUTHPLANE_ISSUER: `http://127.0.0.1:${port}`})
    const docker = fakeDocker(box, 'working')
    try {
      const started = Date.now()
      const human = await box.run(['stack', 'up', '--docker', '--timeout', '2'], {env: {PATH: docker.path}})
      const took = Date.now() - started
      assertCleanFailure(human, 4, new RegExp(`^Error: the authorization server did not answer at http://127\\.0\\.0\\.1:${port}/\\.well-known/oauth-authorization-server within 2 s`, 'm'))
      oneErrorLine(human)
      assert.match(human.stderr, /^Hint: See why with: docker compose -f .*docker-compose\.yml logs authserver/m)
      assert.ok(took >= 2000 && took < 15_000, `waited ${took} ms`)
      const doc = envelope(await box.run(['stack', 'up', '--docker', '--timeout', '1', '--json'], {env: {PATH: docker.path}}))
      assert.equal(doc.status, 'error')
      assert.equal(doc.error.exitCode, 4)
    } finally {
      box.cleanup()
    }
  })

  it('without an admin key it stops before `compose up` and says to create the env file (exit 7)', async () => {
    const box = new Sandbox()
    const docker = fakeDocker(box, 'working')
    try {
      assertCleanFailure(await box.run(['stack', 'up', '--docker'], {env: {PATH: docker.path}}), 7, /AUTHPLANE_ADMIN_API_KEY is not set[\s\S]*cp \.env\.example \.env/)
      assert.ok(!docker.calls().some((c) => c.includes('up')), 'compose up was not run')
    } finally {
      box.cleanup()
    }
  })

  it('a bad URL in the env file is a usage error naming the variable and the file (exit 2)', async () => {
    const box = new Sandbox()
    const docker = fakeDocker(box, 'working')
    writeFileSync(join(box.root, '.env'), 'AUTHPLANE_ADMIN_API_KEY=dev-admin-key-change-me\nMCP_URL=localhost:8080/mcp\n')
    try {
      assertCleanFailure(await box.run(['stack', 'up', '--docker'], {env: {PATH: docker.path}}), 2, /MCP_URL "localhost:8080\/mcp" is not usable: .*\(from MCP_URL in .*\.env\)/)
      assert.equal(docker.calls().length, 0, 'docker was not called')
    } finally {
      box.cleanup()
    }
  })
})
