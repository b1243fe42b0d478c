// Shared shapes of the embedded stack. The stack never imports the CLI's client code (src/admin,
// src/authplane, src/mcp): the two sides are written independently so that each checks the other.

export interface AuthServerOptions {
  /** Interface to bind both ports on. Default 127.0.0.1. */
  host?: string
  /** Public (issuer) port. 0 picks a free port. Default 9000. */
  port?: number
  /** Admin API port. 0 picks a free port. Default 9001. */
  adminPort?: number
  /**
   * The issuer string announced in metadata and copied into every `iss`, byte for byte.
   * Default `http://<host>:<bound public port>` (with `localhost` for a wildcard bind).
   */
  issuer?: string
  /** Bearer key for the admin API. */
  adminKey: string
  /** Directory for the SQLite database and key files. Undefined = everything in memory. */
  dataDir?: string
  /** Access-token lifetime in seconds, 1 to MAX_TOKEN_TTL_SECONDS. Default 3600. */
  tokenTtlSeconds?: number
  /**
   * Dynamic client registration (`POST /oauth/register`) policy, as `AUTHPLANE_DCR_MODE`:
   * `open` (default), `approved_redirects` (every redirect URI must be in `dcrApprovedRedirects`)
   * or `admin_only` (registration refused with 403).
   */
  dcrMode?: 'open' | 'approved_redirects' | 'admin_only'
  /** Exact redirect URIs accepted in `approved_redirects` mode (`AUTHPLANE_DCR_APPROVED_REDIRECTS`). */
  dcrApprovedRedirects?: string[]
  /**
   * DPoP at the token endpoint (`AUTHPLANE_DPOP_*`): `requireNonce` (default false) refuses proofs
   * without a server nonce (`use_dpop_nonce`), `proofLifetimeSeconds` (10..300, default 60) bounds
   * a proof's age, `nonceTtlSeconds` (default 60) how long an issued `DPoP-Nonce` stays valid.
   */
  dpop?: {requireNonce?: boolean; proofLifetimeSeconds?: number; nonceTtlSeconds?: number}
  /**
   * Origins allowed to call the discovery, token, registration, revocation and introspection
   * endpoints from a browser (CORS), e.g. the MCP Inspector's `http://localhost:6274`; `*` allows
   * any. Default none, as on the real server.
   */
  corsOrigins?: string[]
  /**
   * Rate limiting and login lockout (`AUTHPLANE_RATE_LIMIT_*`), on by default like the real
   * server: 100 requests/s with a burst of 200 per client address on the public port (429
   * `slow_down`, `Retry-After: 1`); 10 failed logins in 600 s lock that login for 900 s.
   * `{enabled: false}` turns throughput limiting off (load tests); `authFailMax: 0` the lockout.
   */
  rateLimit?: {enabled?: boolean; requestsPerSecond?: number; burst?: number; authFailMax?: number; authFailWindowSeconds?: number; authLockoutSeconds?: number}
  /** Per-address limit on the admin port (`admin.requests_per_second`/`admin.burst`); off when omitted, as in the real server. */
  adminRateLimit?: {requestsPerSecond: number; burst: number}
}

/** The longest access-token lifetime the stack accepts: a day. A bearer token living longer is a standing credential. */
export const MAX_TOKEN_TTL_SECONDS = 86_400

export interface AuthServerHandle {
  issuer: string
  /** Base URL the public port is actually reachable at (may differ from issuer). */
  publicUrl: string
  /** Base URL of the admin API, e.g. http://127.0.0.1:9001 (routes live under /admin). */
  adminUrl: string
  /** Counters for tests and benchmarks. */
  stats(): {tokenRequests: number; tokensIssued: number}
  /** What the start-up found and could not fix silently (shown by `stack up`). */
  notices: StackNotice[]
  /**
   * Creates the local user `email` with `password` unless a user with that email exists, which is
   * kept as it is (its password unchanged). Rejects with the admin API's message on bad input.
   */
  ensureUser(email: string, password: string): Promise<{id: string; created: boolean}>
  stop(): Promise<void>
}

/**
 * `signing-key.json` was missing while tokens signed with the lost key were still live: a new key
 * was made, and every resource server will reject those tokens (their clients must mint again).
 */
export interface SigningKeyReplacedNotice {
  code: 'signing_key_replaced'
  file: string
  liveTokens: number
  /** ISO time at which the last of those tokens would have expired. */
  lastExpiry: string
}

export type StackNotice = SigningKeyReplacedNotice

