import {AdminApiError, type ResourceView} from '../admin/client.js'
import {ConfigError} from '../errors.js'
import {sameBaseUrl} from '../http/url.js'
import type {WalkthroughContext} from './context.js'
import {reconcilePending} from './pending.js'
import {adminClient, dropPendingResource} from './resource.js'

export interface Removed {
  what: 'client' | 'resource'
  id: string
  result: 'deleted' | 'already gone' | 'kept (not created by ap-demo)' | 'kept (on another admin API)'
}

export function describeCleanPlan(ctx: WalkthroughContext): string[] {
  const profile = ctx.store.getProfile(ctx.profile)
  const plan: string[] = []
  if (profile.client) plan.push(`client ${profile.client.name} (${profile.client.id})`)
  for (const c of profile.retiredClients ?? []) plan.push(`replaced client ${c.name} (${c.id})`)
  if (profile.resource?.createdByApDemo) plan.push(`resource ${profile.resource.slug} (${profile.resource.id})`)
  for (const r of profile.retiredResources ?? []) plan.push(`replaced resource ${r.slug} (${r.id})`)
  for (const r of profile.otherResources ?? []) if (r.createdByApDemo) plan.push(`resource ${r.slug} for another server (${r.id})`)
  const interrupted = (profile.pendingClients?.length ?? 0) + (profile.pendingResources?.length ?? 0)
  if (interrupted > 0) plan.push(`what ${interrupted} interrupted registration${interrupted > 1 ? 's' : ''} left on the server`)
  return plan
}

/**
 * The real authserver answers DELETE of an unknown client with 400 and its invalid_client sentinel
 * text, not 404 (docs/fidelity.md, C9): that answer, exactly, also means the client is gone.
 */
const isUnknownClient = (error: AdminApiError): boolean => error.status === 400 && error.detail === 'client authentication failed'

async function deleteTolerating404(run: () => Promise<void>, gone: (error: AdminApiError) => boolean = () => false): Promise<'deleted' | 'already gone'> {
  try {
    await run()
    return 'deleted'
  } catch (error) {
    if (error instanceof AdminApiError && (error.kind === 'not_found' || gone(error))) return 'already gone'
    throw error
  }
}

/**
 * The `make clean` of the tier-02 example: the client (forced: its live tokens must not block the
 * delete), then the resource if ap-demo created it. The profile forgets each one as soon as it is
 * gone, so an interrupted clean can simply be run again.
 */
export async function cleanWalkthrough(ctx: WalkthroughContext): Promise<Removed[]> {
  const admin = adminClient(ctx)
  const profile = ctx.store.getProfile(ctx.profile)
  // A 404 from another server proves nothing about ours: never forget a secret on that basis.
  for (const record of [profile.client, profile.resource]) {
    if (record && !sameBaseUrl(record.adminUrl, ctx.adminUrl)) {
      throw new ConfigError('other_admin_api', `the saved ${record === profile.client ? 'client' : 'resource'} ${record.id} lives on ${record.adminUrl}, not on ${ctx.adminUrl}`, {
        hint: `Run clean against that server: --admin-url ${record.adminUrl} (with its admin key). Nothing was changed.`,
      })
    }
  }
  const removed: Removed[] = []
  for (const r of await reconcilePending(ctx, {mode: 'delete'})) {
    if (r.clientId) removed.push({what: 'client', id: r.clientId, result: 'deleted'})
  }
  removed.push(...(await cleanPendingResources(ctx)))
  for (const client of profile.retiredClients ?? []) {
    const result = sameBaseUrl(client.adminUrl, ctx.adminUrl) ? await deleteTolerating404(() => admin.deleteClient(client.id, true)) : 'kept (on another admin API)'
    if (result !== 'kept (on another admin API)') {
      ctx.store.updateProfile(ctx.profile, (p) => {
        p.retiredClients = (p.retiredClients ?? []).filter((c) => c.id !== client.id)
        if (p.retiredClients.length === 0) delete p.retiredClients
      })
    }
    removed.push({what: 'client', id: client.id, result})
  }
  if (profile.client) {
    const id = profile.client.id
    const result = await deleteTolerating404(() => admin.deleteClient(id, true), isUnknownClient)
    ctx.store.updateProfile(ctx.profile, (p) => {
      delete p.client
      p.tokens = {}
    })
    removed.push({what: 'client', id, result})
  }
  if (profile.resource) {
    const resource = profile.resource
    const result = resource.createdByApDemo ? await deleteTolerating404(() => admin.deleteResource(resource.id)) : 'kept (not created by ap-demo)'
    ctx.store.updateProfile(ctx.profile, (p) => {
      delete p.resource
    })
    removed.push({what: 'resource', id: resource.id, result})
  }
  for (const resource of profile.retiredResources ?? []) {
    const result = sameBaseUrl(resource.adminUrl, ctx.adminUrl) ? await deleteTolerating404(() => admin.deleteResource(resource.id)) : 'kept (on another admin API)'
    if (result !== 'kept (on another admin API)') {
      ctx.store.updateProfile(ctx.profile, (p) => {
        p.retiredResources = (p.retiredResources ?? []).filter((r) => r.id !== resource.id)
        if (p.retiredResources.length === 0) delete p.retiredResources
      })
    }
    removed.push({what: 'resource', id: resource.id, result})
  }
  for (const resource of profile.otherResources ?? []) {
    const result = !resource.createdByApDemo ? 'kept (not created by ap-demo)' : sameBaseUrl(resource.adminUrl, ctx.adminUrl) ? await deleteTolerating404(() => admin.deleteResource(resource.id)) : 'kept (on another admin API)'
    if (result !== 'kept (on another admin API)') {
      ctx.store.updateProfile(ctx.profile, (p) => {
        p.otherResources = (p.otherResources ?? []).filter((r) => r.id !== resource.id)
        if (p.otherResources.length === 0) delete p.otherResources
      })
    }
    removed.push({what: 'resource', id: resource.id, result})
  }
  return removed
}

/** Resources that an interrupted run sent (pending records): deleted when the server made them then. */
async function cleanPendingResources(ctx: WalkthroughContext): Promise<Removed[]> {
  const admin = adminClient(ctx)
  const removed: Removed[] = []
  for (const record of ctx.store.getProfile(ctx.profile).pendingResources ?? []) {
    if (!sameBaseUrl(record.adminUrl, ctx.adminUrl)) continue
    let view: ResourceView | undefined
    try {
      view = await admin.getResourceBySlug(record.slug)
    } catch (error) {
      if (!(error instanceof AdminApiError && error.kind === 'not_found')) throw error
    }
    // Made by that run only if created in its window; an older resource with the slug is someone else's.
    const created = Date.parse(view?.created_at ?? '')
    const started = Date.parse(record.startedAt)
    if (view && created >= started - 5_000 && created <= started + 120_000) {
      const id = view.id
      removed.push({what: 'resource', id, result: await deleteTolerating404(() => admin.deleteResource(id))})
    }
    if (!ctx.dryRun) ctx.store.updateProfile(ctx.profile, (p) => dropPendingResource(p, record))
  }
  return removed
}
