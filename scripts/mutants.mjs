// Mutation run of the security checks (issue 19): each mutant below breaks one check the way a
// careless edit would (a condition dropped or negated, a comparison loosened, a redaction field
// removed, a bound off by one), and names the test files that should notice. The run applies one
// mutant at a time to a scratch copy of this checkout, rebuilds what the tests load, runs those
// tests, and records whether they failed (killed) or passed (survived). Not part of npm test or CI:
//
//   npm run mutants                       every mutant (about 15 minutes on two cores)
//   npm run mutants -- --only id,id       some of them
//   npm run mutants -- --list             the mutants, each checked to be armed; runs nothing
//   options: --timeout <s> (per mutant, default 600), --keep (leave the scratch copy),
//            --no-baseline (skip the unmutated run of the tests), --markdown (the table for docs)
//
// The real checkout is never written: the scratch copy (its tracked and untracked files, as they
// are on disk, with node_modules linked) lives in the OS temp dir and is removed at the end, on an
// error and on Ctrl-C. A mutant's `find` must occur exactly once in its file, or the run refuses to
// start: a refactor that moves the code makes the mutant fail loudly instead of silently testing
// nothing. Exit status: 0 all killed, 1 a mutant survived (or could not be built), 2 the run could
// not be made (a disarmed mutant, a test substring that matches no file, a failing baseline).
//
// The level mutated: the tests import tsc's output (dist/src), and the CLI tests run bin/run.js,
// which loads the esbuild bundle made from dist/src (scripts/bundle.mjs). So a mutant is applied to
// the .ts file, that one file is compiled again (TypeScript's transpileModule, the same emit as tsc
// for this project's settings; checked against tsc's own output of the unmutated file, with a full
// tsc as the fallback), and the bundle is rebuilt before the tests run.
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

// Test files by the substrings scripts/test.mjs matches against paths under dist/test.
const AS = ['stack/authserver/']
const MCP = ['stack/mcp-server/', 'stack/mcp-sdk-oauth']
const SDK = ['authplane/']
const TRACE = ['trace/']
const TERMINAL = ['unit/terminal-text', 'faults/escape-injection']

