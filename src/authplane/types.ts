import type {DPoPHandle} from 'oauth4webapi'

import type {CircuitBreaker} from './breaker.js'
import type {TokenCache} from './cache.js'
import type {ClientKey} from './client-key.js'
import type {DpopKey} from './dpop.js'

/** How the client authenticates at the token endpoint: a secret (RFC 6749 §2.3.1), or an RFC 7523 client assertion signed with its key. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** What the `onRequest` observer sees. It carries real secrets: whoever prints it must mask them. */
export interface ObservedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
}

export interface AuthplaneClientOptions {
  /** The issuer identifier, used byte for byte (contract §3 "Metadata", §7.1). */
  issuer: string
  /** A secret for client_secret_basic/_post; `privateKey` (and no secret) for private_key_jwt. */
  auth: {clientId: string; clientSecret?: string; privateKey?: ClientKey; method?: ClientAuthMethod}
  /**
   * Development mode: allow http:// issuers and endpoints. Defaults to true only for an http://
   * issuer whose host is a loopback name (localhost, 127.0.0.1, ::1): an https issuer's metadata
   * may not name http endpoints unless this is set.
   */
  allowInsecureHttp?: boolean
  /** Per-request timeout in ms (contract §4: 10 s). */
  timeoutMs?: number
  cache?: TokenCache
  breaker?: CircuitBreaker
  /** Observer called before each HTTP request (for --print-curl and request counting). */
  onRequest?: (req: ObservedRequest) => void
  /** ms clock, for tests. */
  now?: () => number
  /**
   * RFC 9449: send a DPoP proof of this key with every token request, expect `token_type` DPoP,
   * and keep the cache per key. The handle (from `dpopHandle`) holds the servers' nonces.
   */
  dpop?: {key: DpopKey; handle: DPoPHandle}
  /**
   * Contract §4 requires `jwks_uri` in the metadata (the SDK verifies tokens with it). A client that
   * only mints tokens for someone else does not need it: false accepts metadata without it, as
   * RFC 8414 §2 allows for servers that do not sign anything.
   */
  requireJwksUri?: boolean
}

/** RFC 8414 §2 metadata; only the fields this client relies on are typed precisely. */
export interface AuthorizationServerMetadata {
  issuer: string
  token_endpoint: string
  /** Always present unless the client was created with `requireJwksUri: false`. */
  jwks_uri: string
  [key: string]: unknown
}

export interface TokenResult {
  accessToken: string
  tokenType: 'Bearer' | 'DPoP'
  expiresIn?: number
  scope?: string
  /** The token response JSON exactly as received. */
  raw: Record<string, unknown>
  fromCache: boolean
}

export interface ClientCredentialsOptions {
  /** Skip reading and writing the token cache. */
  noCache?: boolean
}
