import {createHash} from 'node:crypto'

import {AdminApiError, AdminClient, type ResourceView} from '../admin/client.js'
import type {PendingResource, Profile, ResourceRecord, ScopeSpec} from '../config/store.js'
import {InputError, ConflictError, inputError} from '../errors.js'
import {HttpUnreachableError} from '../http/request.js'
import {requireAbsoluteUrl, sameBaseUrl} from '../http/url.js'
import type {WalkthroughContext} from './context.js'
import {printable, scopeTokenProblem} from './scope.js'

/** Contract §2: slugs are lower-cased, then must match this. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/

export function normaliseSlug(slug: string): string {
  const lower = slug.trim().toLowerCase()
  if (!SLUG_PATTERN.test(lower)) {
    throw inputError(`invalid slug "${slug}"`, 'A slug is 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit (e.g. demo-mcp).')
  }
  return lower
}

/**
 * The real server's CLI scope syntax (contract §2): `name`, `name||description` (Mint: no
 * upstream) or `name|upstream|description`, split into at most three parts.
 */
export function parseScopeArgument(value: string): ScopeSpec {
  const first = value.indexOf('|')
  let name = value
  let upstream = ''
  let description = ''
  if (first !== -1) {
    name = value.slice(0, first)
    const rest = value.slice(first + 1)
    const second = rest.indexOf('|')
    if (second === -1) {
      upstream = rest
    } else {
      upstream = rest.slice(0, second)
      description = rest.slice(second + 1)
    }
  }
  name = name.trim()
  if (name === '' || /\s/.test(name)) {
    throw inputError(`invalid scope "${value}"`, 'Use name, name||description or name|upstream|description; the name is non-empty without spaces (e.g. "mcp:echo||echo tool").')
  }
  if (upstream.trim() !== '') {
    throw inputError(`scope "${name}" names an upstream ("${upstream}"), which Mint resources do not have`, `Leave the middle part empty: "${name}||${description || 'description'}".`)
  }
  const spec: ScopeSpec = {name}
  if (description.trim() !== '') spec.description = description.trim()
  return spec
}

export function validateScopes(scopes: ScopeSpec[]): ScopeSpec[] {
  const seen = new Set<string>()
  for (const scope of scopes) {
    const problem = scopeTokenProblem(scope.name)
    if (problem) throw inputError(`scope name "${printable(scope.name)}" is not usable: ${problem}`, 'A scope name is one token such as mcp:echo or tools.read (RFC 6749 §3.3).')
    if (seen.has(scope.name)) throw inputError(`scope "${scope.name}" is given twice`, 'Scope names must be unique within a resource.')
    seen.add(scope.name)
  }
  return scopes
}

export interface ResourceSpec {
  slug: string
  uri: string
  displayName?: string
  scopes: ScopeSpec[]
  /** Make it the profile's current resource, and point the profile's MCP URL at `mcpUrl` (`setup resource --use`). */
  use?: {mcpUrl: string}
}

export interface EnsureResourceResult {
  action: 'created' | 'exists'
  resource: ResourceRecord
  /** Whether it is now the profile's current resource (the audience of its tokens). */
  current: boolean
  /** What the profile works with afterwards: its current resource and MCP URL. */
  walkthrough: {resource: ResourceRecord | null; mcpUrl: string | null}
}

function toRecord(view: ResourceView, createdByApDemo: boolean, adminUrl: string): ResourceRecord {
  return {
    id: view.id,
    slug: view.slug,
    uri: view.uri,
    displayName: view.display_name || undefined,
    scopes: (view.scopes ?? []).map((s) => ({name: s.name, ...(s.description ? {description: s.description} : {})})),
    createdByApDemo,
    adminUrl,
  }
}

/**
 * Step 3 (contract §6): create the Mint resource; on 409 look it up by slug and continue when its
 * uri and scopes agree with what was asked, or explain the difference (contract §7 pitfall 4).
 *
 * The result is saved in the profile. It becomes the profile's current resource (its uri the
 * audience of the profile's tokens) only when it is the audience the profile already works with,
 * or with `use` (which also points the profile's MCP URL at the server): a resource for a second
 * server never silently moves the walkthrough there (issue 18). Otherwise it is remembered among
 * the profile's other resources.
 */
