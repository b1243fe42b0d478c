import type {DcrMode} from '../domain/client.js'
import type {BrowserSessions} from '../http/cookies.js'
import type {JwtSigner} from '../store/keys.js'
import type {SecretHasher} from '../store/secrets.js'
import type {CimdFetcher} from '../store/cimd-fetcher.js'
import type {Store} from '../store/store.js'
import type {UserStore} from '../store/user-store.js'
import type {DpopState} from './dpop.js'
import type {AuthLockout, RateLimiter} from './ratelimit.js'
import type {AccessTokenMinter} from './tokens.js'

/** What the request handlers of both ports share. */
export interface ServerContext {
  store: Store
  /** Users, authorization sessions, consent grants and refresh-token families (the browser flow). */
  users: UserStore
  /** Session cookies, CSRF tokens and the login lockout of the browser flow. */
  browser: BrowserSessions
  hasher: SecretHasher
  signer: JwtSigner
  minter: AccessTokenMinter
  adminKey: string
  /** Set once the public port is bound (the default issuer contains the bound port). */
  issuer: string
  /** Base URL the public port is reachable at; DPoP `htu` may name it instead of the issuer. */
  publicUrl: string
  /** Lifetime of client_credentials access tokens (`client_credentials.token_expiry`). */
  tokenTtlSeconds: number
  /** Lifetime of the user grants' access tokens (`dcr.default_token_expiry`). */
  userTokenTtlSeconds: number
  /** Lifetime of refresh tokens (`dcr.default_refresh_expiry`). */
  refreshTokenTtlSeconds: number
  /** `oauth.require_scope`: an authorization request must name its scope. */
  oauth: {requireScope: boolean}
  /** Client ID Metadata Documents; undefined when CIMD is off. */
  cimd: {fetcher: CimdFetcher} | undefined
  /** Origins allowed by CORS on the endpoints browser-based clients call (none: no CORS headers). */
  corsOrigins: string[]
  /** Dynamic client registration policy; the mode can change at runtime (PATCH /admin/settings/dcr). */
  dcr: {mode: DcrMode; approvedRedirects: string[]}
  /** DPoP settings, server nonces and the proof replay cache. */
  dpop: DpopState
  /** Throughput limiters (undefined = off) and the login lockout the browser flow consults. */
  limits: {public: RateLimiter | undefined; admin: RateLimiter | undefined; lockout: AuthLockout}
  stats: {tokenRequests: number; tokensIssued: number}
}
