// Registrations interrupted between the server's 201 and the store's write (kill -9, a crash, a
// lost connection): the store holds a pending record for each, written before the POST. Any step
// that touches the profile's client reconciles them first: it finds the client the interrupted run
// made and either gives it a new secret (rotate-secret) and keeps it, or deletes it. Nothing
// ap-demo created is left on the server without ap-demo knowing.
import {AdminApiError, type ListedClient} from '../admin/client.js'
import type {ClientRecord, PendingClient, Profile} from '../config/store.js'
import {sameBaseUrl} from '../http/url.js'
import type {WalkthroughContext} from './context.js'
import {adminClient} from './resource.js'

/** Allowed disagreement between this machine's clock and the server's issued_at. */
const CLOCK_SKEW_MS = 5_000
/** A record whose process still runs is left alone, unless it is older than this (a hung run). */
const ABANDONED_AFTER_MS = 10 * 60_000

export interface Reconciled {
  /** The interrupted registration's client, or undefined when the server never made it. */
  clientId?: string
  name: string
  startedAt: string
  result: 'recovered' | 'deleted' | 'never created'
}

/** Records a registration about to be sent; returns the record, to be settled with settlePending. */
export function recordPending(ctx: WalkthroughContext, spec: {name: string; scope: string; authMethod: PendingClient['authMethod']}): PendingClient {
  const record: PendingClient = {
    ...spec,
    adminUrl: ctx.adminUrl,
    startedAt: new Date().toISOString(),
    timeoutMs: ctx.requestTimeoutMs,
    pid: process.pid,
  }
  ctx.store.updateProfile(ctx.profile, (p) => {
    record.replaces = p.client?.id
    p.pendingClients = [...(p.pendingClients ?? []), record]
  })
  return record
}

/** Removes a record inside a profile change (the one that saves the client, or a definite failure). */
export function dropPending(profile: Profile, record: Pick<PendingClient, 'startedAt' | 'pid'>): void {
  const rest = (profile.pendingClients ?? []).filter((r) => !(r.startedAt === record.startedAt && r.pid === record.pid))
  if (rest.length > 0) profile.pendingClients = rest
  else delete profile.pendingClients
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Records of dead (or long hung) runs against this admin API. */
function orphanedRecords(profile: Profile, adminUrl: string): PendingClient[] {
  const now = Date.now()
  return (profile.pendingClients ?? []).filter(
    (r) => sameBaseUrl(r.adminUrl, adminUrl) && (!isAlive(r.pid) || now - Date.parse(r.startedAt) > ABANDONED_AFTER_MS),
  )
}

/** True when the profile holds registrations that a dead run left unsettled on this admin API. */
export function hasOrphanedRegistrations(ctx: WalkthroughContext): boolean {
  return orphanedRecords(ctx.store.getProfile(ctx.profile), ctx.adminUrl).length > 0
}

function knownClientIds(profile: Profile): Set<string> {
  return new Set([profile.client?.id, ...(profile.retiredClients ?? []).map((c) => c.id)].filter((id): id is string => id !== undefined))
}

/**
 * The client an interrupted run made: same name, not known to the store, issued within the
 * run's window (its start, minus clock skew, to its start plus its request timeout). The earliest
 * such client, since that run sent one POST.
 */
function findCandidate(record: PendingClient, clients: ListedClient[], taken: Set<string>): ListedClient | undefined {
  const from = Date.parse(record.startedAt) - CLOCK_SKEW_MS
  const to = Date.parse(record.startedAt) + record.timeoutMs + CLOCK_SKEW_MS
  return clients
    .filter((c) => !taken.has(c.id) && c.name === record.name)
    .filter((c) => {
      const issued = Date.parse(c.issuedAt)
      return Number.isFinite(issued) && issued >= from && issued <= to
    })
    .sort((a, b) => Date.parse(a.issuedAt) - Date.parse(b.issuedAt))[0]
}

/**
 * Settles every orphaned pending registration of the profile on ctx's admin API. A client the
 * interrupted run made is recovered (new secret, saved as the profile's client) when the profile
 * still has the client that run meant to replace, and deleted otherwise, or always with `mode:
 * 'delete'` (clean). Each action is announced through ctx.onNote before it is taken.
 */
export async function reconcilePending(ctx: WalkthroughContext, options: {mode?: 'recover' | 'delete'} = {}): Promise<Reconciled[]> {
  const records = orphanedRecords(ctx.store.getProfile(ctx.profile), ctx.adminUrl).sort((a, b) => a.startedAt.localeCompare(b.startedAt))
  if (records.length === 0) return []
  const admin = adminClient(ctx)
  const clients = await admin.listClients()
  const taken = knownClientIds(ctx.store.getProfile(ctx.profile))
  const done: Reconciled[] = []
  for (const record of records) {
    const found = findCandidate(record, clients, taken)
    if (!found) {
      if (!ctx.dryRun) ctx.store.updateProfile(ctx.profile, (p) => dropPending(p, record))
      done.push({name: record.name, startedAt: record.startedAt, result: 'never created'})
      continue
    }
    taken.add(found.id)
    const profile = ctx.store.getProfile(ctx.profile)
    const recover = options.mode !== 'delete' && profile.client?.id === record.replaces && found.status === 'active'
    if (recover) {
      ctx.onNote?.(`an earlier run was interrupted after the server created client ${found.id} (${found.name}); recovering it with a new secret`)
      const rotated = await admin.rotateClientSecret(found.id)
      const client: ClientRecord = {
        id: found.id,
        name: found.name,
        scope: found.scope,
        secret: rotated.secret,
        authMethod: (found.authMethod === 'client_secret_post' ? 'client_secret_post' : record.authMethod),
        adminUrl: ctx.adminUrl,
        createdAt: found.issuedAt || record.startedAt,
      }
      ctx.store.updateProfile(ctx.profile, (p) => {
        if (p.client && p.client.id !== client.id) p.retiredClients = [...(p.retiredClients ?? []), p.client]
        p.client = client
        p.tokens = {}
        dropPending(p, record)
      })
      done.push({clientId: found.id, name: found.name, startedAt: record.startedAt, result: 'recovered'})
    } else {
      ctx.onNote?.(`an earlier run was interrupted after the server created client ${found.id} (${found.name}); deleting it`)
      try {
        await admin.deleteClient(found.id, true)
      } catch (error) {
        if (!(error instanceof AdminApiError && error.kind === 'not_found')) throw error
      }
      ctx.store.updateProfile(ctx.profile, (p) => dropPending(p, record))
      done.push({clientId: found.id, name: found.name, startedAt: record.startedAt, result: 'deleted'})
    }
  }
  return done
}
