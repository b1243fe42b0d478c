import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {parseEnv} from 'node:util'

import {parse} from 'yaml'

import {DOCKER_DEFAULTS} from '../../src/docker/stack.js'
import {adminKeyProblem, sessionProblems} from '../../src/stack/authserver/domain/config.js'
import {ROOT, useTestStack} from '../cli/helpers.js'
import {startStack, type StackHandle} from '../../src/stack/index.js'

// CI has no Docker engine, so docker-compose.yml never runs there. What can be checked without one
// is checked here: the linter passes, and the settings that must agree (contract §7.1, §7.2) do.

interface Service {
  image?: string
  build?: unknown
  environment?: Record<string, string>
  command?: string[]
  ports?: string[]
  volumes?: string[]
  depends_on?: Record<string, {condition: string}>
  healthcheck?: {test: string[]}
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')
const compose = parse(composeText) as {name?: string; services: Record<string, Service>; volumes?: Record<string, unknown>}
const authserver = compose.services.authserver!
const mcp = compose.services['mcp-server']!
const envExample = parseEnv(readFileSync(join(ROOT, '.env.example'), 'utf8')) as Record<string, string>

/** Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?message}` (enough for this file). */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string) => {
    const v = vars[name]
    if (v !== undefined && v !== '') return v
    if (op === '?') throw new Error(`required variable ${name} is missing: ${arg}`)
    return op === '-' ? arg : ''
  })
}

function flag(command: string[], name: string): string {
  const found = command.find((a) => a.startsWith(`--${name}=`))
  assert.ok(found, `mcp-server command lacks --${name}`)
  return found.slice(name.length + 3)
}

function publishedPorts(service: Service): number[] {
  return (service.ports ?? []).map((p) => Number(p.split(':').at(-2)))
}

