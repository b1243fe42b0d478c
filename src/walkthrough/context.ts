import type {AdminKeySource} from '../admin/client.js'
import type {ConnectionSettings} from '../config/settings.js'
import type {ConfigStore} from '../config/store.js'
import type {RequestObserver} from '../http/request.js'
import {requireAbsoluteUrl} from '../http/url.js'
import type {McpProtocolChoice} from '../mcp/protocol.js'
import type {ClientDpop} from './dpop.js'

/** Where the servers are: what a profile remembers and a stack announces. */
export interface Endpoints {
  issuer: string
  adminUrl: string
  mcpUrl: string
  /** The RFC 8707 resource: the audience tokens are bound to. */
  resource: string
}

/** What every walkthrough step needs: where the servers are, the store, and request options. */
export interface WalkthroughContext extends Endpoints {
  /** Needed only by the admin steps. */
  adminKey?: string
  /** Where adminKey came from, for the hint when the server refuses it. */
  adminKeySource?: AdminKeySource
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
  /** RFC 9449: tokens are minted bound to this key and sent with its proofs (--dpop). */
  dpop?: ClientDpop
  /** The MCP protocol revision to speak (--protocol, AP_DEMO_MCP_PROTOCOL); absent = auto. */
  mcpProtocol?: McpProtocolChoice
}

export interface ContextOptions {
  store: ConfigStore
  profile: string
  adminKey?: string
  adminKeySource?: AdminKeySource
  requestTimeoutMs: number
  observer?: RequestObserver
  dryRun?: boolean
  onNote?: (message: string) => void
}

/** The one way a context is made: endpoints plus where to keep what the steps create. */
export function createContext(endpoints: Endpoints, options: ContextOptions): WalkthroughContext {
  return {
    issuer: endpoints.issuer,
    adminUrl: endpoints.adminUrl,
    mcpUrl: endpoints.mcpUrl,
    resource: endpoints.resource,
    adminKey: options.adminKey,
    adminKeySource: options.adminKeySource,
    store: options.store,
    profile: options.profile,
    requestTimeoutMs: options.requestTimeoutMs,
    observer: options.observer,
    dryRun: options.dryRun,
    onNote: options.onNote,
  }
}

/** A context from resolved settings (flags, environment, profile): each URL is checked, naming where it came from. */
export function contextFromSettings(settings: ConnectionSettings, options: Omit<ContextOptions, 'profile'>): WalkthroughContext {
  for (const [name, setting] of [['--issuer', settings.issuer], ['--admin-url', settings.adminUrl], ['--mcp-url', settings.mcpUrl], ['--resource', settings.resource]] as const) {
    requireAbsoluteUrl(setting.value ?? '', name, setting.from ?? setting.source)
  }
  const endpoints = {issuer: settings.issuer.value!, adminUrl: settings.adminUrl.value!, mcpUrl: settings.mcpUrl.value!, resource: settings.resource.value!}
  return createContext(endpoints, {...options, profile: settings.profile})
}

/**
 * Points a profile at servers: what `stack up`, `stack up --docker` and the wizard remember so
 * that later commands need no flags. The admin key is saved only when given.
 */
export function saveEndpoints(store: ConfigStore, profile: string, endpoints: Endpoints & {adminKey?: string; startedBy?: string}): void {
  store.updateProfile(profile, (p) => {
    p.issuer = endpoints.issuer
    p.adminUrl = endpoints.adminUrl
    p.mcpUrl = endpoints.mcpUrl
    p.resourceUri = endpoints.resource
    if (endpoints.adminKey !== undefined) p.adminKey = endpoints.adminKey
    if (endpoints.startedBy) p.startedStack = {by: endpoints.startedBy, issuer: endpoints.issuer, mcpUrl: endpoints.mcpUrl}
    // The same servers saved again (a wizard run after `stack up`) are still the ones ap-demo started.
    else if (p.startedStack && (p.startedStack.issuer !== endpoints.issuer || p.startedStack.mcpUrl !== endpoints.mcpUrl)) delete p.startedStack
  })
}

/** Whether the context's servers are ones ap-demo started for its profile (see Profile.startedStack). */
export function serversStartedByApDemo(ctx: Pick<WalkthroughContext, 'store' | 'profile' | 'issuer' | 'mcpUrl'>): boolean {
  const started = ctx.store.getProfile(ctx.profile).startedStack
  return started !== undefined && started.issuer === ctx.issuer && started.mcpUrl === ctx.mcpUrl
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms)
  })
}
