import type {ConfigStore} from '../config/store.js'
import type {RequestObserver} from '../http/request.js'
import type {ClientDpop} from './dpop.js'

/** What every walkthrough step needs: where the servers are, the store, and request options. */
export interface WalkthroughContext {
  issuer: string
  adminUrl: string
  /** Needed only by the admin steps. */
  adminKey?: string
  mcpUrl: string
  /** The RFC 8707 resource: the audience tokens are bound to. */
  resource: string
  store: ConfigStore
  profile: string
  /** Per-request timeout. */
  requestTimeoutMs: number
  /** Sees every request before it is sent (--print-curl); may throw DryRunStop to hold it back. */
  observer?: RequestObserver
  /** RFC 9449: tokens are minted bound to this key and sent with its proofs (--dpop). */
  dpop?: ClientDpop
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms)
  })
}

