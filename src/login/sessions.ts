// Sign-ins kept in the profile, like the client secret: in the store's 0600 file, keyed by issuer,
// resource and client (one user token per triple), with the client used at each issuer.
import type {ConfigStore, LoginClientRecord, LoginRecord} from '../config/store.js'
import {resourceMatchesServer} from '../mcp/resource-metadata.js'

/** The store key of a sign-in: issuer, resource and client, unambiguous whatever they contain. */
export function loginKey(issuer: string, resource: string, clientId: string): string {
  return JSON.stringify([issuer, resource, clientId])
}

/**
 * The sign-in to use for the MCP server at `mcpUrl`: one made for that URL, else one whose resource
 * designates it (same origin, same or parent path); the most recent when there are several.
 */
export function findLogin(store: ConfigStore, profile: string, mcpUrl: string): LoginRecord | undefined {
  const logins = Object.values(store.getProfile(profile).logins ?? {})
  const newest = (list: LoginRecord[]) => list.sort((a, b) => (b.refreshedAt ?? b.obtainedAt).localeCompare(a.refreshedAt ?? a.obtainedAt))[0]
  return newest(logins.filter((l) => l.mcpUrl === mcpUrl)) ?? newest(logins.filter((l) => resourceMatchesServer(l.resource, mcpUrl)))
}

/** Every sign-in for `mcpUrl` (as findLogin matches them), or all of them. */
export function loginsFor(store: ConfigStore, profile: string, mcpUrl: string | undefined): LoginRecord[] {
  const logins = Object.values(store.getProfile(profile).logins ?? {})
  return mcpUrl === undefined ? logins : logins.filter((l) => l.mcpUrl === mcpUrl || resourceMatchesServer(l.resource, mcpUrl))
}

export function saveLogin(store: ConfigStore, profile: string, login: LoginRecord): void {
  store.updateProfile(profile, (p) => {
    p.logins = {...p.logins, [loginKey(login.issuer, login.resource, login.clientId)]: login}
  })
}

export function forgetLogin(store: ConfigStore, profile: string, login: Pick<LoginRecord, 'issuer' | 'resource' | 'clientId'>): void {
  store.updateProfile(profile, (p) => {
    if (!p.logins) return
    delete p.logins[loginKey(login.issuer, login.resource, login.clientId)]
    if (Object.keys(p.logins).length === 0) delete p.logins
  })
}

export function storedClient(store: ConfigStore, profile: string, issuer: string): LoginClientRecord | undefined {
  const clients = store.getProfile(profile).loginClients
  return clients && Object.hasOwn(clients, issuer) ? clients[issuer] : undefined
}

export function saveClient(store: ConfigStore, profile: string, client: LoginClientRecord): void {
  store.updateProfile(profile, (p) => {
    p.loginClients = {...p.loginClients, [client.issuer]: client}
  })
}

/** Forgets a registered client the server no longer accepts, so that the next sign-in registers anew. */
export function forgetClient(store: ConfigStore, profile: string, issuer: string, clientId: string): void {
  store.updateProfile(profile, (p) => {
    if (p.loginClients?.[issuer]?.clientId === clientId) delete p.loginClients[issuer]
  })
}
