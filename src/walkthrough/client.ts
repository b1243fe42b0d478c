import {AdminApiError, type ClientInfo} from '../admin/client.js'
import type {AuthMethod, ClientRecord, PendingClient} from '../config/store.js'
import {CheckFailedError, ConfigError, inputError} from '../errors.js'
import {HttpUnreachableError} from '../http/request.js'
import {sameBaseUrl} from '../http/url.js'
import type {WalkthroughContext} from './context.js'
import {DEFAULT_CLIENT_SCOPE} from './defaults.js'
import {dropPending, reconcilePending, recordPending, type Reconciled} from './pending.js'
import {adminClient} from './resource.js'
import {parseScopeList} from './scope.js'

export interface ClientSpec {
  name: string
  /** Space-separated scope ceiling, exactly. Undefined: keep the saved client's (or the default for a new one). */
  scope?: string
  /**
   * Scopes the client must be able to request (verify's): a saved client whose ceiling includes
   * them is reused, whatever else it may request; a new one gets them on top of the saved
   * client's ceiling, so that what the user had is never narrowed.
   */
  covering?: string[]
  authMethod?: AuthMethod
}

export interface EnsureClientResult {
  action: 'created' | 'reused' | 'rotated'
  /** Why a new client was made instead of reusing the saved one. */
  reason?: string
  client: ClientRecord
  /** Registrations of interrupted earlier runs that were settled first. */
  reconciled: Reconciled[]
}

export {DEFAULT_CLIENT_SCOPE}

/**
 * Step 4 (contract §6): a confidential client_credentials client. The secret is shown once
 * (contract §7 pitfall 5), so it is written to the store before anything else happens. A saved
 * client is reused while it still exists, is active and matches what was asked; `forceNew` makes
 * a new one; `rotate` gives the saved one a new secret.
 */
export async function ensureClient(ctx: WalkthroughContext, spec: ClientSpec, options: {forceNew?: boolean; rotate?: boolean} = {}): Promise<EnsureClientResult> {
  if (spec.scope !== undefined) {
    const parsed = parseScopeList(spec.scope)
    if (parsed.problem !== undefined) throw inputError(`--scope is not usable: ${parsed.problem}`, 'A scope ceiling is space-separated scope tokens, e.g. "mcp:echo tools.read" (RFC 6749 §3.3), the same rule as for the resource\'s scopes.')
    spec = {...spec, scope: parsed.tokens.join(' ')}
    const declared = declaredScopes(ctx)
    const undeclared = declared ? parsed.tokens.filter((t) => !declared.includes(t)) : []
    if (undeclared.length > 0) {
      throw inputError(
        `--scope ${undeclared.join(' ')}: no resource of profile "${ctx.profile}" declares ${undeclared.length > 1 ? 'these scopes' : 'that scope'} (they declare ${declared!.join(' ')})`,
        `A client that asks for a scope no resource declares gets invalid_scope on every token. Check the spelling, e.g. --scope "${declared!.join(' ')}"; a new scope is declared by its resource first: ap-demo setup resource --scope <scope> ...`,
      )
    }
  }
  const admin = adminClient(ctx)
  const reconciled = ctx.dryRun ? [] : await reconcilePending(ctx)
  const saved = ctx.store.getProfile(ctx.profile).client
  let reason: string | undefined
  if (saved && !options.forceNew) {
    if (!sameBaseUrl(saved.adminUrl, ctx.adminUrl)) {
      reason = `the saved client belongs to ${saved.adminUrl}`
    } else {
      let info: ClientInfo | undefined
      try {
        info = await admin.getClient(saved.id)
      } catch (error) {
        if (!(error instanceof AdminApiError) || error.kind !== 'not_found') throw error
        reason = `the saved client ${saved.id} no longer exists on the server`
      }
      if (info) {
        const wantedMethod = spec.authMethod ?? saved.authMethod
        if (info.status && info.status !== 'active') reason = `the saved client is ${info.status}`
        else if (!info.grantTypes.includes('client_credentials')) reason = 'the saved client cannot use client_credentials'
        else if (spec.scope !== undefined && info.scope !== spec.scope) reason = `the saved client's scope is "${info.scope}", not "${spec.scope}"`
        else if (missingScopes(info.scope, spec.covering).length > 0) reason = `the saved client's scope "${info.scope}" lacks ${missingScopes(info.scope, spec.covering).join(' ')}`
        else if (info.authMethod && info.authMethod !== wantedMethod) reason = `the saved client authenticates with ${info.authMethod}, not ${wantedMethod}`
        else if (options.rotate) {
          const rotated = await admin.rotateClientSecret(saved.id)
          if (!rotated.secret) throw new CheckFailedError('no_secret', 'rotate-secret answered without a client_secret')
          const client = saveClient(ctx, {...saved, secret: rotated.secret, scope: info.scope, name: info.name || saved.name})
          return {action: 'rotated', client, reconciled}
        } else {
          return {action: 'reused', client: {...saved, scope: info.scope, name: info.name || saved.name}, reconciled}
        }
      }
    }
  } else if (options.rotate && !saved) {
    throw new ConfigError('no_saved_client', 'there is no saved client to rotate', {hint: 'Create one first: ap-demo setup client'})
  }

  const authMethod = spec.authMethod ?? 'client_secret_basic'
  const scope = spec.scope ?? (spec.covering ? coveringScope(saved && sameBaseUrl(saved.adminUrl, ctx.adminUrl) ? saved.scope : undefined, spec.covering, declaredScopes(ctx)) : DEFAULT_CLIENT_SCOPE)
  // Written before the POST: a run killed between the server's 201 and the save below leaves this
  // record, and the next run finds the client and recovers or deletes it (reconcilePending).
  const pending = ctx.dryRun ? undefined : recordPending(ctx, {name: spec.name, scope, authMethod})
  let created
  try {
    // Contract §7 pitfall 6: the server defaults to "none" (no secret); always ask for a confidential client.
    created = await admin.createClient({client_name: spec.name, grant_types: ['client_credentials'], token_endpoint_auth_method: authMethod, scope})
  } catch (error) {
    // The server answered with an error, or the request was never sent: nothing was created. A
    // timeout or lost connection proves nothing, so that record stays for reconciliation.
    if (pending && !(error instanceof HttpUnreachableError)) ctx.store.updateProfile(ctx.profile, (p) => dropPending(p, pending))
    throw error
  }
  if (!created.secret) {
    await admin.deleteClient(created.id, true).catch(() => {})
    if (pending) ctx.store.updateProfile(ctx.profile, (p) => dropPending(p, pending))
    throw new CheckFailedError('no_secret', `the server created client ${created.id} without a client_secret`, {
      hint: 'A client_credentials client needs token_endpoint_auth_method client_secret_basic or client_secret_post.',
    })
  }
  const record: ClientRecord = {
    id: created.id,
    name: created.name || spec.name,
    scope: created.scope || scope,
    secret: created.secret,
    authMethod,
    adminUrl: ctx.adminUrl,
    createdAt: new Date().toISOString(),
  }
  // A replaced client that still exists stays known (with its secret) until `clean` deletes it.
  const retire = saved && !reason?.includes('no longer exists') ? saved : undefined
  try {
    saveClient(ctx, record, {pending, retire})
  } catch (error) {
    // The secret cannot be read back; a client whose secret we could not keep is useless, so remove it.
    await admin.deleteClient(created.id, true).catch(() => {})
    throw error
  }
  return {action: 'created', reason, client: record, reconciled}
}

