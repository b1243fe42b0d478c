import type {TokenResult} from './types.js'

/** A cached token response; `expiresAt` (epoch ms) already has the 30 s safety margin subtracted. */
export interface CachedToken {
  result: Omit<TokenResult, 'fromCache'>
  expiresAt: number
}

/** Storage for client_credentials tokens. May be synchronous or asynchronous (e.g. backed by the CLI's store). */
export interface TokenCache {
  get(key: string): Promise<CachedToken | undefined> | CachedToken | undefined
  set(key: string, entry: CachedToken): Promise<void> | void
  delete(key: string): Promise<void> | void
}

/** Seconds subtracted from `expires_in` before caching (contract §4: lifetime `expires_in - 30 s`). */
export const CACHE_EXPIRY_MARGIN_SECONDS = 30

/**
 * Cache key (contract §4): issuer + client + scopes + resources. Scopes are sorted because their order
 * carries no meaning (RFC 6749 §3.3); resources keep their order because only the first one is used
 * by Authplane. JSON encoding of an array keeps the parts unambiguous whatever characters they hold.
 * Blank values are dropped exactly as the token request drops them.
 */
export function tokenCacheKey(issuer: string, clientId: string, scopes: string[], resources: string[], dpopThumbprint?: string): string {
  const s = normaliseScopes(scopes).slice().sort()
  const r = normaliseResources(resources)
  // A DPoP-bound token is usable only with its key (RFC 9449 §6): the key's thumbprint is part of
  // the key, so a bearer token is never served for a DPoP request, nor one key's token for another.
  const parts: unknown[] = [issuer, clientId, s, r]
  if (dpopThumbprint !== undefined) parts.push({jkt: dpopThumbprint})
  return `authplane-cc:v1:${JSON.stringify(parts)}`
}

/** Drops blank scope values (a blank value would add a stray separator to the `scope` parameter). */
export function normaliseScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => s.trim() !== '')
}

/** Drops blank resource values (contract §4: one `resource` parameter per non-blank resource). */
export function normaliseResources(resources: readonly string[]): string[] {
  return resources.filter((r) => r.trim() !== '')
}

/**
 * In-process TokenCache. Pure storage: the client decides expiry with its own clock (and deletes
 * expired entries), so a cache and a client never disagree about what time it is.
 */
export class MemoryTokenCache implements TokenCache {
  private readonly entries = new Map<string, CachedToken>()

  get(key: string): CachedToken | undefined {
    return this.entries.get(key)
  }

  set(key: string, entry: CachedToken): void {
    this.entries.set(key, entry)
  }

  delete(key: string): void {
    this.entries.delete(key)
  }

  get size(): number {
    return this.entries.size
  }
}
