import {readJson, send, type RequestObserver} from '../http/request.js'

// A typed client for the Authplane admin API (contract §2). It speaks the real server's quirks:
// problem+json errors, a 401 with its own JSON shape, list endpoints that answer a bare array (or
// the documented `{"resources": [...]}`), and create-vs-read field names for clients.

export interface AdminScope {
  name: string
  description?: string
  upstream?: string
}

export interface ResourceView {
  id: string
  slug: string
  uri: string
  backend_kind: string
  broker_provider_id?: string
  display_name?: string
  scopes: AdminScope[]
  policy?: unknown
  created_at?: string
  updated_at?: string
}

export interface CreateResourceRequest {
  slug: string
  uri: string
  backend_kind: 'mint'
  display_name?: string
  scopes: AdminScope[]
}

export interface CreateClientRequest {
  client_name: string
  grant_types: string[]
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none'
  scope: string
}

/** A client as ap-demo uses it, whatever names the server used (create: client_id, read: id). */
export interface ClientInfo {
  id: string
  name: string
  grantTypes: string[]
  authMethod: string
  scope: string
  status: string
}

export interface ListedClient extends ClientInfo {
  /** RFC 3339 time the server created it ('' when it does not say). */
  issuedAt: string
}

const CLIENT_PAGE = 100

export interface CreatedClient extends ClientInfo {
  /** Shown once, here only. Absent for public clients (auth method `none`). */
  secret?: string
}

export type UserRole = 'admin' | 'user'

/** The admin API's user view (it never carries a password or its hash). */
export interface UserView {
  id: string
  email: string
  name: string
  role: string
  status: string
  provider: string
  created_at: string
}

export interface CreateUserRequest {
  email: string
  password: string
  name?: string
  role?: UserRole
}

/** Where an admin key came from: a hint about a refused key names it. */
export type AdminKeySource = 'flag' | 'env' | '.env' | 'profile' | 'prompt'

export type AdminErrorKind = 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'invalid' | 'server' | 'unexpected'

export class AdminApiError extends Error {
  constructor(
    readonly kind: AdminErrorKind,
    readonly status: number,
    readonly detail: string,
    readonly request: {method: string; url: string},
    readonly body: unknown,
    /** Where the admin key came from (flag, env, .env, profile, prompt), when the caller said. */
    readonly keySource?: AdminKeySource,
  ) {
    super(`${request.method} ${new URL(request.url).pathname} -> ${status}: ${detail}`)
    this.name = 'AdminApiError'
  }
}

export interface AdminClientOptions {
  adminUrl: string
  adminKey: string
  timeoutMs?: number
  observer?: RequestObserver
  keySource?: AdminKeySource
}

