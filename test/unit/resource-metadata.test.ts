import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {resourceMatchesServer, wellKnownCandidates} from '../../src/mcp/resource-metadata.js'

describe('RFC 9728 resource metadata rules', () => {
  it('inserts the well-known segment before the resource path, then falls back to the root', () => {
    assert.deepEqual(wellKnownCandidates('http://localhost:8080/mcp'), [
      'http://localhost:8080/.well-known/oauth-protected-resource/mcp',
      'http://localhost:8080/.well-known/oauth-protected-resource',
    ])
    assert.deepEqual(wellKnownCandidates('https://api.example/tenant/mcp/'), [
      'https://api.example/.well-known/oauth-protected-resource/tenant/mcp',
      'https://api.example/.well-known/oauth-protected-resource',
    ])
    assert.deepEqual(wellKnownCandidates('https://api.example/'), ['https://api.example/.well-known/oauth-protected-resource'])
  })

  it('accepts a resource that is the server or a parent path of it on the same origin', () => {
    assert.ok(resourceMatchesServer('http://localhost:8080/mcp', 'http://localhost:8080/mcp'))
    assert.ok(resourceMatchesServer('http://localhost:8080/', 'http://localhost:8080/mcp'))
    assert.ok(resourceMatchesServer('http://localhost:8080', 'http://localhost:8080/mcp'))
    assert.ok(resourceMatchesServer('https://api.example/tenant', 'https://api.example/tenant/mcp'))
  })

  it('refuses another origin, a sibling path, a longer path or a query', () => {
    assert.ok(!resourceMatchesServer('https://evil.example/mcp', 'http://localhost:8080/mcp'))
    assert.ok(!resourceMatchesServer('http://localhost:8081/mcp', 'http://localhost:8080/mcp'))
    assert.ok(!resourceMatchesServer('http://127.0.0.1:8080/mcp', 'http://localhost:8080/mcp'))
    assert.ok(!resourceMatchesServer('http://localhost:8080/mc', 'http://localhost:8080/mcp'))
    assert.ok(!resourceMatchesServer('http://localhost:8080/mcp/admin', 'http://localhost:8080/mcp'))
    assert.ok(!resourceMatchesServer('http://localhost:8080/mcp?x=1', 'http://localhost:8080/mcp'))
    assert.ok(!resourceMatchesServer('not a url', 'http://localhost:8080/mcp'))
  })
})
