import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {Environment, maskSecret, resolveConnection} from '../../src/config/settings.js'

describe('connection settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-demo-settings-'))
  writeFileSync(join(dir, '.env'), 'export AUTHPLANE_ISSUER=http://from-dotenv:9000\nMCP_URL="http://dotenv-mcp:8080/mcp" # comment\nADMIN_URL=http://dotenv-admin:9001\n')

  it('takes flag > environment > .env > profile > default, and says where each came from', () => {
    const env = new Environment({AUTHPLANE_ISSUER: 'http://from-env:9000'}, dir)
    const profile = {issuer: 'http://from-profile:9000', adminUrl: 'http://profile-admin:9001', adminKey: 'profile-key-0123456789'}
    const s = resolveConnection('default', {'mcp-url': 'http://flag-mcp:8080/mcp'}, env, profile)
    assert.deepEqual(s.mcpUrl, {value: 'http://flag-mcp:8080/mcp', source: 'flag', from: '--mcp-url'})
    assert.deepEqual(s.issuer, {value: 'http://from-env:9000', source: 'env', from: 'AUTHPLANE_ISSUER'})
    assert.deepEqual(s.adminUrl, {value: 'http://dotenv-admin:9001', source: '.env', from: 'ADMIN_URL'})
    assert.deepEqual(s.adminKey, {value: 'profile-key-0123456789', source: 'profile'})
    assert.equal(s.resource.value, 'http://flag-mcp:8080/mcp', 'the resource defaults to the MCP URL')
    assert.equal(s.resource.source, 'default')
    const bare = resolveConnection('p', {}, new Environment({}, tmpdir()), {})
    assert.deepEqual([bare.issuer.value, bare.adminUrl.value, bare.mcpUrl.value], ['http://localhost:9000', 'http://localhost:9001', 'http://localhost:8080/mcp'])
    assert.equal(bare.adminKey.source, 'unset')
  })

  it('keeps the profile\'s resource with the profile\'s MCP server: --mcp-url elsewhere does not carry it along (issue 18)', () => {
    const env = new Environment({}, tmpdir())
    const profile = {mcpUrl: 'http://localhost:8080/mcp', resourceUri: 'http://localhost:8080/mcp'}
    const own = resolveConnection('p', {}, env, profile)
    assert.deepEqual([own.resource.value, own.resource.source, own.otherServer], ['http://localhost:8080/mcp', 'profile', undefined])
    const same = resolveConnection('p', {'mcp-url': 'http://localhost:8080/mcp'}, env, profile)
    assert.equal(same.resource.source, 'profile')
    const other = resolveConnection('p', {'mcp-url': 'http://other:5000/mcp'}, env, profile)
    assert.deepEqual([other.resource.value, other.resource.source, other.otherServer], ['http://other:5000/mcp', 'default', true])
    // Told the audience: no guessing, no discovery needed.
    const told = resolveConnection('p', {'mcp-url': 'http://other:5000/mcp', resource: 'http://other:5000/api'}, env, profile)
    assert.deepEqual([told.resource.value, told.otherServer], ['http://other:5000/api', undefined])
    // A profile that works with no server yet has nothing to keep apart.
    assert.equal(resolveConnection('p', {'mcp-url': 'http://other:5000/mcp'}, env, {}).otherServer, undefined)
  })

  it('reads .env like `set -a; source .env`, with exported variables winning', () => {
    const env = new Environment({MCP_URL: 'http://shell:1/mcp'}, dir)
    assert.equal(env.get('MCP_URL'), 'http://shell:1/mcp')
    assert.equal(env.get('AUTHPLANE_ISSUER'), 'http://from-dotenv:9000')
    assert.equal(env.lookup('ADMIN_URL')?.source, '.env')
  })

  it('masks secrets', () => {
    assert.equal(maskSecret('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'), '****FG (43 chars)')
    assert.equal(maskSecret('short'), '**** (5 chars)')
    assert.equal(maskSecret(undefined), undefined)
  })

  it('cleans up', () => rmSync(dir, {recursive: true, force: true}))
})