/** The scopes of `wanted` that the ceiling does not include. */
function missingScopes(ceiling: string, wanted: string[] | undefined): string[] {
  const has = new Set(ceiling.split(' ').filter(Boolean))
  return (wanted ?? []).filter((s) => !has.has(s))
}

/**
 * A new client's ceiling: the one the user had (the saved client's), less any scope the profile's
 * resources do not declare (it would make every token request invalid_scope), plus what is wanted.
 */
function coveringScope(had: string | undefined, wanted: string[], declared: string[] | undefined): string {
  const kept = (had ?? '').split(' ').filter((s) => s !== '' && (declared === undefined || declared.includes(s)))
  return [...new Set([...kept, ...wanted])].join(' ')
}

/** The scopes the profile's resources at this admin API declare (its own and the others); undefined when it holds none. */
function declaredScopes(ctx: WalkthroughContext): string[] | undefined {
  const profile = ctx.store.getProfile(ctx.profile)
  const resources = [profile.resource, ...(profile.otherResources ?? [])].filter((r) => r !== undefined && sameBaseUrl(r.adminUrl, ctx.adminUrl))
  return resources.length === 0 ? undefined : [...new Set(resources.flatMap((r) => r!.scopes.map((s) => s.name)))]
}

function saveClient(ctx: WalkthroughContext, record: ClientRecord, settle: {pending?: PendingClient; retire?: ClientRecord} = {}): ClientRecord {
  ctx.store.updateProfile(ctx.profile, (p) => {
    if (settle.retire && p.client?.id === settle.retire.id && settle.retire.id !== record.id) {
      p.retiredClients = [...(p.retiredClients ?? []), p.client]
    }
    p.client = record
    // Tokens of another client (or of the old secret) must not be served from the cache.
    p.tokens = {}
    p.adminUrl ??= ctx.adminUrl
    if (settle.pending) dropPending(p, settle.pending)
  })
  return record
}