function kindFor(status: number): AdminErrorKind {
  if (status === 401) return 'unauthorized'
  if (status === 403) return 'forbidden'
  if (status === 404) return 'not_found'
  if (status === 409) return 'conflict'
  if (status >= 500) return 'server'
  if (status >= 400) return 'invalid'
  return 'unexpected'
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function toClientInfo(body: Record<string, unknown>): ClientInfo {
  return {
    id: str(body.client_id) || str(body.id),
    name: str(body.client_name) || str(body.name),
    grantTypes: Array.isArray(body.grant_types) ? body.grant_types.map(String) : [],
    authMethod: str(body.token_endpoint_auth_method),
    scope: str(body.scope),
    status: str(body.status),
  }
}

/**
 * The admin API's base URL, as every request is built from it: routes live under /admin, so a URL
 * that already ends in /admin (as `stack up` and the server docs show the API) is taken as its base.
 */
export function adminBaseUrl(adminUrl: string): string {
  return adminUrl.replace(/\/+$/, '').replace(/\/admin$/, '')
}

export class AdminClient {
  readonly baseUrl: string

  constructor(private readonly options: AdminClientOptions) {
    this.baseUrl = adminBaseUrl(options.adminUrl)
  }

  private async call(method: string, path: string, body?: unknown, expected: number[] = [200]): Promise<unknown> {
    const url = `${this.baseUrl}${path}`
    const headers: Record<string, string> = {Authorization: `Bearer ${this.options.adminKey}`, Accept: 'application/json'}
    let payload: string | undefined
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      payload = JSON.stringify(body)
    }
    const response = await send(url, {
      method,
      headers,
      body: payload,
      timeoutMs: this.options.timeoutMs,
      observer: this.options.observer,
    })
    const parsed = await readJson(response)
    if (expected.includes(response.status)) return parsed
    const record = (parsed ?? {}) as Record<string, unknown>
    // 401 uses the OAuth-style shape; everything else is RFC 9457 problem+json.
    const detail = str(record.error_description) || str(record.detail) || str(record.title) || `HTTP ${response.status}`
    throw new AdminApiError(kindFor(response.status), response.status, detail, {method, url}, parsed, this.options.keySource)
  }

  async createResource(request: CreateResourceRequest): Promise<ResourceView> {
    return (await this.call('POST', '/admin/resources', request, [201])) as ResourceView
  }

  async getResourceBySlug(slug: string): Promise<ResourceView> {
    return (await this.call('GET', `/admin/resources?slug=${encodeURIComponent(slug)}`)) as ResourceView
  }

  async getResource(id: string): Promise<ResourceView> {
    return (await this.call('GET', `/admin/resources/${encodeURIComponent(id)}`)) as ResourceView
  }

  /** The real server answers a bare array; its docs promise `{"resources": [...]}`. Both are read. */
  async listResources(): Promise<ResourceView[]> {
    const body = await this.call('GET', '/admin/resources?limit=500')
    if (Array.isArray(body)) return body as ResourceView[]
    const wrapped = (body as {resources?: unknown})?.resources
    return Array.isArray(wrapped) ? (wrapped as ResourceView[]) : []
  }

  async deleteResource(id: string): Promise<void> {
    await this.call('DELETE', `/admin/resources/${encodeURIComponent(id)}`, undefined, [204, 200])
  }

  async createClient(request: CreateClientRequest): Promise<CreatedClient> {
    const body = (await this.call('POST', '/admin/clients', request, [201])) as Record<string, unknown>
    const info = toClientInfo(body)
    return {...info, secret: typeof body.client_secret === 'string' && body.client_secret !== '' ? body.client_secret : undefined}
  }

  async getClient(id: string): Promise<ClientInfo> {
    return toClientInfo((await this.call('GET', `/admin/clients/${encodeURIComponent(id)}`)) as Record<string, unknown>)
  }

  /** Every client, page by page (the real server answers a bare array, `limit` default 50). */
  async listClients(): Promise<ListedClient[]> {
    const all: ListedClient[] = []
    for (let offset = 0; ; offset += CLIENT_PAGE) {
      const body = await this.call('GET', `/admin/clients?limit=${CLIENT_PAGE}&offset=${offset}`)
      const page = Array.isArray(body) ? body : Array.isArray((body as {clients?: unknown})?.clients) ? ((body as {clients: unknown[]}).clients) : []
      for (const item of page as Array<Record<string, unknown>>) all.push({...toClientInfo(item), issuedAt: str(item.issued_at)})
      if (page.length < CLIENT_PAGE || offset > 100_000) return all
    }
  }

  async rotateClientSecret(id: string): Promise<{id: string; secret: string}> {
    const body = (await this.call('POST', `/admin/clients/${encodeURIComponent(id)}/rotate-secret`)) as Record<string, unknown>
    return {id: str(body.client_id) || id, secret: str(body.client_secret)}
  }

  async deleteClient(id: string, force = false): Promise<void> {
    await this.call('DELETE', `/admin/clients/${encodeURIComponent(id)}${force ? '?force=true' : ''}`, undefined, [204, 200])
  }

  async listUsers(): Promise<UserView[]> {
    const body = await this.call('GET', '/admin/users')
    return Array.isArray(body) ? (body as UserView[]) : []
  }

  /** The user with this email (compared case-insensitively, as the server's uniqueness is), if any. */
  async findUserByEmail(email: string): Promise<UserView | undefined> {
    const wanted = email.toLowerCase()
    return (await this.listUsers()).find((u) => u.email.toLowerCase() === wanted)
  }

  async createUser(request: CreateUserRequest): Promise<UserView> {
    return (await this.call('POST', '/admin/users', request, [201])) as UserView
  }

  async updateUser(id: string, fields: {email?: string; name?: string}): Promise<UserView> {
    return (await this.call('PATCH', `/admin/users/${encodeURIComponent(id)}`, fields)) as UserView
  }

  /** PATCH /admin/users/{id}/disable|enable; 409 when the user already is in that state. */
  async setUserEnabled(id: string, enabled: boolean): Promise<string> {
    const body = (await this.call('PATCH', `/admin/users/${encodeURIComponent(id)}/${enabled ? 'enable' : 'disable'}`)) as Record<string, unknown>
    return str(body.status)
  }

  async deleteUser(id: string, force = false): Promise<void> {
    await this.call('DELETE', `/admin/users/${encodeURIComponent(id)}${force ? '?force=true' : ''}`, undefined, [204, 200])
  }
}
