// Runs one discovery with AuthplaneClient.create and prints its outcome as JSON: a child process of
// https-issuer.test.ts, started with NODE_EXTRA_CA_CERTS so that it trusts that test's own TLS
// certificate (Node reads that variable only when it starts).
import {AuthplaneClient} from '../../src/authplane/client.js'

const options = JSON.parse(process.argv[2] ?? '{}') as {issuer: string; allowInsecureHttp?: boolean}
try {
  const client = await AuthplaneClient.create({...options, auth: {clientId: 'c', clientSecret: 's'}, timeoutMs: 5000})
  process.stdout.write(JSON.stringify({ok: true, tokenEndpoint: client.metadata.token_endpoint, jwksUri: client.metadata.jwks_uri, allowInsecureHttp: client.allowInsecureHttp}))
} catch (error) {
  const e = error as Error
  process.stdout.write(JSON.stringify({ok: false, name: e.name, message: e.message}))
}
