import type Database from 'better-sqlite3'
import type {Db} from './db.js'
import type {AuthMethod, Client, ClientStatus} from '../domain/client.js'
import type {BackendKind, Policy, Resource, ScopeDef} from '../domain/resource.js'

export interface IssuedToken {
  jti: string
  client_id: string
  aud: string
  scope: string
  iat: number
  exp: number
  cnf_jkt: string | null
  revoked: number
}

interface ResourceRow {
  id: string
  slug: string
  uri: string
  backend_kind: BackendKind
  broker_provider_id: string
  display_name: string
  created_at: string
  updated_at: string
}

interface ClientRow {
  id: string
  name: string
  secret_hash: string | null
  redirect_uris: string
  grant_types: string
  response_types: string
  token_endpoint_auth_method: AuthMethod
  scope: string
  status: ClientStatus
  registration_source: string
  agent: number
  agent_description: string
  application_type: string
  issued_at: string
  updated_at: string
}

function toClient(row: ClientRow): Client {
  return {
    ...row,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    grant_types: JSON.parse(row.grant_types) as string[],
    response_types: JSON.parse(row.response_types) as string[],
    agent: row.agent !== 0,
  }
}

type Stmt = Database.Statement

/**
 * All SQL lives here, prepared once at start: the token endpoint runs a handful of these per
 * request and re-preparing would cost more than executing.
 */
export class Store {
  private readonly s: Record<string, Stmt>
  private pendingTokens: IssuedToken[] = []
  private flushScheduled = false
  private readonly insertTokens: (rows: IssuedToken[]) => void
  private closed = false
  // Read-through caches for the token endpoint's two lookups. Every write to clients or resources
  // goes through this class and clears them, so they can never serve a stale secret hash, status
  // or scope catalog; misses are not cached, so a client created a moment ago is seen at once.
  private readonly clientCache = new Map<string, Client>()
  private readonly uriCache = new Map<string, {id: string; scopeNames: string[]}>()
  private static readonly CACHE_LIMIT = 10_000

  constructor(private readonly db: Db) {
    const p = (sql: string): Stmt => db.prepare(sql)
    this.s = {
      ping: p('SELECT 1'),
      resourceById: p('SELECT * FROM resources WHERE id = ?'),
      resourceBySlug: p('SELECT * FROM resources WHERE slug = ?'),
      // Resource URIs are not unique; the first registered one wins, deterministically.
      resourceByUri: p('SELECT * FROM resources WHERE uri = ? ORDER BY rowid LIMIT 1'),
      resourcesByUri: p('SELECT id FROM resources WHERE uri = ?'),
      listResources: p('SELECT * FROM resources ORDER BY rowid LIMIT ? OFFSET ?'),
      listResourcesByKind: p('SELECT * FROM resources WHERE backend_kind = ? ORDER BY rowid LIMIT ? OFFSET ?'),
      insertResource: p(`INSERT INTO resources (id, slug, uri, backend_kind, broker_provider_id, display_name, created_at, updated_at)
        VALUES (@id, @slug, @uri, @backend_kind, @broker_provider_id, @display_name, @created_at, @updated_at)`),
      updateResource: p(`UPDATE resources SET slug = @slug, uri = @uri, backend_kind = @backend_kind,
        broker_provider_id = @broker_provider_id, display_name = @display_name, updated_at = @updated_at WHERE id = @id`),
      deleteResource: p('DELETE FROM resources WHERE id = ?'),
      scopesOf: p('SELECT name, description, upstream FROM resource_scopes WHERE resource_id = ? ORDER BY position'),
      scopeNamesOf: p('SELECT name FROM resource_scopes WHERE resource_id = ?'),
      deleteScopes: p('DELETE FROM resource_scopes WHERE resource_id = ?'),
      insertScope: p('INSERT INTO resource_scopes (resource_id, position, name, description, upstream) VALUES (?, ?, ?, ?, ?)'),
      allScopeNames: p('SELECT s.name FROM resource_scopes s JOIN resources r ON r.id = s.resource_id ORDER BY r.rowid, s.position'),
      policyOf: p('SELECT kind, client_id FROM resource_policy_clients WHERE resource_id = ? ORDER BY kind, position'),
      deletePolicy: p('DELETE FROM resource_policy_clients WHERE resource_id = ?'),
      insertPolicy: p('INSERT OR IGNORE INTO resource_policy_clients (resource_id, kind, position, client_id) VALUES (?, ?, ?, ?)'),
      runtimeAllowed: p(`SELECT 1 FROM resource_policy_clients p JOIN resources r ON r.id = p.resource_id
        WHERE r.uri = ? AND p.kind = 'runtime' AND p.client_id = ? LIMIT 1`),
      clientById: p('SELECT * FROM clients WHERE id = ?'),
      clientExists: p('SELECT 1 FROM clients WHERE id = ?'),
      // Empty filter values match everything, as in the real server's store.
      listClients: p(`SELECT * FROM clients WHERE (@status = '' OR status = @status) AND (@source = '' OR registration_source = @source)
        ORDER BY rowid LIMIT @limit OFFSET @offset`),
      insertClient: p(`INSERT INTO clients (id, name, secret_hash, redirect_uris, grant_types, response_types,
        token_endpoint_auth_method, scope, status, registration_source, agent, agent_description, application_type, issued_at, updated_at)
        VALUES (@id, @name, @secret_hash, @redirect_uris, @grant_types, @response_types, @token_endpoint_auth_method,
        @scope, @status, @registration_source, @agent, @agent_description, @application_type, @issued_at, @updated_at)`),
      updateClient: p(`UPDATE clients SET name = @name, redirect_uris = @redirect_uris, grant_types = @grant_types,
        response_types = @response_types, scope = @scope, updated_at = @updated_at WHERE id = @id`),
      setClientSecret: p('UPDATE clients SET secret_hash = ?, updated_at = ? WHERE id = ?'),
      setClientStatus: p('UPDATE clients SET status = ?, updated_at = ? WHERE id = ?'),
      deleteClient: p('DELETE FROM clients WHERE id = ?'),
      insertToken: p(`INSERT INTO issued_tokens (jti, client_id, aud, scope, iat, exp, cnf_jkt, revoked)
        VALUES (@jti, @client_id, @aud, @scope, @iat, @exp, @cnf_jkt, 0)`),
      tokenByJti: p('SELECT * FROM issued_tokens WHERE jti = ?'),
      revokeToken: p('UPDATE issued_tokens SET revoked = 1 WHERE jti = ?'),
      liveTokenCount: p('SELECT COUNT(*) FROM issued_tokens WHERE client_id = ? AND revoked = 0 AND exp > ?'),
      purgeExpired: p('DELETE FROM issued_tokens WHERE exp < ?'),
    }
    const insertToken = this.s.insertToken!
    this.insertTokens = db.transaction((rows: IssuedToken[]) => {
      for (const row of rows) insertToken.run(row)
    })
  }

