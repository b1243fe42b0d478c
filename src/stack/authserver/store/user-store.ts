import type Database from 'better-sqlite3'
import type {Db} from './db.js'
import type {AuthSession, ConsentGrant, RefreshToken, TokenFamily, User} from '../domain/user.js'

type Stmt = Database.Statement

interface GrantRow extends Omit<ConsentGrant, 'scopes'> {
  scopes: string
}

function toGrant(row: GrantRow): ConsentGrant {
  return {...row, scopes: JSON.parse(row.scopes) as string[]}
}

/**
 * SQL for the browser flow (users, authorization sessions, consent grants, refresh-token
 * families), on the same database as {@link Store}. Kept apart from it so that the
 * client_credentials hot path's statements and caches stay as they are.
 */
export class UserStore {
  private readonly s: Record<string, Stmt>

  constructor(private readonly db: Db) {
    const p = (sql: string): Stmt => db.prepare(sql)
    this.s = {
      userById: p('SELECT * FROM users WHERE id = ?'),
      userByEmail: p('SELECT * FROM users WHERE email = ? COLLATE NOCASE'),
      listUsers: p('SELECT * FROM users ORDER BY rowid'),
      insertUser: p(`INSERT INTO users (id, email, name, password_hash, role, status, provider, created_at, updated_at)
        VALUES (@id, @email, @name, @password_hash, @role, @status, @provider, @created_at, @updated_at)`),
      updateUser: p('UPDATE users SET email = @email, name = @name, status = @status, password_hash = @password_hash, updated_at = @updated_at WHERE id = @id'),
      deleteUser: p('DELETE FROM users WHERE id = ?'),

      insertSession: p(`INSERT INTO auth_sessions (id, client_id, user_id, redirect_uri, scope, resource, resource_id, state, code_challenge,
        code_hash, expires_at, consumed_at, created_at) VALUES (@id, @client_id, @user_id, @redirect_uri, @scope, @resource, @resource_id,
        @state, @code_challenge, @code_hash, @expires_at, @consumed_at, @created_at)`),
      sessionById: p('SELECT * FROM auth_sessions WHERE id = ?'),
      setSessionCode: p('UPDATE auth_sessions SET code_hash = ?, scope = ?, user_id = ? WHERE id = ? AND code_hash IS NULL'),
      sessionByCode: p('SELECT * FROM auth_sessions WHERE code_hash = ?'),
      // The conditional UPDATE is the single-use guarantee: of two concurrent redemptions exactly
      // one changes a row.
      consumeSession: p('UPDATE auth_sessions SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL'),
      deleteSession: p('DELETE FROM auth_sessions WHERE id = ?'),
      purgeSessions: p('DELETE FROM auth_sessions WHERE expires_at < ?'),

      liveGrant: p('SELECT * FROM consent_grants WHERE user_id = ? AND client_id = ? AND resource_id = ? AND revoked_at IS NULL'),
      grantById: p('SELECT * FROM consent_grants WHERE id = ?'),
      grantsOfUser: p('SELECT * FROM consent_grants WHERE user_id = ? ORDER BY rowid'),
      insertGrant: p(`INSERT INTO consent_grants (id, user_id, client_id, resource_id, scopes, created_at, updated_at)
        VALUES (@id, @user_id, @client_id, @resource_id, @scopes, @created_at, @updated_at)`),
      updateGrantScopes: p('UPDATE consent_grants SET scopes = ?, updated_at = ? WHERE id = ?'),
      revokeGrant: p('UPDATE consent_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),

      insertFamily: p(`INSERT INTO token_families (id, client_id, user_id, scope, resource, auth_session_id, status, created_at)
        VALUES (@id, @client_id, @user_id, @scope, @resource, @auth_session_id, 'active', @created_at)`),
      familyById: p('SELECT * FROM token_families WHERE id = ?'),
      familyBySession: p('SELECT * FROM token_families WHERE auth_session_id = ?'),
      familiesOfUser: p('SELECT * FROM token_families WHERE user_id = ? ORDER BY rowid LIMIT ? OFFSET ?'),
      countFamiliesOfUser: p('SELECT COUNT(*) FROM token_families WHERE user_id = ?'),
      activeFamiliesOfUser: p("SELECT id FROM token_families WHERE user_id = ? AND status = 'active'"),
      activeFamiliesOfGrant: p(`SELECT f.id FROM token_families f JOIN resources r ON r.uri = f.resource
        WHERE f.user_id = ? AND f.client_id = ? AND r.id = ? AND f.status = 'active'`),
      revokeFamily: p("UPDATE token_families SET status = 'revoked' WHERE id = ?"),
      familyJtis: p('SELECT jti FROM family_access_tokens WHERE family_id = ?'),
      linkJti: p('INSERT INTO family_access_tokens (jti, family_id) VALUES (?, ?)'),

      insertRefresh: p(`INSERT INTO refresh_tokens (id, family_id, token_hash, expires_at, consumed_at, created_at)
        VALUES (@id, @family_id, @token_hash, @expires_at, NULL, @created_at)`),
      refreshByHash: p('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
      consumeRefresh: p('UPDATE refresh_tokens SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL'),
    }
  }

  private st(name: string): Stmt {
    return this.s[name]!
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  // --- users ---------------------------------------------------------------------------------

  userById(id: string): User | undefined {
    return this.st('userById').get(id) as User | undefined
  }

  userByEmail(email: string): User | undefined {
    return this.st('userByEmail').get(email) as User | undefined
  }

  listUsers(): User[] {
    return this.st('listUsers').all() as User[]
  }

  /** Runs an insert or update of a user; false when the email is taken (case-insensitively). */
  private writeUser(statement: string, u: User): boolean {
    try {
      this.st(statement).run(u)
      return true
    } catch (err) {
      if ((err as {code?: string}).code === 'SQLITE_CONSTRAINT_UNIQUE') return false
      throw err
    }
  }

  insertUser(u: User): boolean {
    return this.writeUser('insertUser', u)
  }

  /** Writes email, name, status and password hash. */
  updateUser(u: User): boolean {
    return this.writeUser('updateUser', u)
  }

  deleteUser(id: string): void {
    this.st('deleteUser').run(id)
  }

  // --- authorization sessions ----------------------------------------------------------------

  private sessionsInserted = 0

  insertSession(s: AuthSession): void {
    this.st('insertSession').run(s)
    // /oauth/authorize stores a session for every visit, signed in or not; sweep now and then so
    // the table cannot grow without bound. A day's grace keeps used codes for replay detection.
    if (++this.sessionsInserted % 256 === 0) this.purgeSessions(s.created_at - 86_400)
  }

  sessionById(id: string): AuthSession | undefined {
    return this.st('sessionById').get(id) as AuthSession | undefined
  }

  /** Attaches the code (by hash), the approved scope and the user; false if the session already has a code. */
  issueCode(sessionId: string, codeHash: string, scope: string, userId: string): boolean {
    return this.st('setSessionCode').run(codeHash, scope, userId, sessionId).changes === 1
  }

  sessionByCode(codeHash: string): AuthSession | undefined {
    return this.st('sessionByCode').get(codeHash) as AuthSession | undefined
  }

  /** Marks the code used; false when it already was (a replay). */
  consumeSession(id: string, nowSeconds: number): boolean {
    return this.st('consumeSession').run(nowSeconds, id).changes === 1
  }

  deleteSession(id: string): void {
    this.st('deleteSession').run(id)
  }

  purgeSessions(beforeSeconds: number): void {
    this.st('purgeSessions').run(beforeSeconds)
  }

  // --- consent grants ------------------------------------------------------------------------

  liveGrant(userId: string, clientId: string, resourceId: string): ConsentGrant | undefined {
    const row = this.st('liveGrant').get(userId, clientId, resourceId) as GrantRow | undefined
    return row && toGrant(row)
  }

  grantById(id: string): ConsentGrant | undefined {
    const row = this.st('grantById').get(id) as GrantRow | undefined
    return row && toGrant(row)
  }

  grantsOfUser(userId: string): ConsentGrant[] {
    return (this.st('grantsOfUser').all(userId) as GrantRow[]).map(toGrant)
  }

  /** The live grant for (user, client, resource) now holds exactly `scopes`. */
  upsertGrant(g: Omit<ConsentGrant, 'revoked_at'>): void {
    this.transaction(() => {
      const live = this.liveGrant(g.user_id, g.client_id, g.resource_id)
      if (live === undefined) this.st('insertGrant').run({...g, scopes: JSON.stringify(g.scopes)})
      else this.st('updateGrantScopes').run(JSON.stringify(g.scopes), g.updated_at, live.id)
    })
  }

  revokeGrant(id: string, now: string): void {
    this.st('revokeGrant').run(now, id)
  }

  // --- token families and refresh tokens -----------------------------------------------------

  insertFamily(f: Omit<TokenFamily, 'status'>): void {
    this.st('insertFamily').run(f)
  }

  familyById(id: string): TokenFamily | undefined {
    return this.st('familyById').get(id) as TokenFamily | undefined
  }

  familyBySession(sessionId: string): TokenFamily | undefined {
    return this.st('familyBySession').get(sessionId) as TokenFamily | undefined
  }

  familiesOfUser(userId: string, limit: number, offset: number): {families: TokenFamily[]; total: number} {
    return {
      families: this.st('familiesOfUser').all(userId, limit, offset) as TokenFamily[],
      total: this.st('countFamiliesOfUser').pluck().get(userId) as number,
    }
  }

  activeFamilyIdsOfUser(userId: string): string[] {
    return this.st('activeFamiliesOfUser').pluck().all(userId) as string[]
  }

  activeFamilyIdsOfGrant(g: ConsentGrant): string[] {
    return this.st('activeFamiliesOfGrant').pluck().all(g.user_id, g.client_id, g.resource_id) as string[]
  }

  linkAccessToken(jti: string, familyId: string): void {
    this.st('linkJti').run(jti, familyId)
  }

  /** Marks the family revoked and returns the ids of the access tokens it issued. */
  revokeFamily(id: string): string[] {
    this.st('revokeFamily').run(id)
    return this.st('familyJtis').pluck().all(id) as string[]
  }

  insertRefresh(r: Omit<RefreshToken, 'consumed_at'>): void {
    this.st('insertRefresh').run(r)
  }

  refreshByHash(hash: string): RefreshToken | undefined {
    return this.st('refreshByHash').get(hash) as RefreshToken | undefined
  }

  /** Spends a refresh token; false when it already was spent (a replay). */
  consumeRefresh(id: string, nowSeconds: number): boolean {
    return this.st('consumeRefresh').run(nowSeconds, id).changes === 1
  }
}
