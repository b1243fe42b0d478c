import type {ConfigStore} from '../config/store.js'
import type {RequestObserver} from '../http/request.js'

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
  /** --dry-run: nothing is written to the store either (no pending registration record). */
  dryRun?: boolean
  /** Told what a step does on its own before it does it (e.g. recovering an interrupted registration). */
  onNote?: (message: string) => void
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms)
  })
}