describe('docker-compose.yml', () => {
  it('passes the linter (npm run lint:compose), and the linter does fail on a bad file', () => {
    const ok = spawnSync('npm', ['run', '--silent', 'lint:compose'], {cwd: ROOT, encoding: 'utf8'})
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-compose-'))
    try {
      // The same file with an unquoted port and an unpinned image that no comment excuses.
      const bad = composeText.replace("- '127.0.0.1:8080:8080'", '- 127.0.0.1:8080:8080').replace(/^ *# dclint disable-line.*\n/m, '')
      writeFileSync(join(dir, 'docker-compose.yml'), bad)
      const failed = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'dclint', 'bin', 'dclint.cjs'), '--max-warnings', '0', join(dir, 'docker-compose.yml')], {encoding: 'utf8'})
      assert.notEqual(failed.status, 0)
      assert.match(failed.stdout + failed.stderr, /service-image-require-explicit-tag/)
      assert.match(failed.stdout + failed.stderr, /require-quotes-in-ports/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('one issuer string: the authserver announces what the MCP server expects, from one variable', () => {
    for (const vars of [{}, envExample, {AUTHPLANE_ISSUER: 'http://127.0.0.1:9000', AUTHPLANE_ADMIN_API_KEY: 'k'}]) {
      const v = {AUTHPLANE_ADMIN_API_KEY: 'k', ...vars}
      const announced = interpolate(authserver.environment!.AUTHPLANE_SERVER_ISSUER!, v)
      const expected = interpolate(flag(mcp.command!, 'issuer'), v)
      assert.equal(announced, expected)
      assert.equal(announced, (vars as Record<string, string>).AUTHPLANE_ISSUER ?? DOCKER_DEFAULTS.issuer)
    }
    // The MCP container reaches the issuer by service name, on the port the authserver listens on.
    const fetchUrl = new URL(flag(mcp.command!, 'issuer-fetch-url'))
    assert.equal(fetchUrl.hostname, 'authserver')
    assert.equal(`:${fetchUrl.port}`, authserver.environment!.AUTHPLANE_SERVER_ADDRESS)
  })

  it('one audience: the MCP server expects AUTHPLANE_RESOURCE, with the default ap-demo assumes', () => {
    assert.equal(interpolate(flag(mcp.command!, 'resource'), {}), DOCKER_DEFAULTS.resource)
    assert.equal(interpolate(flag(mcp.command!, 'resource'), envExample), envExample.AUTHPLANE_RESOURCE)
  })

  it('the URLs ap-demo uses on the host match the published ports (bound to 127.0.0.1, like a localhost issuer)', () => {
    assert.deepEqual(publishedPorts(authserver), [Number(new URL(DOCKER_DEFAULTS.issuer).port), Number(new URL(DOCKER_DEFAULTS.adminUrl).port)])
    assert.equal(`:${new URL(DOCKER_DEFAULTS.adminUrl).port}`, authserver.environment!.AUTHPLANE_ADMIN_ADDRESS)
    assert.deepEqual(publishedPorts(mcp), [Number(new URL(DOCKER_DEFAULTS.mcpUrl).port)])
    assert.equal(flag(mcp.command!, 'port'), new URL(DOCKER_DEFAULTS.mcpUrl).port)
    for (const p of [...authserver.ports!, ...mcp.ports!]) assert.match(p, /^127\.0\.0\.1:/)
  })

  it('the real authserver: configured by AUTHPLANE_* variables only, grants enabled, data in a named volume', () => {
    assert.equal(authserver.image, 'authplane/authserver:latest')
    const env = authserver.environment!
    assert.equal(env.AUTHPLANE_ADMIN_API_KEY, '${AUTHPLANE_ADMIN_API_KEY:?set AUTHPLANE_ADMIN_API_KEY (cp .env.example .env)}')
    for (const feature of ['CLIENT_CREDENTIALS', 'DPOP', 'TOKEN_EXCHANGE']) assert.equal(env[`AUTHPLANE_${feature}_ENABLED`], 'true')
    // The server does not expand ${VAR} in its YAML config: no config file, no --config.
    assert.ok(!(authserver.volumes ?? []).some((v) => /\.ya?ml/.test(v)))
    assert.ok(!JSON.stringify(authserver).includes('--config'))
    const [volume, mountPoint] = authserver.volumes![0]!.split(':')
    assert.ok(compose.volumes && volume! in compose.volumes, 'a named volume')
    assert.ok(env.AUTHPLANE_STORAGE_SQLITE_PATH!.startsWith(`${mountPoint}/`))
    assert.ok(env.AUTHPLANE_SIGNING_KEY_PATH!.startsWith(`${mountPoint}/`))
    assert.equal(compose.name, 'ap-demo')
  })

  it('the MCP server is this repository\'s image, runs `stack mcp`, and starts after the authserver', () => {
    assert.ok(mcp.build)
    assert.equal(mcp.image, undefined)
    assert.deepEqual(mcp.command!.slice(0, 2), ['stack', 'mcp'])
    assert.equal(flag(mcp.command!, 'host'), '0.0.0.0')
    assert.ok(mcp.depends_on?.authserver)
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    assert.match(dockerfile, /^ENTRYPOINT \["node", "bin\/run\.js"\]$/m)
    assert.match(dockerfile, /npm ci/)
  })

  it('.env.example has the original example\'s variables, with values that agree with the defaults', () => {
    for (const name of ['AUTHPLANE_ADMIN_API_KEY', 'AUTHPLANE_ISSUER', 'AUTHPLANE_RESOURCE', 'ADMIN_URL', 'MCP_URL', 'ECHO_TEXT']) assert.ok(envExample[name], name)
    assert.equal(envExample.AUTHPLANE_ISSUER, DOCKER_DEFAULTS.issuer)
    assert.equal(envExample.AUTHPLANE_RESOURCE, DOCKER_DEFAULTS.resource)
    assert.equal(envExample.ADMIN_URL, DOCKER_DEFAULTS.adminUrl)
    assert.equal(envExample.MCP_URL, DOCKER_DEFAULTS.mcpUrl)
  })

  describe('the mcp-server healthcheck, run against real servers', () => {
    let stack!: StackHandle
    useTestStack((s) => ({stack} = s))

    function runHealthcheck(mcpUrl: string, issuerFetchUrl: string): Promise<number | null> {
      const [cmd, program, evalFlag, script] = mcp.healthcheck!.test
      assert.deepEqual([cmd, program, evalFlag], ['CMD', 'node', '-e'])
      const local = script!.replace('http://127.0.0.1:8080/mcp', mcpUrl).replace('http://authserver:9000', issuerFetchUrl)
      assert.notEqual(local, script)
      return new Promise((resolve) => {
        const child = spawn(process.execPath, ['-e', local], {stdio: 'ignore'})
        child.on('close', resolve)
      })
    }

    it('is healthy when the MCP server answers 401 and the issuer metadata 200, unhealthy otherwise', async () => {
      assert.equal(await runHealthcheck(stack.mcpUrl, stack.publicUrl), 0)
      assert.equal(await runHealthcheck(`${stack.publicUrl}/mcp`, stack.publicUrl), 1)
      assert.equal(await runHealthcheck(stack.mcpUrl, 'http://127.0.0.1:1'), 1)
    })
  })
})

// The real authserver refuses to boot on some settings (internal/config/validate.go). No Docker
// engine runs in CI, so the container's boot checks are replayed against the environment the
// compose file hands it, for the settings a user is told to use in .env.example.
const envText = readFileSync(join(ROOT, '.env.example'), 'utf8')

/** The container's environment for a .env file, and every reason the real server would refuse it. */
function bootProblems(vars: Record<string, string>): string[] {
  const env = Object.fromEntries(Object.entries(authserver.environment!).map(([k, v]) => [k, interpolate(String(v), vars)]))
  const issuer = env.AUTHPLANE_SERVER_ISSUER!
  const problems = sessionProblems(issuer, env.AUTHPLANE_SESSION_SECRET ?? '', env.AUTHPLANE_SESSION_SECURE === 'true')
  const key = adminKeyProblem(env.AUTHPLANE_ADMIN_API_KEY ?? '', issuer)
  return key === undefined ? problems : [key, ...problems]
}

/** The commented-out lines of .env.example for a non-localhost issuer, uncommented. */
function uncommented(...names: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const m = new RegExp(`^#${name}=(.*)$`, 'm').exec(envText)
    assert.ok(m, `.env.example has a commented ${name}= line`)
    out[name] = m[1]!
  }
  return out
}

describe('the real authserver\'s boot rules against docker-compose.yml and .env.example', () => {
  it('.env.example as shipped boots (localhost issuer, the examples\' admin key)', () => {
    assert.deepEqual(bootProblems(envExample), [])
  })

  it('changing only the issuer is refused, and the refusal is exactly what .env.example tells the user to fix', () => {
    const changed = {...envExample, AUTHPLANE_ISSUER: 'http://authserver:9000'}
    assert.deepEqual(bootProblems(changed), [
      'session.secret is required when server.issuer is not localhost',
      'session.secure must be true when server.issuer is not localhost',
    ])
    const fixed: Record<string, string> = {...changed, ...uncommented('AUTHPLANE_SESSION_SECRET', 'AUTHPLANE_SESSION_SECURE'), AUTHPLANE_SESSION_SECRET: 'f'.repeat(64)}
    assert.equal(fixed.AUTHPLANE_SESSION_SECURE, 'true')
    assert.deepEqual(bootProblems(fixed), [])
  })

  it('the embedded stack (`stack up`) refuses and accepts exactly what the container does, from the same variables', async () => {
    const embedded = async (vars: Record<string, string>): Promise<string | undefined> => {
      const env = Object.fromEntries(Object.entries(authserver.environment!).map(([k, v]) => [k, interpolate(String(v), vars)]))
      try {
        const stack = await startStack({port: 0, adminPort: 0, mcpPort: 0, issuer: env.AUTHPLANE_SERVER_ISSUER!, adminKey: env.AUTHPLANE_ADMIN_API_KEY!,
          session: {secret: env.AUTHPLANE_SESSION_SECRET ?? '', secure: env.AUTHPLANE_SESSION_SECURE === 'true'}})
        await stack.stop()
        return undefined
      } catch (err) {
        return (err as Error).message
      }
    }
    assert.equal(await embedded(envExample), undefined)
    const changed = {...envExample, AUTHPLANE_ISSUER: 'http://authserver:9000'}
    assert.equal(await embedded(changed), bootProblems(changed).join('; '))
    const fixed: Record<string, string> = {...changed, ...uncommented('AUTHPLANE_SESSION_SECRET', 'AUTHPLANE_SESSION_SECURE'), AUTHPLANE_SESSION_SECRET: 'f'.repeat(64)}
    assert.equal(await embedded(fixed), undefined)
    const weak = {...envExample, AUTHPLANE_ADMIN_API_KEY: 'changeme'}
    assert.equal(await embedded(weak), bootProblems(weak)[0])
  })

  it('the scope rule: required by default, off when .env says so (stack up --no-require-scope)', () => {
    const env = authserver.environment!
    assert.equal(interpolate(env.AUTHPLANE_OAUTH_REQUIRE_SCOPE!, envExample), 'true')
    assert.equal(interpolate(env.AUTHPLANE_OAUTH_REQUIRE_SCOPE!, {...envExample, ...uncommented('AUTHPLANE_OAUTH_REQUIRE_SCOPE')}), 'false')
  })

  it('a weak admin key is refused at any issuer', () => {
    assert.deepEqual(bootProblems({...envExample, AUTHPLANE_ADMIN_API_KEY: 'changeme'}), ['admin.api_key is a known weak/default value — generate a strong random key (e.g. openssl rand -hex 32)'])
    assert.match(bootProblems({...envExample, AUTHPLANE_ISSUER: 'https://auth.example.com', AUTHPLANE_ADMIN_API_KEY: 'short', AUTHPLANE_SESSION_SECRET: 'f'.repeat(64), AUTHPLANE_SESSION_SECURE: 'true'})[0]!, /at least 16 characters/)
  })

  it('the rate limiter stays on unless .env turns it off (the load-test switch)', () => {
    const env = authserver.environment!
    assert.equal(interpolate(env.AUTHPLANE_RATE_LIMIT_ENABLED!, envExample), 'true')
    assert.equal(interpolate(env.AUTHPLANE_RATE_LIMIT_ENABLED!, {...envExample, ...uncommented('AUTHPLANE_RATE_LIMIT_ENABLED')}), 'false')
  })
})
