// The DPoP replay cache and the server nonces, in the database (the real server's
// internal/adapters/sqlite/dpop_nonce.go: ConsumeJTI, IssueNonce, ValidateNonce, PurgeExpired).
// Expiries are in milliseconds since the epoch.
import type Database from 'better-sqlite3'
import type {Db} from './db.js'

export class DpopStore {
  private readonly consume: Database.Statement
  private readonly insertNonce: Database.Statement
  private readonly nonceExpiry: Database.Statement
  private readonly purgeJtis: Database.Statement
  private readonly purgeNonces: Database.Statement

  constructor(db: Db) {
    // The primary key makes the insert the check: of two requests with one jti, one inserts.
    this.consume = db.prepare('INSERT INTO dpop_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_jtis.expires_at <= ?')
    this.insertNonce = db.prepare('INSERT OR REPLACE INTO dpop_nonces (nonce, expires_at) VALUES (?, ?)')
    this.nonceExpiry = db.prepare('SELECT expires_at FROM dpop_nonces WHERE nonce = ?').pluck()
    this.purgeJtis = db.prepare('DELETE FROM dpop_jtis WHERE expires_at <= ?')
    this.purgeNonces = db.prepare('DELETE FROM dpop_nonces WHERE expires_at <= ?')
  }

  /** Records a proof's jti until `expiresAt`; false when a live record of it exists (a replay). */
  consumeJti(jti: string, expiresAt: number, now: number): boolean {
    return this.consume.run(jti, expiresAt, now).changes === 1
  }

  issueNonce(nonce: string, expiresAt: number): void {
    this.insertNonce.run(nonce, expiresAt)
  }

  /** Is `nonce` one this server issued and still valid at `now`? */
  nonceValid(nonce: string, now: number): boolean {
    const exp = this.nonceExpiry.get(nonce) as number | undefined
    return exp !== undefined && exp > now
  }

  purgeExpired(now: number): void {
    this.purgeJtis.run(now)
    this.purgeNonces.run(now)
  }
}
