import {discoveryUrl} from '../authplane/index.js'
import {sameIssuer} from '../authplane/issuer.js'
import {UnreachableError, InputError, CheckFailedError, ConfigError} from '../errors.js'
import {readJson, send, type RequestObserver} from '../http/request.js'
import {pollUntilReady} from './wait.js'

export interface DiscoveryResult {
  url: string
  metadata: Record<string, unknown> & {issuer: string; token_endpoint: string; jwks_uri: string}
}

/**
 * Step 1 of the walkthrough (contract §6): wait until the issuer's RFC 8414 metadata answers 200,
 * then check that it announces the configured issuer (contract §7 pitfall 1; one trailing slash is
 * not a difference, as in Authplane's SDKs): a mismatch fails at once instead of waiting for the timeout.
 */
export async function waitForDiscovery(issuer: string, options: {waitMs: number; requestTimeoutMs: number; observer?: RequestObserver}): Promise<DiscoveryResult> {
  let url: string
  try {
    url = discoveryUrl(issuer)
  } catch {
    throw new InputError('usage', `the issuer "${issuer}" is not an absolute URL`, {hint: 'Example: --issuer http://localhost:9000'})
  }
  const unreachable = {what: 'the authorization server', url, hint: 'Start it (ap-demo stack up, or docker compose up) or fix --issuer; --timeout sets how long to wait.'}
  return pollUntilReady({...options, notReadyCode: 'discovery_failed', unreachable}, async (timeoutMs, first) => {
    const response = await send(url, {headers: {Accept: 'application/json'}, timeoutMs, observer: first ? options.observer : undefined})
    const body = (await readJson(response)) as DiscoveryResult['metadata'] | undefined
    if (response.status !== 200 || !body || typeof body !== 'object') {
      throw new (response.status >= 500 ? UnreachableError : CheckFailedError)('discovery_failed', `${url} answered HTTP ${response.status}`, {
        hint: response.status === 404 ? 'Nothing serves RFC 8414 metadata there: check --issuer (scheme, host, port, path).' : 'Check the authorization server\'s logs.',
        details: {httpStatus: response.status, body},
      })
    }
    if (!sameIssuer(body.issuer, issuer)) {
      throw new ConfigError('issuer_mismatch', `issuer mismatch: ${url} announces ${JSON.stringify(body.issuer)} but ap-demo is configured with ${JSON.stringify(issuer)}`, {
        hint: `Use exactly the announced string: --issuer ${body.issuer} (or AUTHPLANE_ISSUER). localhost, 127.0.0.1 and a Docker host name are different issuers (one trailing slash is not a difference; anything else is).`,
        details: {expected: issuer, actual: body.issuer},
      })
    }
    if (typeof body.token_endpoint !== 'string' || typeof body.jwks_uri !== 'string') {
      throw new CheckFailedError('bad_metadata', `the metadata at ${url} lacks token_endpoint or jwks_uri`, {hint: 'Is --issuer an Authplane authorization server?'})
    }
    return {url, metadata: body}
  })
}