/** @type {Array<{id: string, file: string, find: string, replace: string, what: string, tests: string[]}>} */
export const MUTANTS = [
  // --- authorization server: client authentication -------------------------------------------
  {
    id: 'as-client-secret-unchecked', file: 'src/stack/authserver/services/client-auth.ts',
    find: `  if (client.secret_hash === null || !ctx.hasher.verify(secret, client.secret_hash)) throw invalidClient()
  return client`,
    replace: `  if (client.secret_hash === null) throw invalidClient()
  return client`,
    what: 'client_credentials: any secret authenticates a confidential client',
    tests: AS,
  },
  {
    id: 'as-client-suspended', file: 'src/stack/authserver/services/client-auth.ts',
    find: `  if (id === '' || secret === '') throw invalidClient()
  const client = ctx.store.clientById(id)
  if (client === undefined) throw invalidClient()
  if (client.status !== 'active') throw invalidClient('client is suspended or revoked')`,
    replace: `  if (id === '' || secret === '') throw invalidClient()
  const client = ctx.store.clientById(id)
  if (client === undefined) throw invalidClient()`,
    what: 'client_credentials: a suspended or revoked client still gets tokens',
    tests: AS,
  },
  {
    id: 'as-grant-client-secret', file: 'src/stack/authserver/services/user-grants.ts',
    find: `} else if (secret === undefined || secret === '' || !ctx.hasher.verify(secret, client.secret_hash)) {`,
    replace: `} else if (secret === undefined || secret === '') {`,
    what: 'user grants: a confidential client redeems a code or refresh token with any secret',
    tests: AS,
  },
  {
    id: 'as-admin-key-compare', file: 'src/stack/authserver/api/admin/index.ts',
    find: `if (!timingSafeEqual(given, expected)) {`,
    replace: `if (given.length !== expected.length) {`,
    what: 'admin API: any bearer value is taken as the admin key',
    tests: AS,
  },
  // --- authorization server: PKCE ----------------------------------------------------------------
  {
    id: 'as-pkce-unchecked', file: 'src/stack/authserver/services/user-grants.ts',
    find: `  if (!pkceMatches(verifier, session.code_challenge)) throw new OAuthError(400, 'invalid_grant', 'PKCE verification failed')\n`,
    replace: '',
    what: 'code exchange: the code_verifier is not checked against the challenge',
    tests: AS,
  },
  {
    id: 'as-pkce-verifier-length', file: 'src/stack/authserver/domain/pkce.ts',
    find: 'const UNRESERVED_43_128 = /^[A-Za-z0-9._~-]{43,128}$/',
    replace: 'const UNRESERVED_43_128 = /^[A-Za-z0-9._~-]+$/',
    what: 'PKCE: a code_verifier shorter than 43 characters is accepted (RFC 7636 section 4.1)',
    tests: AS,
  },
  {
    id: 'as-pkce-plain', file: 'src/stack/authserver/domain/pkce.ts',
    find: `return method === 'S256' ? undefined :`,
    replace: `return method === 'S256' || method === 'plain' ? undefined :`,
    what: 'authorize: code_challenge_method=plain is accepted',
    tests: AS,
  },
  {
    id: 'as-pkce-challenge-shape', file: 'src/stack/authserver/api/pages/authorize.ts',
    find: "  if (challengeShape !== undefined) return toClient('invalid_grant', `PKCE verification failed: ${challengeShape}`)\n",
    replace: '',
    what: 'authorize: a code_challenge that is not 43-128 unreserved characters is stored (R3-10)',
    tests: AS,
  },
  // --- authorization server: redirect_uri ------------------------------------------------------
  {
    id: 'as-redirect-authorize-prefix', file: 'src/stack/authserver/domain/redirect.ts',
    find: '  if (client.redirect_uris.includes(uri)) return true',
    replace: '  if (client.redirect_uris.some((r) => uri.startsWith(r))) return true',
    what: 'authorize: a redirect_uri that extends a registered one (a longer path) is accepted',
    tests: [...AS, 'faults/redirect-matrix'],
  },
  {
    id: 'as-redirect-loopback-path', file: 'src/stack/authserver/domain/redirect.ts',
    find: ' && x.pathname === u.pathname && x.search === u.search',
    replace: ' && x.search === u.search',
    what: 'authorize: a loopback redirect_uri on another port may also have another path',
    tests: AS,
  },
  {
    id: 'as-redirect-token-prefix', file: 'src/stack/authserver/services/user-grants.ts',
    find: `  if (value('redirect_uri') !== session.redirect_uri) throw invalidGrant()`,
    replace: `  if (!(value('redirect_uri') ?? '').startsWith(session.redirect_uri)) throw invalidGrant()`,
    what: 'token endpoint: a redirect_uri that merely starts with the authorized one redeems the code (survivor of the first run)',
    tests: AS,
  },
  {
    id: 'as-redirect-userinfo', file: 'src/stack/authserver/domain/client.ts',
    find: '  if (u.userinfo) return `redirect_uri ${goQuote(uri)} must not contain userinfo`\n',
    replace: '',
    what: 'registration: a redirect URI with userinfo (https://trusted@evil.example) is accepted',
    tests: AS,
  },
  // --- authorization server: codes and refresh tokens ------------------------------------------
  {
    id: 'as-code-foreign-client', file: 'src/stack/authserver/services/user-grants.ts',
    find: '  if (clientId !== session.client_id) throw invalidClient()\n',
    replace: '',
    what: 'code exchange: another client may redeem the code',
    tests: AS,
  },
  {
    id: 'as-code-single-use', file: 'src/stack/authserver/store/user-store.ts',
    find: `consumeSession: p('UPDATE auth_sessions SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL'),`,
    replace: `consumeSession: p('UPDATE auth_sessions SET consumed_at = ? WHERE id = ?'),`,
    what: 'code exchange: an authorization code can be redeemed twice',
    tests: AS,
  },
  {
    id: 'as-refresh-foreign-client', file: 'src/stack/authserver/services/user-grants.ts',
    find: '  if (clientId !== family.client_id) throw invalidClient()\n',
    replace: '',
    what: "refresh: another client may rotate a client's refresh token (survivor of the first run)",
    tests: AS,
  },
  {
    id: 'as-refresh-reuse', file: 'src/stack/authserver/store/user-store.ts',
    find: `consumeRefresh: p('UPDATE refresh_tokens SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL'),`,
    replace: `consumeRefresh: p('UPDATE refresh_tokens SET consumed_at = ? WHERE id = ?'),`,
    what: 'refresh: a rotated refresh token works again (no reuse detection)',
    tests: AS,
  },
  {
    id: 'as-refresh-scope-widen', file: 'src/stack/authserver/services/user-grants.ts',
    find: '    if (asked.some((s) => !granted.includes(s))) throw scopeError()\n',
    replace: '',
    what: 'refresh: a scope wider than the grant (within the client ceiling) is issued',
    tests: AS,
  },
  {
    id: 'as-revoke-foreign-family', file: 'src/stack/authserver/services/revocation.ts',
    find: 'family !== undefined && family.client_id === caller.id && family.status',
    replace: 'family !== undefined && family.status',
    what: "revocation: any client may revoke another client's refresh token family",
    tests: AS,
  },
  // --- authorization server: consent ------------------------------------------------------------
  {
    id: 'as-consent-scope-grows', file: 'src/stack/authserver/services/authorize.ts',
    find: 'return grant !== undefined && words(scope).every((s) => grant.scopes.includes(s))',
    replace: 'return grant !== undefined && words(scope).some((s) => grant.scopes.includes(s))',
    what: 'authorize: consent is skipped when the scope grows beyond the consented one (survivor of the first run)',
    tests: AS,
  },
  {
    id: 'as-consent-any-grant', file: 'src/stack/authserver/services/authorize.ts',
    find: 'return grant !== undefined && words(scope).every((s) => grant.scopes.includes(s))',
    replace: 'return grant !== undefined',
    what: 'authorize: any earlier consent for the client and resource skips the consent page',
    tests: AS,
  },
  {
    id: 'as-consent-user-binding', file: 'src/stack/authserver/services/consent.ts',
    find: `  if (session.user_id === '' || session.user_id !== userId) return undefined\n`,
    replace: '',
    what: "consent: another signed-in user can complete someone's authorization session (R3-09)",
    tests: AS,
  },
  {
    id: 'as-consent-extra-scope', file: 'src/stack/authserver/api/pages/consent.ts',
    find: 'if (pending === undefined || approved.some((s) => !requested.includes(s))) {',
    replace: 'if (pending === undefined) {',
    what: 'consent: a posted scope the request never asked for is accepted',
    tests: AS,
  },
  {
    id: 'as-consent-csrf', file: 'src/stack/authserver/http/cookies.ts',
    find: 'return token !== undefined && equalStrings(token, this.consentCsrf(sessionCookieValue))',
    replace: 'return token !== undefined',
    what: 'consent: any csrf_token passes',
    tests: AS,
  },
  {
    id: 'as-login-csrf', file: 'src/stack/authserver/api/pages/login.ts',
    find: `if (nonce === undefined || !ctx.browser.checkLoginCsrf(nonce, value(form, 'csrf_token'))) {`,
    replace: 'if (nonce === undefined) {',
    what: 'login: the form CSRF token is not checked (login CSRF)',
    tests: AS,
  },
  {
    id: 'as-session-cookie-signature', file: 'src/stack/authserver/http/cookies.ts',
    find: `    if (!equalStrings(sig, this.mac('session', \`\${userId}|\${expiry}|\${sid}\`))) return undefined\n`,
    replace: '',
    what: 'browser session: a forged session cookie signs in as anyone',
    tests: AS,
  },
  {
    id: 'as-login-disabled-user', file: 'src/stack/authserver/api/pages/login.ts',
    find: `if (user === undefined || !passwordOk || user.status !== 'active') {`,
    replace: 'if (user === undefined || !passwordOk) {',
    what: 'login: a disabled user signs in',
    tests: AS,
  },
  // --- authorization server: safeRedirect, lockout -----------------------------------------------
  {
    id: 'as-safe-redirect-controls', file: 'src/stack/authserver/domain/redirect.ts',
    find: String.raw`!/^\/[\x21-\x7e]*$/.test(target)`,
    replace: String.raw`!/^\/[^\r\n]*$/.test(target)`,
    what: 'after sign-in: a redirect with TAB or other controls is followed (R3-03 open redirect)',
    tests: [...AS, 'faults/redirect-matrix'],
  },
  {
    id: 'as-safe-redirect-backslash', file: 'src/stack/authserver/domain/redirect.ts',
    find: String.raw`if (target.startsWith('//') || target.startsWith('/\\')) return fallback`,
    replace: `if (target.startsWith('//')) return fallback`,
    what: String.raw`after sign-in: /\evil.example (read as //evil.example) is followed`,
    tests: [...AS, 'faults/redirect-matrix'],
  },
  {
    id: 'as-lockout-off-by-one', file: 'src/stack/authserver/services/ratelimit.ts',
    find: '    if (s.count >= this.settings.authFailMax) {',
    replace: '    if (s.count > this.settings.authFailMax) {',
    what: 'lockout: one more failed login than configured before the lock',
    tests: AS,
  },
  {
    id: 'as-lockout-identity-case', file: 'src/stack/authserver/services/ratelimit.ts',
    find: '    return `${identity.trim().toLowerCase().slice(0, MAX_IDENTITY_LENGTH)}\\u0000${ip}`',
    replace: '    return `${identity.slice(0, MAX_IDENTITY_LENGTH)}\\u0000${ip}`',
    what: 'lockout: a locked e-mail is retried as Alice@… or with a space (identity not normalised)',
    tests: AS,
  },
  {
    id: 'as-lockout-forwarded-for', file: 'src/stack/authserver/http/request.ts',
    find: `  const a = req.socket.remoteAddress ?? ''`,
    replace: `  const a = String(req.headers['x-forwarded-for'] ?? req.socket.remoteAddress ?? '')`,
    what: 'lockout: the address is taken from X-Forwarded-For, so each guess can name a new one',
    tests: AS,
  },
  // --- authorization server: scope, audience, resource -------------------------------------------
  {
    id: 'as-cc-scope-ceiling', file: 'src/stack/authserver/services/client-credentials.ts',
    find: "    if (requested.some((s) => !ceiling.has(s))) throw new OAuthError(400, 'invalid_scope', scopeDenial(client, ceiling))\n",
    replace: '',
    what: "client_credentials: a scope beyond the client's registered scopes is issued",
    tests: AS,
  },
  {
    id: 'as-cc-resource-catalog', file: 'src/stack/authserver/services/client-credentials.ts',
    find: "        if (!catalog.includes(s)) throw new OAuthError(400, 'invalid_scope', `scope \"${s}\" is not declared by the target resource`)\n",
    replace: '',
    what: 'client_credentials: a scope the target resource does not declare is issued for it',
    tests: AS,
  },
  {
    id: 'as-cc-unregistered-resource', file: 'src/stack/authserver/services/client-credentials.ts',
    find: "    if (registered === undefined) throw new OAuthError(400, 'invalid_target', `resource \"${resource}\" is not a registered resource`)\n    audience = resource\n    catalog = registered.scopeNames",
    replace: '    audience = resource\n    catalog = registered?.scopeNames',
    what: 'client_credentials: a token is minted for any audience the caller names (RFC 8707)',
    tests: AS,
  },
  {
    id: 'as-authorize-resource-scope', file: 'src/stack/authserver/services/authorize.ts',
    find: '    for (const s of scope) if (!names.includes(s)) throw new ScopeError(`scope "${s}" not allowed for resource "${resource.uri}"`)\n',
    replace: '',
    what: 'authorize: a scope the resource does not declare is granted for it',
    tests: AS,
  },
  {
    id: 'as-grant-resource-switch', file: 'src/stack/authserver/services/user-grants.ts',
    find: "  throw new OAuthError(400, 'invalid_target', `resource \"${requested}\" was not authorized by this grant`)\n",
    replace: '',
    what: 'user grants: naming another registered resource than the one authorized is not refused',
    tests: AS,
  },
  // --- authorization server: DPoP at the token endpoint ------------------------------------------
  {
    id: 'as-dpop-htu-path', file: 'src/stack/authserver/services/dpop.ts',
    find: 'return x !== undefined && x.origin === htu.origin && x.path === htu.path',
    replace: 'return x !== undefined && x.origin === htu.origin',
    what: 'token endpoint DPoP: a proof made for another path of the server is accepted',
    tests: [...AS, 'authplane/dpop'],
  },
  {
    id: 'as-dpop-future-iat', file: 'src/stack/authserver/services/dpop.ts',
    find: 'Math.abs(Date.now() / 1000 - iat) > lifetimeSeconds',
    replace: 'Date.now() / 1000 - iat > lifetimeSeconds',
    what: 'token endpoint DPoP: a proof dated in the future (pre-made) is accepted',
    tests: [...AS, 'authplane/dpop'],
  },
  {
    id: 'as-dpop-typ', file: 'src/stack/authserver/services/dpop.ts',
    find: "if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') throw INVALID()",
    replace: "if (typeof header.typ !== 'string') throw INVALID()",
    what: 'token endpoint DPoP: a JWT that is not typed dpop+jwt (an access token, a plain JWT) is taken as a proof',
    tests: [...AS, 'authplane/dpop'],
  },
  {
    id: 'as-dpop-jti-replay', file: 'src/stack/authserver/store/dpop-store.ts',
    find: 'DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_jtis.expires_at <= ?',
    replace: 'DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_jtis.expires_at >= ?',
    what: 'token endpoint DPoP: a replayed proof (same jti, still live) is accepted again',
    tests: [...AS, 'authplane/dpop'],
  },
  // --- authorization server: CIMD address checks -------------------------------------------------
  {
    id: 'as-cimd-private-range', file: 'src/stack/authserver/store/cimd-fetcher.ts',
    find: "blockList([['10.0.0.0', 8], ['172.16.0.0', 12],",
    replace: "blockList([['10.0.0.0', 8], ['172.16.0.0', 16],",
    what: 'CIMD: a client_id URL on 172.17-31.x.x (private, a prefix length off) is fetched',
    tests: AS,
  },
  {
    id: 'as-cimd-resolved-address', file: 'src/stack/authserver/store/cimd-fetcher.ts',
    find: '...(this.settings.allowPrivateAddresses ? {} : {lookup: guardedLookup}),',
    replace: '...{},',
    what: 'CIMD: a host name that resolves to a private address is fetched (SSRF)',
    tests: AS,
  },
  {
    id: 'as-cimd-https', file: 'src/stack/authserver/store/cimd-fetcher.ts',
    find: "    if (this.settings.requireHttps && scheme !== 'https') throw new CimdError('fetch', `HTTPS required, got ${scheme}`)\n",
    replace: '',
    what: 'CIMD: an http:// metadata document is fetched while https is required',
    tests: AS,
  },

  // --- the tier-01 MCP server --------------------------------------------------------------------
  {
    id: 'mcp-audience', file: 'src/stack/mcp-server/auth.ts',
    find: '        audience: this.#opts.resource,\n',
    replace: '',
    what: "MCP server: a token for another resource (audience) is accepted",
    tests: MCP,
  },
  {
    id: 'mcp-issuer', file: 'src/stack/mcp-server/auth.ts',
    find: '        issuer: this.#opts.issuer,\n',
    replace: '',
    what: 'MCP server: the token iss is not checked',
    tests: MCP,
  },
  {
    id: 'mcp-metadata-issuer', file: 'src/stack/mcp-server/auth.ts',
    find: "    if (body['issuer'] !== this.#opts.issuer) {",
    replace: "    if (typeof body['issuer'] !== 'string') {",
    what: "MCP server: keys are taken from metadata that names another issuer",
    tests: MCP,
  },
  {
    id: 'mcp-signature-key-alg', file: 'src/stack/mcp-server/auth.ts',
    find: '    if (jwk.alg !== undefined && jwk.alg !== alg) {',
    replace: '    if (jwk.alg === undefined && jwk.alg !== alg) {',
    what: 'MCP server: a token whose alg differs from its key’s declared alg is verified',
    tests: MCP,
  },
  {
    id: 'mcp-revoked-key-cached', file: 'src/stack/mcp-server/auth.ts',
    find: "      if (!byKid.has(cacheKey.slice(cacheKey.indexOf('\\u0000') + 1))) this.#imported.delete(cacheKey)\n",
    replace: '',
    what: 'MCP server: a key withdrawn from the JWKS keeps verifying tokens (its imported copy stays cached)',
    tests: MCP,
  },
  {
    id: 'mcp-exp-tolerance', file: 'src/stack/mcp-server/auth.ts',
    find: '        clockTolerance: CLOCK_SKEW_SECONDS,',
    replace: '        clockTolerance: 10 * CLOCK_SKEW_SECONDS,',
    what: 'MCP server: a token expired five minutes ago still passes (skew tolerance too wide)',
    tests: MCP,
  },
  {
    id: 'mcp-exp-required', file: 'src/stack/mcp-server/auth.ts',
    find: "    if (typeof payload.exp !== 'number') throw invalid('token has no exp claim')\n",
    replace: '',
    what: 'MCP server: a token without exp (valid forever) is accepted',
    tests: MCP,
  },
  {
    id: 'mcp-required-scope', file: 'src/stack/mcp-server/auth.ts',
    find: '    if (!scopes.includes(this.#opts.requiredScope)) {',
    replace: '    if (scopes.length === 0) {',
    what: 'MCP server: a token with any scope passes the required-scope check',
    tests: MCP,
  },
  {
    id: 'mcp-tool-scope', file: 'src/stack/mcp-server/index.ts',
    find: '      if (needed === undefined || principal.scopes.includes(needed)) continue',
    replace: '      if (needed === undefined || principal.scopes.length > 0) continue',
    what: 'MCP server: a per-tool scope is not enforced',
    tests: MCP,
  },
  {
    id: 'mcp-dpop-cnf-off', file: 'src/stack/mcp-server/auth.ts',
    find: "      if (cnf !== undefined) throw invalid('token is sender-constrained (cnf claim); this resource accepts only plain Bearer tokens')\n",
    replace: '',
    what: 'MCP server (DPoP off): a DPoP-bound token is accepted as a bearer token',
    tests: MCP,
  },
  {
    id: 'mcp-dpop-no-proof', file: 'src/stack/mcp-server/auth.ts',
    find: '    if (dpopHeader === undefined) {\n      throw invalidDpop(',
    replace: '    if (dpopHeader === undefined && scheme === \'DPoP\') {\n      throw invalidDpop(',
    what: 'MCP server: a DPoP-bound token sent as Bearer without a proof is accepted',
    tests: MCP,
  },
  {
    id: 'mcp-dpop-jkt', file: 'src/stack/mcp-server/dpop.ts',
    find: "    if ((await calculateJwkThumbprint(jwk, 'sha256')) !== check.jkt) {",
    replace: "    if ((await calculateJwkThumbprint(jwk, 'sha256')) === '') {",
    what: "MCP server: a proof signed by another key than the token's cnf.jkt is accepted",
    tests: MCP,
  },
  {
    id: 'mcp-dpop-ath', file: 'src/stack/mcp-server/dpop.ts',
    find: "    if (ath !== accessTokenHash(check.accessToken)) throw proofError('DPoP proof ath does not match the access token')\n",
    replace: '',
    what: 'MCP server: a proof made for another access token (ath) is accepted',
    tests: MCP,
  },
  {
    id: 'mcp-dpop-age', file: 'src/stack/mcp-server/dpop.ts',
    find: '    if (now - iat > this.#maxAge + this.#skew) {',
    replace: '    if (now - iat > this.#maxAge + 2 * this.#skew) {',
    what: 'MCP server: a proof older than 330 s (300 s plus 30 s of skew) is accepted',
    tests: MCP,
  },
  {
    id: 'mcp-dpop-htu', file: 'src/stack/mcp-server/dpop.ts',
    find: "  return `${url.protocol}//${url.host}${url.pathname || '/'}`",
    replace: '  return `${url.protocol}//${url.host}/`',
    what: 'MCP server: a proof made for another path (htu) of the host is accepted',
    tests: MCP,
  },
  {
    id: 'mcp-dpop-htm', file: 'src/stack/mcp-server/dpop.ts',
    find: '    if (htm !== check.method) throw proofError(',
    replace: "    if (htm === '') throw proofError(",
    what: 'MCP server: a proof made for another method (htm) is accepted',
    tests: MCP,
  },
  {
    id: 'mcp-dpop-replay', file: 'src/stack/mcp-server/dpop.ts',
    find: '    if (known !== undefined && known > now) return false',
    replace: '    if (known !== undefined && known < now) return false',
    what: 'MCP server: a replayed proof (same jti) is accepted within its window',
    tests: MCP,
  },
  {
    id: 'mcp-host-guard', file: 'src/stack/mcp-server/host-guard.ts',
    find: "    if (!allowed.has(authority)) return {header: 'Host', message: `Host ${printable(host)} is not allowed`}\n",
    replace: '',
    what: 'MCP server: any Host header passes (DNS rebinding)',
    tests: MCP,
  },
  {
    id: 'mcp-origin-guard', file: 'src/stack/mcp-server/host-guard.ts',
    find: '      (isLoopbackHostname(url.hostname) || allowed.has(url.host))',
    replace: '      (isLoopbackHostname(url.hostname) || allowed.has(url.host) || url.protocol === \'https:\')',
    what: 'MCP server: a foreign https Origin passes the origin check',
    tests: MCP,
  },

  // --- the client side: the SDK layer ------------------------------------------------------------
  {
    id: 'sdk-https-issuer-http-endpoints', file: 'src/authplane/client.ts',
    find: "options.allowInsecureHttp ?? (issuerUrl.protocol === 'http:' && LOOPBACK_HOSTS.has(issuerUrl.hostname))",
    replace: 'options.allowInsecureHttp ?? LOOPBACK_HOSTS.has(issuerUrl.hostname)',
    what: 'SDK: an https localhost issuer may announce http token and JWKS endpoints (survivor of the first run)',
    tests: SDK,
  },
  {
    id: 'sdk-http-endpoint-always', file: 'src/authplane/client.ts',
    find: '  if (url.protocol === \'http:\') {\n    if (allowInsecureHttp) return',
    replace: '  if (url.protocol === \'http:\') {\n    return',
    what: 'SDK: http token or JWKS endpoints are accepted from any issuer',
    tests: SDK,
  },
  {
    id: 'sdk-http-issuer', file: 'src/authplane/client.ts',
    find: "  if (issuerUrl.protocol === 'http:' && !allowInsecureHttp) {",
    replace: "  if (issuerUrl.protocol === 'http:' && allowInsecureHttp === undefined) {",
    what: 'SDK: an http issuer on a public host is used',
    tests: SDK,
  },
  {
    id: 'sdk-issuer-mismatch', file: 'src/authplane/client.ts',
    find: "    if (!sameIssuer(document['issuer'], settings.issuer)) {",
    replace: "    if (typeof document['issuer'] !== 'string') {",
    what: 'SDK: metadata announcing another issuer is trusted (mix-up)',
    tests: SDK,
  },
  {
    id: 'sdk-issuer-slashes', file: 'src/authplane/issuer.ts',
    find: "  return issuer.endsWith('/') ? issuer.slice(0, -1) : issuer",
    replace: "  return issuer.replace(/\\/+$/, '')",
    what: 'SDK: issuers that differ by more than one trailing slash are taken as the same',
    tests: SDK,
  },

  // --- the client side: HAR redaction and the terminal rule --------------------------------------
  {
    id: 'redact-client-secret', file: 'src/http/redact.ts',
    find: "  client_secret: 'client-secret',\n",
    replace: '',
    what: 'HAR: a client_secret field is written when the secret was not known beforehand (survivor of the first run)',
    tests: TRACE,
  },
  {
    id: 'redact-password', file: 'src/http/redact.ts',
    find: "  password: 'password',\n",
    replace: '',
    what: "HAR: the user's password is written in clear (R3-01)",
    tests: TRACE,
  },
  {
    id: 'redact-refresh-token', file: 'src/http/redact.ts',
    find: "  refresh_token: 'refresh-token',\n",
    replace: '',
    what: 'HAR: refresh tokens are written in clear',
    tests: TRACE,
  },
  {
    id: 'redact-code-verifier', file: 'src/http/redact.ts',
    find: "  code_verifier: 'secret',\n",
    replace: '',
    what: 'HAR: the PKCE code_verifier is written in clear',
    tests: TRACE,
  },
  {
    id: 'redact-basic-secret', file: 'src/http/redact.ts',
    find: "          this.add(safeDecode(decoded.slice(colon + 1)), 'client-secret')\n",
    replace: '',
    what: 'HAR: a client secret sent by HTTP Basic is not learned, so it stays in clear elsewhere',
    tests: TRACE,
  },
  {
    id: 'terminal-c1', file: 'src/terminal-text.ts',
    find: String.raw`const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028`,
    replace: String.raw`const UNSAFE = /[\u0000-\u001f\u007f\u2028`,
    what: 'terminal: C1 controls (U+009B single-character CSI) reach the terminal raw',
    tests: TERMINAL,
  },
  {
    id: 'terminal-block-cr', file: 'src/terminal-text.ts',
    find: String.raw`const UNSAFE_IN_BLOCK = /[\u0000-\u0008\u000b-\u001f`,
    replace: String.raw`const UNSAFE_IN_BLOCK = /[\u0000-\u0008\u000e-\u001f`,
    what: 'terminal: a tool result may carry CR (overwrite a line) and other C0 controls raw',
    tests: TERMINAL,
  },
  {
    id: 'terminal-safe-keys', file: 'src/terminal-text.ts',
    find: '    for (const [k, v] of Object.entries(value)) out[terminalLine(k)] = terminalSafe(v)',
    replace: '    for (const [k, v] of Object.entries(value)) out[k] = terminalSafe(v)',
    what: 'terminal: object keys of a server result are shown raw',
    tests: TERMINAL,
  },
]

