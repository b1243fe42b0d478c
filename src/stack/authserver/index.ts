import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {MAX_TOKEN_TTL_SECONDS, type AuthServerHandle, type AuthServerOptions} from '../types.js'
import {adminHandler} from './api/admin/index.js'
import {publicHandler} from './api/public.js'
import {DCR_MODES} from './domain/client.js'
import {adminKeyProblem, AuthServerConfigError} from './domain/config.js'
import {BrowserSessions} from './http/cookies.js'
import {urlHost} from './http/request.js'
import {ProblemError} from './http/respond.js'
import type {ServerContext} from './services/context.js'
import {DpopState, dpopSettings} from './services/dpop.js'
import {AuthLockout, RateLimiter, rateLimitSettings} from './services/ratelimit.js'
import {AccessTokenMinter} from './services/tokens.js'
import {createUser} from './services/users.js'
import {openStackDatabase} from './store/db-file.js'
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
  const ttl = opts.tokenTtlSeconds ?? 3600
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TOKEN_TTL_SECONDS) throw new RangeError(`tokenTtlSeconds must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS} (got ${ttl})`)
  // The real server's boot checks, before anything is opened or bound. The default issuer's
  // host decides "localhost" the same way whatever port is bound later.
  const keyProblem = adminKeyProblem(opts.adminKey, opts.issuer ?? `http://${WILDCARD_HOSTS.has(host) ? 'localhost' : urlHost(host)}:0`)
  if (keyProblem !== undefined) throw new AuthServerConfigError(keyProblem)
  const limits = rateLimitSettings(opts.rateLimit)
  const dpop = new DpopState(dpopSettings(opts.dpop))
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
      // Signs session cookies and CSRF tokens; kept on disk so a restart does not sign everyone out.
      browser: new BrowserSessions(loadOrCreateSecretFile(opts.dataDir, 'session.key', 32)),
      signer,
      minter: undefined as unknown as AccessTokenMinter,
      adminKey: opts.adminKey,
      issuer: opts.issuer ?? '',
      publicUrl: '',
      tokenTtlSeconds: ttl,
      corsOrigins: [...(opts.corsOrigins ?? [])],
      dcr,
      dpop,
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
