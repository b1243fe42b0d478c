import {AdminApiError, type ClientInfo} from '../admin/client.js'
import type {AuthMethod, ClientRecord} from '../config/store.js'
import {CheckFailedError, ConfigError} from '../errors.js'
import {sameBaseUrl} from '../http/url.js'
import type {WalkthroughContext} from './context.js'
import {DEFAULT_CLIENT_SCOPE} from './defaults.js'
import {adminClient} from './resource.js'

export interface ClientSpec {
  name: string
  /** Space-separated scope ceiling. Undefined: keep the saved client's (or the default for a new one). */
  scope?: string
  authMethod?: AuthMethod
}

export interface EnsureClientResult {
  action: 'created' | 'reused' | 'rotated'
  /** Why a new client was made instead of reusing the saved one. */
  reason?: string
  client: ClientRecord
}

export {DEFAULT_CLIENT_SCOPE}

/**
 * Step 4 (contract §6): a confidential client_credentials client. The secret is shown once
 * (contract §7 pitfall 5), so it is written to the store before anything else happens. A saved
 * client is reused while it still exists, is active and matches what was asked; `forceNew` makes
 * a new one; `rotate` gives the saved one a new secret.
 */
export async function ensureClient(ctx: WalkthroughContext, spec: ClientSpec, options: {forceNew?: boolean; rotate?: boolean} = {}): Promise<EnsureClientResult> {
  const admin = adminClient(ctx)
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
        else if (info.authMethod && info.authMethod !== wantedMethod) reason = `the saved client authenticates with ${info.authMethod}, not ${wantedMethod}`
        else if (options.rotate) {
          const rotated = await admin.rotateClientSecret(saved.id)
          if (!rotated.secret) throw new CheckFailedError('no_secret', 'rotate-secret answered without a client_secret')
          const client = saveClient(ctx, {...saved, secret: rotated.secret, scope: info.scope, name: info.name || saved.name})
          return {action: 'rotated', client}
        } else {
          return {action: 'reused', client: {...saved, scope: info.scope, name: info.name || saved.name}}
        }
      }
    }
  } else if (options.rotate && !saved) {
    throw new ConfigError('no_saved_client', 'there is no saved client to rotate', {hint: 'Create one first: ap-demo setup client'})
  }

  const authMethod = spec.authMethod ?? 'client_secret_basic'
  const scope = spec.scope ?? DEFAULT_CLIENT_SCOPE
  // Contract §7 pitfall 6: the server defaults to "none" (no secret); always ask for a confidential client.
  const created = await admin.createClient({client_name: spec.name, grant_types: ['client_credentials'], token_endpoint_auth_method: authMethod, scope})
  if (!created.secret) {
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
  try {
    saveClient(ctx, record)
  } catch (error) {
    // The secret cannot be read back; a client whose secret we could not keep is useless, so remove it.
    await admin.deleteClient(created.id, true).catch(() => {})
    throw error
  }
  return {action: 'created', reason, client: record}
}

function saveClient(ctx: WalkthroughContext, record: ClientRecord): ClientRecord {
  ctx.store.updateProfile(ctx.profile, (p) => {
    p.client = record
    // Tokens of another client (or of the old secret) must not be served from the cache.
    p.tokens = {}
    p.adminUrl ??= ctx.adminUrl
  })
  return record
}
