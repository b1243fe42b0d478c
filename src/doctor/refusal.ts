// The MCP server refused the token doctor minted: which finding that is. The server's own words
// decide first (statedCause: the challenge's scheme and error, its error_description); only when
// it says nothing readable are the token's claims compared with what its resource metadata
// promises, and the finding then says that it is a guess.
import {findIssuer} from '../authplane/issuer.js'
import {challengeSchemes, parseWwwAuthenticate, statedCause} from '../mcp/diagnose.js'
import type {McpRejection} from '../mcp/errors.js'
import type {ProtectedResourceMetadata} from '../mcp/resource-metadata.js'
import {scopesOf} from '../walkthrough/token.js'
import {duration, judgeClocks} from './clock.js'
import type {Finding} from './findings.js'
import type {WitnessedExchange} from './witness.js'

export interface RefusalFacts {
  rejection: McpRejection
  /** The refusing exchange as witnessed: its Date header and when it arrived here. */
  answer?: WitnessedExchange
  /** The token's claims; undefined for an opaque token. */
  claims?: Record<string, unknown>
  /** This machine's clock when the token arrived (ms). */
  mintedAt: number
  metadata: ProtectedResourceMetadata
  /** The authorization server the token came from, as its metadata announces itself. */
  issuer: string
  jwksUri?: string
  scopes: string[]
  /** The token was sent DPoP-bound, with proofs (--dpop). */
  dpop: boolean
}