export async function ensureResource(ctx: WalkthroughContext, spec: ResourceSpec): Promise<EnsureResourceResult> {
  const admin = adminClient(ctx)
  const slug = normaliseSlug(spec.slug)
  const uri = requireAbsoluteUrl(spec.uri, '--uri')
  const scopes = validateScopes(spec.scopes)
  const profile = ctx.store.getProfile(ctx.profile)
  const previous = profile.resource
  // The audience the profile's commands use without flags: its resource, else its MCP URL.
  const walkthroughAudience = profile.resourceUri ?? profile.mcpUrl
  const current = spec.use !== undefined || (walkthroughAudience === undefined ? uri === ctx.resource : uri === walkthroughAudience)
  let action: EnsureResourceResult['action']
  let view: ResourceView
  // As for clients (pending.ts): a run killed between the 201 and the save leaves this record, and
  // the next run's 409 on the slug is then known to be ap-demo's own resource.
  const pending: PendingResource | undefined = ctx.dryRun ? undefined : {slug, adminUrl: ctx.adminUrl, startedAt: new Date().toISOString(), pid: process.pid}
  const earlier = (ctx.store.getProfile(ctx.profile).pendingResources ?? []).some((r) => r.slug === slug && sameBaseUrl(r.adminUrl, ctx.adminUrl))
  if (pending) ctx.store.updateProfile(ctx.profile, (p) => {
    p.pendingResources = [...(p.pendingResources ?? []), pending]
  })
  try {
    view = await admin.createResource({slug, uri, backend_kind: 'mint', display_name: spec.displayName, scopes})
    action = 'created'
  } catch (error) {
    if (pending && !(error instanceof HttpUnreachableError) && !(error instanceof AdminApiError && error.kind === 'conflict')) {
      ctx.store.updateProfile(ctx.profile, (p) => dropPendingResource(p, pending))
    }
    if (!(error instanceof AdminApiError) || error.kind !== 'conflict') throw error
    view = await admin.getResourceBySlug(slug)
    const differences: string[] = []
    if (view.uri !== uri) differences.push(`its uri is "${view.uri}", not "${uri}"`)
    const existing = new Set((view.scopes ?? []).map((s) => s.name))
    const missing = scopes.filter((s) => !existing.has(s.name)).map((s) => s.name)
    if (missing.length > 0) differences.push(`it lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has ${[...existing].join(', ') || 'none'})`)
    if (differences.length > 0) {
      throw new ConflictError('resource_differs', `resource "${slug}" already exists and differs: ${differences.join('; ')}`, {
        hint: `Choose another --slug, or reuse it as it is (--uri ${view.uri}), or delete it first (ap-demo clean, or DELETE /admin/resources/${view.id}).`,
        details: {existing: {id: view.id, uri: view.uri, scopes: view.scopes}},
      })
    }
    action = 'exists'
  }
  // A resource ap-demo created earlier stays ours when a re-run finds it again (409).
  const known = [previous, ...(profile.otherResources ?? [])].find((r) => r?.id === view.id)
  const ours = action === 'created' || earlier || Boolean(known?.createdByApDemo)
  const record = toRecord(view, ours, ctx.adminUrl)
  ctx.store.updateProfile(ctx.profile, (p) => {
    if (pending) {
      for (const r of p.pendingResources ?? []) if (r.slug === slug && sameBaseUrl(r.adminUrl, ctx.adminUrl)) dropPendingResource(p, r)
    }
    p.adminUrl ??= ctx.adminUrl
    const others = (p.otherResources ?? []).filter((r) => r.id !== record.id)
    if (current) {
      // The resource this one replaces in the profile stays known, so that `clean` still deletes it.
      if (p.resource && p.resource.id !== record.id && p.resource.createdByApDemo) p.retiredResources = [...(p.retiredResources ?? []), p.resource]
      p.resource = record
      p.resourceUri = record.uri
      if (spec.use) p.mcpUrl = spec.use.mcpUrl
    } else if (p.resource?.id !== record.id) {
      others.push(record)
    }
    if (others.length > 0) p.otherResources = others
    else delete p.otherResources
  })
  const after = ctx.store.getProfile(ctx.profile)
  return {action, resource: record, current, walkthrough: {resource: after.resource ?? null, mcpUrl: after.mcpUrl ?? null}}
}

/**
 * Step 3 for an audience the profile may not know: the walkthrough's slug, unless that slug is taken
 * by a resource for another server. Then the resource registered for this uri is reused, found by
 * uri, or a new one is made under a slug of its own (`demo-mcp-<6 hex of the uri's SHA-256>`), so
 * that `verify --mcp-url … --resource …` works on what it is told.
 */
export async function ensureResourceFor(ctx: WalkthroughContext, spec: ResourceSpec & {slugIsDefault: boolean}): Promise<EnsureResourceResult> {
  const {slugIsDefault, ...resourceSpec} = spec
  try {
    return await ensureResource(ctx, resourceSpec)
  } catch (error) {
    if (!slugIsDefault || !(error instanceof ConflictError) || error.code !== 'resource_differs') throw error
    const found = (await adminClient(ctx).listResources()).find((r) => r.uri === spec.uri)
    const slug = found?.slug ?? `${normaliseSlug(spec.slug).slice(0, 57)}-${createHash('sha256').update(spec.uri).digest('hex').slice(0, 6)}`
    ctx.onNote?.(`resource "${spec.slug}" belongs to another server (${(error.details.existing as {uri?: string} | undefined)?.uri ?? '?'}); using "${slug}" for ${spec.uri}`)
    return ensureResource(ctx, {...resourceSpec, slug})
  }
}

/** Removes one pending resource record inside a profile change. */
export function dropPendingResource(profile: Profile, record: PendingResource): void {
  const rest = (profile.pendingResources ?? []).filter((r) => !(r.startedAt === record.startedAt && r.pid === record.pid && r.slug === record.slug))
  if (rest.length > 0) profile.pendingResources = rest
  else delete profile.pendingResources
}

export function adminClient(ctx: WalkthroughContext): AdminClient {
  if (!ctx.adminKey) {
    throw new InputError('admin_key_missing', 'no admin key', {
      hint: 'Set AUTHPLANE_ADMIN_API_KEY (or put it in ./.env); `ap-demo stack up` saves its key in the profile for you.',
    })
  }
  return new AdminClient({adminUrl: ctx.adminUrl, adminKey: ctx.adminKey, keySource: ctx.adminKeySource, timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
}