  private st(name: string): Stmt {
    return this.s[name]!
  }

  ping(): boolean {
    return this.st('ping').pluck().get() === 1
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  // --- resources -----------------------------------------------------------------------------

  private hydrate(row: ResourceRow): Resource {
    const scopes = this.st('scopesOf').all(row.id) as ScopeDef[]
    const policy: Policy = {exchange: {allowed_client_ids: []}, runtime: {client_ids: []}}
    for (const p of this.st('policyOf').all(row.id) as Array<{kind: string; client_id: string}>) {
      if (p.kind === 'exchange') policy.exchange.allowed_client_ids.push(p.client_id)
      else policy.runtime.client_ids.push(p.client_id)
    }
    return {...row, scopes, policy}
  }

  resourceById(id: string): Resource | undefined {
    const row = this.st('resourceById').get(id) as ResourceRow | undefined
    return row && this.hydrate(row)
  }

  resourceBySlug(slug: string): Resource | undefined {
    const row = this.st('resourceBySlug').get(slug) as ResourceRow | undefined
    return row && this.hydrate(row)
  }

  /** Every resource registered under exactly this URI (URIs are not unique). */
  resourcesByUri(uri: string): Resource[] {
    return (this.st('resourcesByUri').pluck().all(uri) as string[]).flatMap((id) => this.resourceById(id) ?? [])
  }

  /** Token-endpoint lookup: the resource registered under exactly this URI and its scope names. */
  resourceScopesByUri(uri: string): {id: string; scopeNames: string[]} | undefined {
    const cached = this.uriCache.get(uri)
    if (cached !== undefined) return cached
    const found = this.resourceScopesByUriUncached(uri)
    if (found !== undefined) {
      if (this.uriCache.size >= Store.CACHE_LIMIT) this.uriCache.clear()
      this.uriCache.set(uri, found)
    }
    return found
  }

  private resourceScopesByUriUncached(uri: string): {id: string; scopeNames: string[]} | undefined {
    const row = this.st('resourceByUri').get(uri) as ResourceRow | undefined
    if (row === undefined) return undefined
    return {id: row.id, scopeNames: this.st('scopeNamesOf').pluck().all(row.id) as string[]}
  }

  listResources(limit: number, offset: number, backendKind?: string): Resource[] {
    const rows = (backendKind === undefined
      ? this.st('listResources').all(limit, offset)
      : this.st('listResourcesByKind').all(backendKind, limit, offset)) as ResourceRow[]
    return rows.map((r) => this.hydrate(r))
  }

  /** Every resource's scope names, first appearance wins, in registration order. */
  allScopeNames(): string[] {
    return [...new Set(this.st('allScopeNames').pluck().all() as string[])]
  }

  /** Inserts or fully rewrites a resource with its scopes and policy, atomically. */
  saveResource(r: Resource, isNew: boolean): void {
    this.invalidate()
    this.transaction(() => {
      const row = {id: r.id, slug: r.slug, uri: r.uri, backend_kind: r.backend_kind, broker_provider_id: r.broker_provider_id,
        display_name: r.display_name, created_at: r.created_at, updated_at: r.updated_at}
      if (isNew) this.st('insertResource').run(row)
      else this.st('updateResource').run(row)
      this.st('deleteScopes').run(r.id)
      r.scopes.forEach((s, i) => this.st('insertScope').run(r.id, i, s.name, s.description, s.upstream))
      this.st('deletePolicy').run(r.id)
      r.policy.exchange.allowed_client_ids.forEach((c, i) => this.st('insertPolicy').run(r.id, 'exchange', i, c))
      r.policy.runtime.client_ids.forEach((c, i) => this.st('insertPolicy').run(r.id, 'runtime', i, c))
    })
  }

  deleteResource(id: string): boolean {
    this.invalidate()
    return this.st('deleteResource').run(id).changes > 0
  }

  /** RFC 7662 policy: may this client introspect tokens whose audience is `uri`? */
  runtimeAllowed(uri: string, clientId: string): boolean {
    return this.st('runtimeAllowed').get(uri, clientId) !== undefined
  }

  // --- clients -------------------------------------------------------------------------------

  clientById(id: string): Client | undefined {
    const cached = this.clientCache.get(id)
    if (cached !== undefined) return cached
    const row = this.st('clientById').get(id) as ClientRow | undefined
    if (row === undefined) return undefined
    const client = toClient(row)
    if (this.clientCache.size >= Store.CACHE_LIMIT) this.clientCache.clear()
    this.clientCache.set(id, client)
    return client
  }

  private invalidate(): void {
    this.clientCache.clear()
    this.uriCache.clear()
  }

  clientExists(id: string): boolean {
    return this.st('clientExists').get(id) !== undefined
  }

  listClients(limit: number, offset: number, filter: {status?: string; source?: string} = {}): Client[] {
    const rows = this.st('listClients').all({status: filter.status ?? '', source: filter.source ?? '', limit, offset}) as ClientRow[]
    return rows.map(toClient)
  }

  insertClient(c: Client): void {
    this.invalidate()
    this.st('insertClient').run({
      ...c,
      redirect_uris: JSON.stringify(c.redirect_uris),
      grant_types: JSON.stringify(c.grant_types),
      response_types: JSON.stringify(c.response_types),
      agent: c.agent ? 1 : 0,
    })
  }

  updateClient(c: Client): void {
    this.invalidate()
    this.st('updateClient').run({
      id: c.id, name: c.name, scope: c.scope, updated_at: c.updated_at,
      redirect_uris: JSON.stringify(c.redirect_uris),
      grant_types: JSON.stringify(c.grant_types),
      response_types: JSON.stringify(c.response_types),
    })
  }

  setClientSecret(id: string, hash: string, now: string): void {
    this.invalidate()
    this.st('setClientSecret').run(hash, now, id)
  }

  setClientStatus(id: string, status: ClientStatus, now: string): void {
    this.invalidate()
    this.st('setClientStatus').run(status, now, id)
  }

  deleteClient(id: string): void {
    this.invalidate()
    this.flushTokens()
    this.st('deleteClient').run(id)
  }

  // --- issued tokens -------------------------------------------------------------------------

  // Token rows are written in batches at the end of the event-loop turn: one transaction per
  // batch instead of one per token keeps the WAL append off the token endpoint's hot path. Every
  // reader of issued_tokens flushes first, so nothing can observe the gap; a crash can lose the
  // rows of the last few milliseconds, whose JWTs then introspect as inactive (fail closed).
  recordToken(t: IssuedToken): void {
    this.pendingTokens.push(t)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => {
        try {
          this.flushTokens()
        } catch (err) {
          // Runs outside any request: an exception here would kill the process.
          console.error('[authserver] token flush failed:', err)
        }
      })
    }
  }

  flushTokens(): void {
    this.flushScheduled = false
    if (this.pendingTokens.length === 0 || this.closed) return
    const rows = this.pendingTokens
    this.pendingTokens = []
    try {
      this.insertTokens(rows)
    } catch {
      // The batch is one transaction, so one bad row (say, its client was deleted meanwhile)
      // rolled back all of them; retry one by one so only that row is lost.
      for (const row of rows) {
        try {
          this.st('insertToken').run(row)
        } catch (err) {
          console.error(`[authserver] could not record token ${row.jti}:`, (err as Error).message)
        }
      }
    }
  }

  tokenByJti(jti: string): IssuedToken | undefined {
    this.flushTokens()
    return this.st('tokenByJti').get(jti) as IssuedToken | undefined
  }

  revokeToken(jti: string): void {
    this.flushTokens()
    this.st('revokeToken').run(jti)
  }

  liveTokenCount(clientId: string, nowSeconds: number): number {
    this.flushTokens()
    return this.st('liveTokenCount').pluck().get(clientId, nowSeconds) as number
  }

  purgeExpired(beforeSeconds: number): void {
    this.st('purgeExpired').run(beforeSeconds)
  }

  close(): void {
    if (this.closed) return
    try {
      this.flushTokens()
    } finally {
      this.closed = true
      this.db.close()
    }
  }
}