// --- the run -------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = {only: undefined, list: false, timeout: 600, keep: false, baseline: true, markdown: false}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--only') o.only = next().split(',').map((s) => s.trim()).filter(Boolean)
    else if (a.startsWith('--only=')) o.only = a.slice(7).split(',').map((s) => s.trim()).filter(Boolean)
    else if (a === '--list') o.list = true
    else if (a === '--keep') o.keep = true
    else if (a === '--no-baseline') o.baseline = false
    else if (a === '--markdown') o.markdown = true
    else if (a === '--timeout') o.timeout = Number(next())
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 12).join('\n').replace(/^\/\/ ?/gm, ''))
      process.exit(0)
    } else fail(`unknown option ${a} (--only id,...  --list  --timeout <s>  --keep  --no-baseline  --markdown)`)
  }
  if (!(o.timeout > 0)) fail('--timeout must be a positive number of seconds')
  return o
}

function fail(message) {
  console.error(`mutants: ${message}`)
  process.exit(2)
}

function occurrences(text, find) {
  let n = 0
  for (let i = text.indexOf(find); i !== -1; i = text.indexOf(find, i + 1)) n++
  return n
}

/** Every problem that would make a mutant test nothing: its file, its find string, its id. */
function checkArmed(mutants, root) {
  const problems = []
  const ids = new Set()
  for (const m of mutants) {
    if (ids.has(m.id)) problems.push(`${m.id}: the id is used twice`)
    ids.add(m.id)
    if (m.find === m.replace) problems.push(`${m.id}: find and replace are the same`)
    if (!Array.isArray(m.tests) || m.tests.length === 0) problems.push(`${m.id}: names no tests`)
    const path = join(root, m.file)
    if (!existsSync(path)) {
      problems.push(`${m.id}: ${m.file} does not exist`)
      continue
    }
    const n = occurrences(readFileSync(path, 'utf8'), m.find)
    if (n !== 1) problems.push(`${m.id}: its find string occurs ${n} times in ${m.file} (must be exactly once): ${JSON.stringify(m.find.length > 90 ? `${m.find.slice(0, 87)}...` : m.find)}`)
  }
  return problems
}

