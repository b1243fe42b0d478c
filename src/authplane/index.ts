/**
 * The `@authplane/sdk/core` client_credentials behaviour (contract §4), on oauth4webapi and jose.
 */
export {AuthplaneClient, basicAuthorization, discoveryUrl, DEFAULT_TIMEOUT_MS} from './client.js'
export {
  CircuitBreaker,
  DEFAULT_FAILURE_THRESHOLD,
  DEFAULT_OPEN_MS,
  type CircuitBreakerOptions,
  type CircuitBreakerState,
  type CircuitBreakerStatus,
} from './breaker.js'
export {
  CACHE_EXPIRY_MARGIN_SECONDS,
  MemoryTokenCache,
  tokenCacheKey,
  type CachedToken,
  type TokenCache,
} from './cache.js'
export {
  AuthplaneCircuitOpenError,
  AuthplaneConfigError,
  AuthplaneConsentRequiredError,
  AuthplaneError,
  AuthplaneIssuerMismatchError,
  AuthplaneNetworkError,
  AuthplaneOAuthError,
  AuthplaneProtocolError,
  AuthplaneServerError,
  AuthplaneTimeoutError,
  CONSENT_ERROR_CODES,
  OAUTH_ERROR_CODES,
  countsTowardBreaker,
} from './errors.js'
export {describeToken, type DescribedToken} from './token.js'
export type {
  AuthorizationServerMetadata,
  AuthplaneClientOptions,
  ClientAuthMethod,
  ClientCredentialsOptions,
  ObservedRequest,
  TokenResult,
} from './types.js'
