import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {MAX_REFRESH_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS, type AuthServerHandle, type AuthServerOptions} from '../types.js'
import {adminHandler} from './api/admin/index.js'
import {publicHandler} from './api/public.js'
import {DCR_MODES} from './domain/client.js'
import {adminKeyProblem, AuthServerConfigError, cimdProblems, sessionProblems} from './domain/config.js'
import {BrowserSessions} from './http/cookies.js'
import {urlHost} from './http/request.js'
import {ProblemError} from './http/respond.js'
import type {ServerContext} from './services/context.js'
import {DpopState, dpopSettings} from './services/dpop.js'
import {AuthLockout, RateLimiter, rateLimitSettings} from './services/ratelimit.js'
import {AccessTokenMinter} from './services/tokens.js'
import {createUser} from './services/users.js'
import {CimdFetcher, type CimdFetchSettings} from './store/cimd-fetcher.js'
import {openStackDatabase} from './store/db-file.js'
import {DpopStore} from './store/dpop-store.js'
import {ensurePrivateDir} from './store/files.js'
import {JwtSigner, loadOrCreateSigningKey} from './store/keys.js'
import {loadOrCreatePepper, loadOrCreateSecretFile, SecretHasher} from './store/secrets.js'
import {Store} from './store/store.js'
import {UserStore} from './store/user-store.js'

export {AuthServerConfigError} from './domain/config.js'
export {signBenchmarkToken} from './services/tokens.js'

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', ''])

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening)
      reject(err)
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
    // Keep-alive sockets would otherwise hold close() open until their idle timeout.
    server.closeAllConnections()
  })
}

/** Base URL to reach a bound port: a wildcard bind is reached through loopback. */
function reachableUrl(host: string, port: number): string {
  if (WILDCARD_HOSTS.has(host)) return `http://${host.includes(':') ? '[::1]' : '127.0.0.1'}:${port}`
  return `http://${urlHost(host)}:${port}`
}

function makeServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({keepAliveTimeout: 5_000}, handler)
  // A malformed request must never take the process down; Node answers 400 and closes the socket.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })
  return server
}

/** The real server's `dcr.default_token_expiry` and `dcr.default_refresh_expiry` (15 minutes, 7 days). */
const DEFAULT_USER_TOKEN_TTL_SECONDS = 900
const DEFAULT_REFRESH_TTL_SECONDS = 7 * 86_400

/** A lifetime in whole seconds from 1 to `max`, or the default. */
function lifetime(name: string, value: number | undefined, def: number, max: number): number {
  const v = value ?? def
  if (!Number.isInteger(v) || v <= 0 || v > max) throw new AuthServerConfigError(`${name} must be an integer from 1 to ${max} seconds (got ${v})`)
  return v
}

/** The real server's `cimd.*` defaults (internal/config/loader.go): on, https only, no private addresses, 1 h cache, 10 s fetches. */
function cimdSettings(c: AuthServerOptions['cimd']): CimdFetchSettings & {enabled: boolean} {
  const s = {enabled: true, requireHttps: true, allowPrivateAddresses: false, cacheTtlSeconds: 3600, fetchTimeoutSeconds: 10, ...c}
  for (const [name, v] of [['cimd.cache_ttl', s.cacheTtlSeconds], ['cimd.fetch_timeout', s.fetchTimeoutSeconds]] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw new AuthServerConfigError(`${name} must be positive (got ${v})`)
  }
  return s
}

function dcrSettings(opts: AuthServerOptions): ServerContext['dcr'] {
  const mode = opts.dcrMode ?? 'open'
  if (!DCR_MODES.includes(mode)) throw new AuthServerConfigError(`dcrMode must be one of ${DCR_MODES.join(', ')} (got ${String(mode)})`)
  const approvedRedirects = [...(opts.dcrApprovedRedirects ?? [])]
  // The real server refuses to boot with this combination (internal/config/validate.go).
  if (mode === 'approved_redirects' && approvedRedirects.length === 0) {
    throw new AuthServerConfigError('dcr.approved_redirects must not be empty when dcr.mode is approved_redirects')
  }
  return {mode, approvedRedirects}
}

/**
 * Starts the embedded Authplane-compatible authorization server: the public (issuer) port and
 * the admin port. Rejects with the original listen error (it carries `.code` and `.port`).
 */