/** `["a", "b"]`: values as the evidence shows them. */
export const list = (values: readonly unknown[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`
const audiences = (aud: unknown): string[] => (Array.isArray(aud) ? aud.map(String) : typeof aud === 'string' ? [aud] : [])

/** The token in one line, as its claims (never the token itself). */
export function claimsLine(claims: Record<string, unknown> | undefined): string {
  if (!claims) return 'token: opaque (not a JWT), so its claims cannot be read'
  const parts = [`iss ${JSON.stringify(claims.iss ?? null)}`, `aud ${list(audiences(claims.aud))}`, `scope ${JSON.stringify(claims.scope ?? '')}`]
  if (typeof claims.exp === 'number') parts.push(`exp ${new Date(claims.exp * 1000).toISOString()}`)
  const jkt = (claims.cnf as {jkt?: unknown} | undefined)?.jkt
  if (jkt !== undefined) parts.push(`cnf.jkt ${String(jkt)}`)
  return `token: ${parts.join(', ')}`
}

/** `http://a/mcp` vs `http://a/mcp/`: the difference in words, when there is a simple one. */
export function howTheyDiffer(a: string, b: string): string {
  if (a === b) return 'identical'
  if (a.replace(/\/$/, '') === b.replace(/\/$/, '')) return 'they differ only by a trailing slash, which counts here'
  if (a.toLowerCase() === b.toLowerCase()) return 'they differ only in letter case'
  try {
    const [x, y] = [new URL(a), new URL(b)]
    if (x.origin !== y.origin) return x.hostname !== y.hostname ? `the hosts differ (${x.host} vs ${y.host})` : `the origins differ (${x.origin} vs ${y.origin})`
    return `the paths differ (${x.pathname} vs ${y.pathname})`
  } catch {
    return 'they differ'
  }
}

/** The refusal as the server sent it: status, challenge and description, one evidence line each. */
function refusalEvidence(f: RefusalFacts): string[] {
  const what = f.answer?.rpcMethod ? `${f.answer.rpcMethod} ` : ''
  const lines = [`${f.rejection.status} to ${what}with the token: ${f.rejection.wwwAuthenticate ? `WWW-Authenticate: ${f.rejection.wwwAuthenticate}` : 'no WWW-Authenticate header'}`]
  const body = f.rejection.body as {error_description?: unknown} | undefined
  if (typeof body === 'object' && body !== null && typeof body.error_description === 'string' && !f.rejection.wwwAuthenticate?.includes(body.error_description)) {
    lines.push(`body error_description: ${JSON.stringify(body.error_description)}`)
  }
  return lines
}

function metadataLine(m: ProtectedResourceMetadata): string {
  const dpop = m.dpop_bound_access_tokens_required === true ? ', dpop_bound_access_tokens_required: true' : ''
  return `resource metadata: resource ${JSON.stringify(m.resource)}, authorization_servers ${list(m.authorization_servers)}${m.scopes_supported ? `, scopes_supported ${list(m.scopes_supported)}` : ''}${dpop}`
}

/** A cause inferred from the claims when the server states none, in the order of Authplane's 401 decision tree. */
function inferredCause(f: RefusalFacts, serverNow: number): 'dpop' | 'audience' | 'issuer' | 'expired' | 'scope' | 'signature' {
  const c = f.claims!
  if (f.metadata.dpop_bound_access_tokens_required === true && c.cnf === undefined) return 'dpop'
  if (!audiences(c.aud).includes(f.metadata.resource)) return 'audience'
  if (typeof c.iss === 'string' && findIssuer(f.metadata.authorization_servers, c.iss) === undefined) return 'issuer'
  if ((typeof c.exp === 'number' && c.exp <= serverNow) || (typeof c.nbf === 'number' && c.nbf > serverNow)) return 'expired'
  const wanted = scopesOf(parseWwwAuthenticate(f.rejection.wwwAuthenticate)?.params.scope)
  if (wanted.some((s) => !scopesOf(typeof c.scope === 'string' ? c.scope : undefined).includes(s))) return 'scope'
  return 'signature'
}

/** Which finding a refusal of the minted token is, with its evidence and fix. */
export function explainRefusal(f: RefusalFacts): Finding {
  const evidence = refusalEvidence(f)
  evidence.push(claimsLine(f.claims), metadataLine(f.metadata))
  const said = parseWwwAuthenticate(f.rejection.wwwAuthenticate)?.params.error_description
  const serverDate = f.answer?.date === undefined ? Number.NaN : Date.parse(f.answer.date)
  const serverNow = Math.floor((Number.isNaN(serverDate) ? (f.answer?.at ?? Date.now()) : serverDate) / 1000)
  const stated = statedCause(f.rejection, f.dpop)
  if (!stated && !f.claims) {
    return {
      id: 'token_signature_rejected',
      severity: 'error',
      guessed: true,
      summary: `the MCP server refuses the token with HTTP ${f.rejection.status} and says nothing more; the token is opaque, so its claims cannot be compared (a guess: it trusts another authorization server or key set)`,
      evidence,
      fix: `Check that the MCP server accepts tokens of ${f.issuer} (its metadata names ${list(f.metadata.authorization_servers)}) and validates them the way that server issues them (RFC 7662 introspection for opaque tokens); its logs say why it refused.`,
    }
  }
  const cause = stated ?? inferredCause(f, serverNow)
  const guessed = stated === undefined
  const guess = guessed ? ` (the server says only ${f.rejection.status}; a guess from comparing the token's claims with its metadata)` : ''
  const claims = f.claims ?? {}
  switch (cause) {
    case 'scope': {
      const wanted = scopesOf(parseWwwAuthenticate(f.rejection.wwwAuthenticate)?.params.scope)
      const held = scopesOf(typeof claims.scope === 'string' ? claims.scope : undefined)
      const missing = wanted.filter((s) => !held.includes(s))
      const need = missing.length > 0 ? missing : wanted
      return {
        id: 'insufficient_scope',
        severity: 'error',
        guessed,
        summary: `the MCP server wants scope ${need.length > 0 ? need.map((s) => `"${s}"`).join(' ') : '(not named)'}, and the token has ${held.length > 0 ? held.map((s) => `"${s}"`).join(' ') : 'no scope'}${guess}`,
        evidence: [...evidence, `scopes requested: ${f.scopes.length > 0 ? f.scopes.join(' ') : '(none)'}`],
        fix: `Ask for ${need.length > 0 ? `"${[...new Set([...f.scopes, ...need])].join(' ')}"` : 'the scope the server names'}: ap-demo doctor --scope ${need[0] ?? '<scope>'} (the agent must request it too). The authorization server grants it only when the client's scope ceiling includes it and the resource declares it (Authplane answers invalid_scope otherwise).`,
      }
    }
    case 'dpop': {
      const description = said ?? ''
      const offered = challengeSchemes(f.rejection.wwwAuthenticate).map((s) => s.toLowerCase())
      const sent = f.rejection.scheme?.toLowerCase()
      if (f.dpop && sent && offered.length > 0 && !offered.includes(sent)) {
        const want = offered.includes('bearer') ? 'bearer' : 'dpop'
        return {id: 'dpop_required', severity: 'error', guessed, summary: `the MCP server offers only the ${offered.join(', ')} scheme and refused the DPoP-bound token sent as "Authorization: ${f.rejection.scheme}"`, evidence, fix: `Use --dpop-scheme auto (the scheme the challenge offers) or --dpop-scheme ${want}: servers on the MCP Python SDK (Authplane's Python adapters) read only Bearer, with the DPoP proof beside it; RFC 9449 §7.1 says DPoP.`}
      }
      if (f.dpop && /not supported|only plain Bearer/i.test(description)) {
        return {id: 'dpop_required', severity: 'error', guessed, summary: 'the MCP server takes only plain Bearer tokens, and this one is DPoP-bound', evidence, fix: 'Run without --dpop: this server does not check proofs (tier 01 refuses any sign of DPoP). Or turn DPoP on at the server (ap-demo stack up --mcp-dpop allowed).'}
      }
      if (f.dpop) {
        return {id: 'dpop_required', severity: 'error', guessed, summary: `the MCP server refuses the DPoP proof${said ? `: ${said}` : ''}`, evidence, fix: 'Proofs carry this machine\'s time (iat) and the request\'s method and URL (htm, htu): check this machine\'s clock, and that nothing between here and the server rewrites the URL. See docs/dpop.md.'}
      }
      return {
        id: 'dpop_required',
        severity: 'error',
        guessed,
        summary: `the MCP server wants DPoP-bound tokens (RFC 9449), and this one is a plain Bearer token${guess}`,
        evidence: [...evidence, ...(Array.isArray(f.metadata.dpop_signing_alg_values_supported) ? [`the metadata's dpop_signing_alg_values_supported: ${list(f.metadata.dpop_signing_alg_values_supported)}`] : [])],
        fix: 'Run doctor with --dpop: the token is then minted bound to a key (cnf.jkt) and each request carries a proof. The agent must do the same (a DPoP-capable client, e.g. Authplane\'s DPoPProvider); the authorization server must announce dpop_signing_alg_values_supported.',
      }
    }
    case 'audience': {
      const aud = audiences(claims.aud)
      const checked = /(https?:\/\/[^\s"',;)]+)/.exec(said ?? '')?.[1]
      const bound = aud.includes(f.metadata.resource)
      let fix: string
      if (!bound) {
        fix = `${f.issuer} did not bind the token to the resource it was asked for (resource=${f.metadata.resource}, RFC 8707): its aud is ${list(aud)}. Register that exact string as a resource at the authorization server (Authplane: ap-demo setup resource --uri ${f.metadata.resource}), or use one that supports resource indicators.`
      } else if (checked && checked !== f.metadata.resource) {
        fix = `The server checks the audience "${checked}" but its metadata announces "${f.metadata.resource}" (${howTheyDiffer(checked, f.metadata.resource)}). Make them one string: set the server's expected audience (AUTHPLANE_RESOURCE for tier 01) to its metadata's resource, or announce "${checked}" and register that at the authorization server.`
      } else {
        fix = `The server's expected audience, the resource its metadata announces ("${f.metadata.resource}") and the resource uri registered at the authorization server must be one string, byte for byte.`
      }
      return {
        id: 'token_audience_rejected',
        severity: 'error',
        guessed,
        summary: guessed ? `the token's aud ${list(aud)} does not contain the resource the metadata names, "${f.metadata.resource}"${guess}` : `the MCP server refuses the token's audience${said ? `: ${said}` : ''}`,
        evidence,
        fix,
      }
    }
    case 'issuer':
      return {
        id: 'token_signature_rejected',
        severity: 'error',
        guessed,
        summary: guessed ? `the token's iss ${JSON.stringify(claims.iss)} is not an authorization server the metadata names${guess}` : `the MCP server trusts another issuer${said ? `: ${said}` : ''}`,
        evidence,
        fix: `Tokens come from ${JSON.stringify(claims.iss ?? f.issuer)}, the issuer its metadata names. Configure the MCP server to trust exactly that issuer string (AUTHPLANE_ISSUER for tier 01; localhost, 127.0.0.1 and a Docker host name are different issuers), or make its metadata name the issuer it does trust.`,
      }
    case 'expired': {
      const clocks = judgeClocks({iat: claims.iat as number | undefined, exp: claims.exp as number | undefined, nbf: claims.nbf as number | undefined, mintedAt: f.mintedAt, serverDate: f.answer?.date, refusedAt: f.answer?.at ?? Date.now()})
      const who = {
        authorization_server: `Set the authorization server's clock right (NTP): it is ${duration(clocks.authServerSkew ?? 0)} ${(clocks.authServerSkew ?? 0) > 0 ? 'ahead' : 'behind'}, so its tokens ${(clocks.authServerSkew ?? 0) > 0 ? 'start in the MCP server\'s future' : 'are born expired at the MCP server'}.`,
        mcp_server: `Set the MCP server's clock right (NTP): it is ${duration(clocks.mcpServerSkew ?? 0)} ${(clocks.mcpServerSkew ?? 0) > 0 ? 'ahead, so fresh tokens look expired to it' : 'behind, so fresh tokens look not yet valid to it'}.`,
        this_machine: 'Set this machine\'s clock right (NTP); the servers agree with each other, so the refusal comes from the token itself: check its lifetime.',
        both_servers: 'Set both servers\' clocks right (NTP): they disagree with each other by more than a token check allows.',
        none: `The clocks agree, so the token really is expired at the server's time${typeof claims.exp === 'number' && typeof claims.iat === 'number' ? ` (a lifetime of ${duration(claims.exp - claims.iat)})` : ''}: check the authorization server's token lifetime and the MCP server's leeway.`,
        unknown: 'Compare the servers\' clocks with this machine\'s (NTP on each); the one that cannot be read here is the likely culprit.',
      }[clocks.culprit]
      return {
        id: 'token_expired',
        severity: 'error',
        guessed,
        summary: `the MCP server refuses the token as expired${said ? ` ("${said}")` : ''}: ${clocks.summary}${guess}`,
        evidence: [...evidence, ...clocks.evidence],
        fix: who,
      }
    }
    default:
      return {
        id: 'token_signature_rejected',
        severity: 'error',
        guessed,
        summary: guessed
          ? `the token's issuer, audience, expiry and scope match what the metadata promises, so what is left is its signature: the server verifies with another key set${guess}`
          : `the MCP server refuses the token's signature or key${said ? `: ${said}` : ''}`,
        evidence,
        fix: `The MCP server must verify with the keys ${f.issuer} signs with${f.jwksUri ? ` (${f.jwksUri})` : ''}: point it at that issuer, and restart it if the authorization server got a new key (one restarted without its key file, or a --memory stack) so that it fetches the current JWKS.`,
      }
  }
}