export interface McpServerOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string
  /** Port. 0 picks a free port. Default 8080. */
  port?: number
  /** Issuer the tokens must carry (exact); metadata and JWKS are discovered from it. */
  issuer: string
  /**
   * Base URL used to fetch the issuer's metadata when it differs from the issuer string
   * (Docker-style topologies). Default: the issuer.
   */
  issuerFetchUrl?: string
  /** The audience tokens must contain (exact). Default `http://<host>:<bound port>/mcp`. */
  resource?: string
  /** Scope the echo tool needs. Default `mcp:echo`. */
  requiredScope?: string
  /** Idle sessions are closed after this many ms. Default 10 minutes. */
  sessionIdleMs?: number
  /** At most this many live sessions; the least recently used is closed to admit a new one. Default 1000. */
  maxSessions?: number
  /**
   * DNS-rebinding protection: `host[:port]` authorities accepted in the Host header (and as
   * Origin) besides the defaults, which are localhost, 127.0.0.1 and [::1] with the bound port,
   * the bind address with that port, and the authority of `resource`. Add the names a wildcard
   * (0.0.0.0) bind is reached by: a container name, a remapped port, a reverse proxy's host.
   */
  allowedHosts?: string[]
  /**
   * Browser origins (`scheme://host[:port]`, `*` for any) answered with CORS headers on /mcp and
   * the protected resource metadata, and accepted as Origin by the DNS-rebinding guard. Default none.
   */
  corsOrigins?: string[]
  /**
   * Inbound DPoP (RFC 9449): `off` (default, tier 01: any DPoP signal is refused), `allowed`
   * (Bearer tokens and DPoP-bound tokens with proofs), `required` (DPoP-bound tokens only).
   */
  dpop?: 'off' | 'allowed' | 'required'
  /** With DPoP on: demand a server-provided nonce (RFC 9449 §9) in every proof, sent in `DPoP-Nonce`. */
  dpopNonce?: boolean
  /**
   * Scope each tool needs on top of `requiredScope`, by tool name (`{whoami: 'mcp:whoami'}`). A
   * `tools/call` without it gets 403 insufficient_scope naming the scopes in `scope=`.
   */
  toolScopes?: Record<string, string>
  /**
   * The MCP protocol eras served at `/mcp` (default `both`): `2025-11-25` only the 2025 era
   * (initialize, sessions, the GET stream), `2026-07-28` only the stateless 2026-07-28 era
   * (server/discover; a 2025 initialize gets -32022). One auth check serves both.
   */
  protocol?: McpProtocolMode
}

/** The eras the tier-01 server speaks: `--mcp-protocol`. */
export const MCP_PROTOCOL_MODES = ['both', '2025-11-25', '2026-07-28'] as const
export type McpProtocolMode = (typeof MCP_PROTOCOL_MODES)[number]

export interface McpServerHandle {
  /** URL the MCP endpoint is reachable at, e.g. http://127.0.0.1:8080/mcp. */
  url: string
  /** The expected audience. */
  resource: string
  /** RFC 9728 metadata URL announced in WWW-Authenticate. */
  resourceMetadataUrl: string
  /** The protocol eras it serves. */
  protocol: McpProtocolMode
  /** Live 2025-era sessions (the 2026-07-28 era has none). */
  sessionCount(): number
  stop(): Promise<void>
}

export interface StackOptions {
  host?: string
  port?: number
  adminPort?: number
  mcpPort?: number
  issuer?: string
  resource?: string
  adminKey?: string
  dataDir?: string
  tokenTtlSeconds?: number
  sessionIdleMs?: number
  maxSessions?: number
  /** Extra Host authorities the MCP server accepts (McpServerOptions.allowedHosts). */
  mcpAllowedHosts?: string[]
  /** Origins both servers answer with CORS headers (AuthServerOptions / McpServerOptions.corsOrigins). */
  corsOrigins?: string[]
  /** Rate limiting of the authorization server (AuthServerOptions.rateLimit); on by default. */
  rateLimit?: AuthServerOptions['rateLimit']
  /** Admin-port rate limit (AuthServerOptions.adminRateLimit); off by default. */
  adminRateLimit?: AuthServerOptions['adminRateLimit']
  /** DPoP settings of the token endpoint (AuthServerOptions.dpop). */
  dpop?: AuthServerOptions['dpop']
  /** Dynamic client registration policy (AuthServerOptions.dcrMode / dcrApprovedRedirects). */
  dcrMode?: AuthServerOptions['dcrMode']
  dcrApprovedRedirects?: AuthServerOptions['dcrApprovedRedirects']
  /** McpServerOptions.dpop. */
  mcpDpop?: 'off' | 'allowed' | 'required'
  /** McpServerOptions.dpopNonce. */
  mcpDpopNonce?: boolean
  /** McpServerOptions.toolScopes. */
  toolScopes?: Record<string, string>
  /** McpServerOptions.protocol. */
  mcpProtocol?: McpProtocolMode
}

export interface StackHandle {
  issuer: string
  publicUrl: string
  adminUrl: string
  mcpUrl: string
  resource: string
  adminKey: string
  authServer: AuthServerHandle
  mcpServer: McpServerHandle
  /** The authorization server's start-up notices. */
  notices: StackNotice[]
  stop(): Promise<void>
}