let scratch
let child
let keep = false

function cleanup() {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  if (scratch !== undefined && !keep) rmSync(scratch, {recursive: true, force: true})
  else if (scratch !== undefined) console.error(`mutants: the scratch copy is kept at ${scratch}`)
  scratch = undefined
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\nmutants: ${sig}: stopping; the checkout was never changed, the scratch copy is removed`)
    cleanup()
    process.exit(sig === 'SIGINT' ? 130 : 143)
  })
}
process.on('exit', cleanup)

/** Runs a command in its own process group (so a timeout or Ctrl-C ends everything it started). */
function run(cmd, args, {cwd, timeoutMs}) {
  return new Promise((resolve) => {
    const started = Date.now()
    let output = ''
    let timedOut = false
    child = spawn(cmd, args, {cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, FORCE_COLOR: '0', NO_COLOR: '1'}})
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, output, timedOut, seconds: (Date.now() - started) / 1000})
    })
  })
}

/** The copy the mutants are applied to: the checkout's tracked and untracked files as on disk, node_modules linked. */
function makeScratch() {
  const dir = mkdtempSync(join(tmpdir(), 'ap-demo-mutants-'))
  scratch = dir
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  if (listed.status !== 0) fail(`git ls-files failed: ${listed.stderr}`)
  for (const rel of new Set(listed.stdout.split('\0').filter(Boolean))) {
    const from = join(ROOT, rel)
    if (!existsSync(from) || lstatSync(from).isDirectory()) continue
    mkdirSync(dirname(join(dir, rel)), {recursive: true})
    cpSync(from, join(dir, rel), {preserveTimestamps: true, verbatimSymlinks: true})
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return dir
}

/** The test source file whose text holds a test's title (quoted as written there), for the report. */
function whereTitled(dir, names) {
  const sources = readdirSync(join(dir, 'test'), {recursive: true, encoding: 'utf8'})
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => ({file: `test/${f}`, text: readFileSync(join(dir, 'test', f), 'utf8')}))
  return names.map((name) => {
    const forms = [name, name.replace(/'/g, "\\'"), name.replace(/"/g, '\\"')]
    const hit = sources.find((s) => forms.some((f) => s.text.includes(`'${f}'`) || s.text.includes(`"${f}"`) || s.text.includes(`\`${f}\``)))
    return hit === undefined ? name : `${hit.file}: ${name}`
  })
}

