import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {parseEnv} from 'node:util'
import {parse} from 'yaml'
import {adminKeyProblem, sessionProblems} from '../../../src/stack/authserver/boot-rules.js'

// The real authserver refuses to boot on some settings (internal/config/validate.go). No Docker
// engine runs in CI, so the container's boot checks are replayed here against the environment
// docker-compose.yml hands it, for the settings a user is told to use in .env.example.

const ROOT = new URL('../../../../', import.meta.url).pathname
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {services: Record<string, {environment: Record<string, string>}>}
const envText = readFileSync(join(ROOT, '.env.example'), 'utf8')
const envExample = parseEnv(envText) as Record<string, string>

function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string) => {
    const v = vars[name]
    if (v !== undefined && v !== '') return v
    if (op === '?') throw new Error(`required variable ${name} is missing: ${arg}`)
    return op === '-' ? arg : ''
  })
}

/** The container's environment for a .env file, and every reason the real server would refuse it. */
function bootProblems(vars: Record<string, string>): string[] {
  const env = Object.fromEntries(Object.entries(compose.services.authserver!.environment).map(([k, v]) => [k, interpolate(String(v), vars)]))
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

  it('a weak admin key is refused at any issuer', () => {
    assert.deepEqual(bootProblems({...envExample, AUTHPLANE_ADMIN_API_KEY: 'changeme'}), ['admin.api_key is a known weak/default value — generate a strong random key (e.g. openssl rand -hex 32)'])
    assert.match(bootProblems({...envExample, AUTHPLANE_ISSUER: 'https://auth.example.com', AUTHPLANE_ADMIN_API_KEY: 'short', AUTHPLANE_SESSION_SECRET: 'f'.repeat(64), AUTHPLANE_SESSION_SECURE: 'true'})[0]!, /at least 16 characters/)
  })

  it('the rate limiter stays on unless .env turns it off (the load-test switch)', () => {
    const env = compose.services.authserver!.environment
    assert.equal(interpolate(env.AUTHPLANE_RATE_LIMIT_ENABLED!, envExample), 'true')
    assert.equal(interpolate(env.AUTHPLANE_RATE_LIMIT_ENABLED!, {...envExample, ...uncommented('AUTHPLANE_RATE_LIMIT_ENABLED')}), 'false')
  })
})
