import {AdminApiError} from '../admin/client.js'
import {ConfigError} from '../errors.js'
import {sameBaseUrl} from '../http/url.js'
import type {WalkthroughContext} from './context.js'
import {adminClient} from './resource.js'

export interface Removed {
  what: 'client' | 'resource'
  id: string
  result: 'deleted' | 'already gone' | 'kept (not created by ap-demo)'
}

export function describeCleanPlan(ctx: WalkthroughContext): string[] {
  const profile = ctx.store.getProfile(ctx.profile)
  const plan: string[] = []
  if (profile.client) plan.push(`client ${profile.client.name} (${profile.client.id})`)
  if (profile.resource?.createdByApDemo) plan.push(`resource ${profile.resource.slug} (${profile.resource.id})`)
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
  return removed
}