function testFiles(dir) {
  return readdirSync(join(dir, 'dist', 'test'), {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.test.js'))
}

/** The failing tests of a node:test TAP report, innermost first ("not ok" lines that have no failing child). */
function failingTests(output) {
  const results = []
  for (const line of output.split('\n')) {
    const m = /^(\s*)(not ok|ok) \d+ - (.*?)(?: # .*)?$/.exec(line)
    if (m) results.push({indent: m[1].length, ok: m[2] === 'ok', name: m[3]})
  }
  const leaves = []
  for (let i = 0; i < results.length; i++) {
    const r = results[i]
    if (r.ok) continue
    let hasFailingChild = false
    for (let j = i - 1; j >= 0 && results[j].indent > r.indent; j--) if (!results[j].ok) hasFailingChild = true
    if (!hasFailingChild) leaves.push(r.name.replace(/^.*\/dist\/test\//, ''))
  }
  // Node 23 and later print the spec reporter whatever the output is: its failure marks, suites too.
  if (results.length === 0) {
    for (const line of output.split('\n')) {
      const m = /^\s*\u2716 (.*?) \(\d+(?:\.\d+)?ms\)$/.exec(line)
      if (m) leaves.push(m[1])
    }
  }
  return [...new Set(leaves)]
}

function compiler(dir) {
  const ts = createRequire(join(dir, 'package.json'))('typescript')
  const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), {}, {...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(String(d.messageText))})
  // NodeNext takes the module format from package.json, which transpileModule cannot see; this
  // package is ESM ("type": "module"), which ES2022 emits the same way.
  const options = {...parsed.options, module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler}
  return (source, fileName) => {
    const out = ts.transpileModule(source, {compilerOptions: options, fileName})
    return {js: out.outputText, map: out.sourceMapText}
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  keep = o.keep
  let selected = MUTANTS
  if (o.only !== undefined) {
    const unknown = o.only.filter((id) => !MUTANTS.some((m) => m.id === id))
    if (unknown.length > 0) fail(`no mutant ${unknown.join(', ')} (npm run mutants -- --list)`)
    selected = MUTANTS.filter((m) => o.only.includes(m.id))
  }
  const problems = checkArmed(o.list ? MUTANTS : selected, ROOT)
  if (o.list) {
    for (const m of MUTANTS) console.log(`${m.id.padEnd(34)} ${m.file.replace(/^src\//, '').padEnd(40)} ${m.what}\n${''.padEnd(34)} tests: ${m.tests.join(' ')}`)
    console.log(`\n${MUTANTS.length} mutants`)
  }
  if (problems.length > 0) fail(`disarmed mutants (fix the find strings after a refactor):\n  ${problems.join('\n  ')}`)
  if (o.list) return

  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).stdout.trim()
  const dirty = spawnSync('git', ['status', '--porcelain'], {cwd: ROOT, encoding: 'utf8'}).stdout.trim() !== ''
  const began = Date.now()
  console.log(`mutants: ${selected.length} mutants on ${head}${dirty ? ' with uncommitted changes' : ''}, node ${process.version}`)
  const dir = makeScratch()
  console.log(`mutants: scratch copy ${dir}; building it (tsc, bundle)`)
  for (const [cmd, args] of [[process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']], [process.execPath, ['scripts/bundle.mjs']]]) {
    const r = await run(cmd, args, {cwd: dir})
    if (r.code !== 0) fail(`the build of the scratch copy failed:\n${r.output}`)
  }

  const files = testFiles(dir)
  const unmatched = [...new Set(selected.flatMap((m) => m.tests))].filter((t) => !files.some((f) => f.includes(t)))
  // scripts/test.mjs runs every test file when none matches: that must not pass for a target.
  if (unmatched.length > 0) fail(`test substrings that match no file under dist/test: ${unmatched.join(', ')}`)

  const testRun = (substrings) => run(process.execPath, ['scripts/test.mjs', ...substrings], {cwd: dir, timeoutMs: o.timeout * 1000})
  if (o.baseline) {
    const all = [...new Set(selected.flatMap((m) => m.tests))]
    console.log(`mutants: baseline: the unmutated code against ${all.join(' ')}`)
    const r = await testRun(all)
    if (r.code !== 0) fail(`the tests fail without any mutant (${r.timedOut ? 'timed out' : `exit ${r.code}`}), so a kill would mean nothing:\n  ${failingTests(r.output).join('\n  ') || r.output.slice(-3000)}`)
    console.log(`mutants: baseline passed in ${r.seconds.toFixed(0)} s`)
  }

  const transpile = compiler(dir)
  const results = []
  for (const [n, m] of selected.entries()) {
    const tsPath = join(dir, m.file)
    const jsPath = join(dir, 'dist', m.file.replace(/\.ts$/, '.js'))
    const mapPath = `${jsPath}.map`
    const original = {ts: readFileSync(tsPath, 'utf8'), js: readFileSync(jsPath, 'utf8'), map: existsSync(mapPath) ? readFileSync(mapPath, 'utf8') : undefined}
    const label = `[${String(n + 1).padStart(2)}/${selected.length}] ${m.id}`
    let result
    try {
      if (occurrences(original.ts, m.find) !== 1) throw new Error('the find string is not in the scratch copy exactly once')
      const mutated = original.ts.replace(m.find, () => m.replace)
      writeFileSync(tsPath, mutated)
      if (transpile(original.ts, tsPath).js === original.js) {
        const out = transpile(mutated, tsPath)
        if (out.js === original.js) throw new Error('the mutant compiles to the same JavaScript (it changes nothing)')
        writeFileSync(jsPath, out.js)
        if (out.map !== undefined) writeFileSync(mapPath, out.map)
      } else {
        // Emit that transpileModule cannot reproduce (say, a const enum): tsc compiles the project.
        const r = await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {cwd: dir})
        if (readFileSync(jsPath, 'utf8') === original.js) throw new Error(`tsc did not emit a changed ${m.file}: ${r.output.slice(-2000)}`)
      }
      const bundled = await run(process.execPath, ['scripts/bundle.mjs'], {cwd: dir})
      if (bundled.code !== 0) throw new Error(`the bundle failed: ${bundled.output.slice(-2000)}`)
      const r = await testRun(m.tests)
      const failed = whereTitled(dir, failingTests(r.output))
      if (r.timedOut) result = {status: 'killed', by: [`(timed out after ${o.timeout} s)`], seconds: r.seconds}
      else if (r.code === 0) result = {status: 'SURVIVED', by: [], seconds: r.seconds}
      else result = {status: 'killed', by: failed.length > 0 ? failed : [`(exit ${r.code}) ${r.output.trim().split('\n').slice(-3).join(' ')}`], seconds: r.seconds}
    } catch (err) {
      result = {status: 'ERROR', by: [err.message], seconds: 0}
    } finally {
      writeFileSync(tsPath, original.ts)
      writeFileSync(jsPath, original.js)
      if (original.map !== undefined) writeFileSync(mapPath, original.map)
    }
    results.push({mutant: m, ...result})
    const by = result.by.length > 0 ? `: ${result.by.slice(0, 2).join(' | ')}${result.by.length > 2 ? ` (+${result.by.length - 2} more)` : ''}` : ''
    console.log(`${label} ${result.status} (${result.seconds.toFixed(0)} s)${by}`)
  }

  const killed = results.filter((r) => r.status === 'killed').length
  const survived = results.filter((r) => r.status === 'SURVIVED')
  const errors = results.filter((r) => r.status === 'ERROR')
  const minutes = ((Date.now() - began) / 60000).toFixed(1)
  console.log('\n' + table(results, o.markdown))
  console.log(`\n${killed} of ${results.length} mutants killed, ${survived.length} survived${errors.length > 0 ? `, ${errors.length} could not be built` : ''} (${minutes} min, ${new Date().toISOString().slice(0, 10)}, ${head}${dirty ? '+changes' : ''})`)
  for (const r of survived) console.log(`  survived: ${r.mutant.id} (${r.mutant.file}): ${r.mutant.what}`)
  for (const r of errors) console.log(`  error: ${r.mutant.id}: ${r.by[0]}`)
  process.exitCode = survived.length + errors.length > 0 ? 1 : 0
}

function table(results, markdown) {
  const rows = results.map((r) => [r.mutant.id, r.status, r.by[0] ?? '', r.by.length > 1 ? `+${r.by.length - 1}` : ''])
  if (markdown) {
    return ['| mutant | what it breaks | result | first failing test |', '|---|---|---|---|',
      ...results.map((r) => `| \`${r.mutant.id}\` | ${r.mutant.what.replace(/\|/g, '\\|')} | ${r.status} | ${(r.by[0] ?? '').replace(/\|/g, '\\|')}${r.by.length > 1 ? ` (+${r.by.length - 1})` : ''} |`)].join('\n')
  }
  const w = [Math.max(6, ...rows.map((r) => r[0].length)), 8]
  const cut = (s, n) => (s.length > n ? `${s.slice(0, n - 3)}...` : s)
  return [`${'mutant'.padEnd(w[0])}  ${'result'.padEnd(w[1])}  killed by (first failing test)`, ...rows.map((r) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${cut(r[2], 100)}${r[3] ? ` (${r[3]})` : ''}`)].join('\n')
}

await main()