export async function startAuthServer(opts: AuthServerOptions): Promise<AuthServerHandle> {
  const host = opts.host ?? '127.0.0.1'
  const ttl = lifetime('tokenTtlSeconds', opts.tokenTtlSeconds, 3600, MAX_TOKEN_TTL_SECONDS)
  const userTtl = lifetime('userTokenTtlSeconds (dcr.default_token_expiry)', opts.userTokenTtlSeconds, DEFAULT_USER_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS)
  const refreshTtl = lifetime('refreshTokenTtlSeconds (dcr.default_refresh_expiry)', opts.refreshTokenTtlSeconds, DEFAULT_REFRESH_TTL_SECONDS, MAX_REFRESH_TTL_SECONDS)
  // The real server's boot checks, before anything is opened or bound. The default issuer's
  // host decides "localhost" the same way whatever port is bound later.
  const issuerForRules = opts.issuer ?? `http://${WILDCARD_HOSTS.has(host) ? 'localhost' : urlHost(host)}:0`
  const keyProblem = adminKeyProblem(opts.adminKey, issuerForRules)
  if (keyProblem !== undefined) throw new AuthServerConfigError(keyProblem)
  const session = {secret: opts.session?.secret ?? '', secure: opts.session?.secure ?? false}
  const cimd = cimdSettings(opts.cimd)
  const bootProblems = [...sessionProblems(issuerForRules, session.secret, session.secure), ...cimdProblems(issuerForRules, cimd)]
  if (bootProblems.length > 0) throw new AuthServerConfigError(bootProblems.join('; '))
  const limits = rateLimitSettings(opts.rateLimit)
  const dpopConfig = dpopSettings(opts.dpop)
  const dcr = dcrSettings(opts)
  const adminLimit = opts.adminRateLimit
  if (adminLimit !== undefined && !(adminLimit.requestsPerSecond > 0 && adminLimit.burst > 0)) {
    throw new AuthServerConfigError('adminRateLimit needs requestsPerSecond > 0 and burst > 0 (omit it to leave the admin port unlimited)')
  }
  if (opts.dataDir !== undefined) ensurePrivateDir(opts.dataDir)

  const db = openStackDatabase(opts.dataDir)
  const store = new Store(db)
  let pub: Server | undefined
  let admin: Server | undefined
  try {
    // The pepper first: when it refuses to start, no new signing key may have been written.
    const hasher = new SecretHasher(loadOrCreatePepper(opts.dataDir, db))
    const signingKey = loadOrCreateSigningKey(opts.dataDir, db)
    const signer = new JwtSigner(signingKey.key)
    // Expired token rows only matter to introspection, which treats them as inactive anyway.
    store.purgeExpired(Math.floor(Date.now() / 1000) - 86_400)
    const users = new UserStore(db)
    users.purgeSessions(Math.floor(Date.now() / 1000) - 86_400)
    const ctx: ServerContext = {
      store,
      hasher,
      users,
      // Signs session cookies and CSRF tokens: the configured session secret, else a key kept on
      // disk so a restart does not sign everyone out.
      browser: new BrowserSessions(session.secret !== '' ? Buffer.from(session.secret, 'utf8') : loadOrCreateSecretFile(opts.dataDir, 'session.key', 32), session.secure),
      signer,
      minter: undefined as unknown as AccessTokenMinter,
      adminKey: opts.adminKey,
      issuer: opts.issuer ?? '',
      publicUrl: '',
      tokenTtlSeconds: ttl,
      userTokenTtlSeconds: userTtl,
      refreshTokenTtlSeconds: refreshTtl,
      oauth: {requireScope: opts.requireScope ?? true},
      cimd: cimd.enabled ? {fetcher: new CimdFetcher(cimd)} : undefined,
      corsOrigins: [...(opts.corsOrigins ?? [])],
      dcr,
      dpop: new DpopState(dpopConfig, new DpopStore(db)),
      limits: {
        public: limits.enabled ? new RateLimiter(limits.requestsPerSecond, limits.burst) : undefined,
        admin: adminLimit === undefined ? undefined : new RateLimiter(adminLimit.requestsPerSecond, adminLimit.burst),
        lockout: new AuthLockout(limits),
      },
      stats: {tokenRequests: 0, tokensIssued: 0},
    }
    ctx.minter = new AccessTokenMinter(signer, () => ctx.issuer, ttl)

    pub = makeServer(publicHandler(ctx))
    const publicPort = await listen(pub, opts.port ?? 9000, host)
    ctx.publicUrl = reachableUrl(host, publicPort)
    if (opts.issuer === undefined) {
      ctx.issuer = `http://${WILDCARD_HOSTS.has(host) ? 'localhost' : urlHost(host)}:${publicPort}`
    }
    admin = makeServer(adminHandler(ctx))
    const adminPort = await listen(admin, opts.adminPort ?? 9001, host)

    let stopping: Promise<void> | undefined
    const servers = [pub, admin]
    return {
      issuer: ctx.issuer,
      publicUrl: ctx.publicUrl,
      adminUrl: reachableUrl(host, adminPort),
      stats: () => ({...ctx.stats}),
      notices: signingKey.replaced ? [{code: 'signing_key_replaced', ...signingKey.replaced, lastExpiry: signingKey.replaced.lastExpiry.toISOString()}] : [],
      ensureUser: async (email, password) => {
        const existing = users.userByEmail(email)
        if (existing !== undefined) return {id: existing.id, created: false}
        try {
          return {id: (await createUser(ctx, {email, password})).id, created: true}
        } catch (err) {
          if (err instanceof ProblemError) throw new Error(err.detail)
          throw err
        }
      },
      stop: () => {
        stopping ??= Promise.all(servers.map(close)).then(() => store.close())
        return stopping
      },
    }
  } catch (err) {
    await Promise.all([pub, admin].filter((s): s is Server => s !== undefined).map(close))
    store.close()
    throw err
  }
}
