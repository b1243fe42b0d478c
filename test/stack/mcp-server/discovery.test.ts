import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {startMcpServer} from '../../../src/stack/mcp-server/index.js'
import {initializeRequest, IssuerFixture, newSigningKey, postMcp} from './issuer-fixture.js'

async function status(res: Response): Promise<number> {
  await res.text()
  return res.status
}

describe('issuer discovery and the JWKS cache', () => {
  it('starts while the issuer is down, answers 503, then works once the issuer is up', async () => {
    // Reserve a port, then free it so that nothing answers there.
    const probe = await IssuerFixture.start()
    const {port, issuer: issuerUrl, keys} = probe
    await probe.stop()

    const mcp = await startMcpServer({issuer: issuerUrl, port: 0})
    let issuer: IssuerFixture | undefined
    try {
      probe.audience = mcp.resource
      const token = await probe.token()
      const down = await postMcp(mcp.url, initializeRequest(), {token})
      assert.equal(down.status, 503)
      assert.match(down.headers.get('content-type') ?? '', /^application\/json/)
      assert.equal(down.headers.get('www-authenticate'), null)
      const body = (await down.json()) as {error: string; error_description: string}
      assert.equal(body.error, 'temporarily_unavailable')
      assert.match(body.error_description, /authorization server metadata at .* is unreachable/)
      // Token checks that need no key still answer 401 while the issuer is down.
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: 'x.y.z'})), 401)

      issuer = await IssuerFixture.start({port, keys})
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token})), 200)
      assert.equal(issuer.metadataFetches, 1)
      assert.equal(issuer.jwksFetches, 1)
      // Cached: a second request fetches nothing.
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token})), 200)
      assert.equal(issuer.metadataFetches, 1)
      assert.equal(issuer.jwksFetches, 1)
    } finally {
      await mcp.stop()
      await issuer?.stop()
    }
  })

  it('refreshes the JWKS exactly once on an unknown kid, then refuses', async () => {
    const issuer = await IssuerFixture.start()
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0})
    try {
      issuer.audience = mcp.resource
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: await issuer.token()})), 200)
      assert.equal(issuer.jwksFetches, 1)
      const res = await postMcp(mcp.url, initializeRequest(), {token: await issuer.token({header: {kid: 'no-such-kid'}})})
      assert.equal(res.status, 401)
      assert.equal(((await res.json()) as {error_description: string}).error_description, 'no key with kid "no-such-kid" in the issuer\'s JWKS')
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token", error_description="no key with kid/)
      assert.equal(issuer.jwksFetches, 2)
      assert.equal(issuer.metadataFetches, 1)
    } finally {
      await mcp.stop()
      await issuer.stop()
    }
  })

  it('picks up a key rotated after start through that one refresh', async () => {
    const issuer = await IssuerFixture.start()
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0})
    try {
      issuer.audience = mcp.resource
      const oldToken = await issuer.token()
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: oldToken})), 200)
      await issuer.rotate()
      const newToken = await issuer.token()
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: newToken})), 200)
      assert.equal(issuer.jwksFetches, 2)
      // Both keys are served after a rotation, so tokens of the previous key stay valid.
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: oldToken})), 200)
      assert.equal(issuer.jwksFetches, 2)
    } finally {
      await mcp.stop()
      await issuer.stop()
    }
  })

  it('stops accepting a key the issuer withdrew, once it has read the JWKS again', async () => {
    // Mutant mcp-revoked-key-cached of the mutation run (scripts/mutants.mjs): the imported key of a
    // kid that left the JWKS stayed cached, so tokens signed with a withdrawn (say, leaked) key
    // kept passing after the server had read the new JWKS.
    const issuer = await IssuerFixture.start()
    const mcp = await startMcpServer({issuer: issuer.issuer, port: 0})
    try {
      issuer.audience = mcp.resource
      const withdrawn = issuer.currentKey
      const oldToken = await issuer.token()
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: oldToken})), 200)
      // The issuer replaces its key instead of rotating it (previous key no longer served).
      issuer.keys = [await newSigningKey()]
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: await issuer.token()})), 200)
      assert.equal(issuer.jwksFetches, 2)
      const res = await postMcp(mcp.url, initializeRequest(), {token: oldToken})
      assert.equal(res.status, 401)
      assert.equal(((await res.json()) as {error_description: string}).error_description, `no key with kid "${withdrawn.kid}" in the issuer's JWKS`)
    } finally {
      await mcp.stop()
      await issuer.stop()
    }
  })

  it('refuses to use metadata that announces another issuer (503, nothing cached)', async () => {
    const issuer = await IssuerFixture.start()
    const announced = `${issuer.issuer}/`
    const liar = await IssuerFixture.start({issuer: issuer.issuer, announcedIssuer: announced, keys: issuer.keys})
    const mcpLied = await startMcpServer({issuer: issuer.issuer, issuerFetchUrl: `http://127.0.0.1:${liar.port}`, port: 0})
    try {
      issuer.audience = mcpLied.resource
      const res = await postMcp(mcpLied.url, initializeRequest(), {token: await issuer.token()})
      assert.equal(res.status, 503)
      const body = (await res.json()) as {error_description: string}
      assert.match(body.error_description, /announces issuer ".*\/", expected exactly http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(await status(await postMcp(mcpLied.url, initializeRequest(), {token: await issuer.token()})), 503)
      assert.equal(liar.metadataFetches, 2)
      assert.equal(liar.jwksFetches, 0)
    } finally {
      await mcpLied.stop()
      await liar.stop()
      await issuer.stop()
    }
  })

  it('fetches through issuerFetchUrl and rewrites the jwks_uri origin to it', async () => {
    // The announced issuer host does not resolve here, as with `http://authserver:9000` in Docker.
    const issuer = await IssuerFixture.start({issuer: 'http://authserver.invalid:9000'})
    const mcp = await startMcpServer({
      issuer: 'http://authserver.invalid:9000',
      issuerFetchUrl: `http://127.0.0.1:${issuer.port}`,
      port: 0,
    })
    try {
      issuer.audience = mcp.resource
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: await issuer.token()})), 200)
      assert.equal(issuer.metadataFetches, 1)
      assert.equal(issuer.jwksFetches, 1)
    } finally {
      await mcp.stop()
      await issuer.stop()
    }
  })

  it('discovers an issuer with a path (well-known segment inserted before the path)', async () => {
    const probe = await IssuerFixture.start()
    const port = probe.port
    await probe.stop()
    const issuerUrl = `http://127.0.0.1:${port}/tenants/acme`
    const issuer = await IssuerFixture.start({port, issuer: issuerUrl})
    const mcp = await startMcpServer({issuer: issuerUrl, port: 0})
    try {
      issuer.audience = mcp.resource
      assert.equal(await status(await postMcp(mcp.url, initializeRequest(), {token: await issuer.token()})), 200)
      assert.equal(issuer.metadataFetches, 1)
    } finally {
      await mcp.stop()
      await issuer.stop()
    }
  })
})
