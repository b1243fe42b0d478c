import Database from 'better-sqlite3'
import {join} from 'node:path'
import {touchPrivateFile} from './files.js'

export type Db = Database.Database

interface Migration {
  version: number
  name: string
  sql: string
}

// Append-only: a schema change is one more entry. Entries already applied to a database are never
// edited, because the version number is all that records them.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resources, clients, issued tokens',
    sql: `
      CREATE TABLE clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT,
        redirect_uris TEXT NOT NULL DEFAULT '[]',
        grant_types TEXT NOT NULL DEFAULT '[]',
        response_types TEXT NOT NULL DEFAULT '[]',
        token_endpoint_auth_method TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'revoked')),
        registration_source TEXT NOT NULL DEFAULT 'admin',
        agent INTEGER NOT NULL DEFAULT 0,
        agent_description TEXT NOT NULL DEFAULT '',
        issued_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX clients_by_status ON clients (status);

      CREATE TABLE resources (
        id TEXT PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        uri TEXT NOT NULL,
        backend_kind TEXT NOT NULL CHECK (backend_kind IN ('mint', 'broker')),
        broker_provider_id TEXT NOT NULL DEFAULT '',
        display_name TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX resources_by_uri ON resources (uri);

      CREATE TABLE resource_scopes (
        resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        upstream TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (resource_id, name)
      );

      CREATE TABLE resource_policy_clients (
        resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('exchange', 'runtime')),
        position INTEGER NOT NULL,
        client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        PRIMARY KEY (resource_id, kind, client_id)
      );
      CREATE INDEX resource_policy_by_client ON resource_policy_clients (client_id);

      CREATE TABLE issued_tokens (
        jti TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        aud TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '',
        iat INTEGER NOT NULL,
        exp INTEGER NOT NULL,
        cnf_jkt TEXT,
        revoked INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX issued_tokens_by_client ON issued_tokens (client_id, exp);
    `,
  },
  {
    version: 2,
    name: 'clients.application_type (RFC 7591 / OIDC registration)',
    sql: `ALTER TABLE clients ADD COLUMN application_type TEXT NOT NULL DEFAULT '';`,
  },
  {
    version: 3,
    name: 'users, authorization sessions, consent grants, refresh-token families',
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        provider TEXT NOT NULL DEFAULT 'local',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX users_by_email ON users (email COLLATE NOCASE);

      CREATE TABLE auth_sessions (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL DEFAULT '',
        redirect_uri TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '',
        resource TEXT NOT NULL DEFAULT '',
        resource_id TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT '',
        code_challenge TEXT NOT NULL,
        code_hash TEXT UNIQUE,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX auth_sessions_by_expiry ON auth_sessions (expires_at);

      CREATE TABLE consent_grants (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
        scopes TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        revoked_at TEXT
      );
      CREATE UNIQUE INDEX consent_grants_live ON consent_grants (user_id, client_id, resource_id) WHERE revoked_at IS NULL;

      CREATE TABLE token_families (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        scope TEXT NOT NULL DEFAULT '',
        resource TEXT NOT NULL DEFAULT '',
        auth_session_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
        created_at TEXT NOT NULL
      );
      CREATE INDEX token_families_by_user ON token_families (user_id, status);

      CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY,
        family_id TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        created_at INTEGER NOT NULL
      );

      -- Which access tokens a family issued, so that revoking the family (code or refresh-token
      -- reuse, force logout) also makes them introspect as inactive.
      CREATE TABLE family_access_tokens (
        jti TEXT PRIMARY KEY,
        family_id TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE
      );
      CREATE INDEX family_access_tokens_by_family ON family_access_tokens (family_id);
    `,
  },
  {
    version: 4,
    name: 'DPoP proof jtis and server nonces',
    // Kept in the database, as the real server keeps them (internal/adapters/sqlite/dpop_nonce.go):
    // a restart must neither accept a replayed proof nor forget the nonces it handed out.
    sql: `
      CREATE TABLE dpop_jtis (
        jti TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX dpop_jtis_by_expiry ON dpop_jtis (expires_at);
      CREATE TABLE dpop_nonces (
        nonce TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX dpop_nonces_by_expiry ON dpop_nonces (expires_at);
    `,
  },
]

function migrate(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`)
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]))
  const newest = MIGRATIONS.at(-1)?.version ?? 0
  for (const v of applied) {
    if (v > newest) throw new Error(`database schema version ${v} is newer than this server understands (${newest}); refusing to touch it`)
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  // One transaction for all pending steps: a failure leaves the database exactly as it was.
  db.transaction(() => {
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue
      db.exec(m.sql)
      record.run(m.version, m.name, new Date().toISOString())
    }
  })()
}

/** Opens (and migrates) `authserver.db` in dataDir, or an in-memory database when dataDir is undefined. */
export function openDatabase(dataDir: string | undefined): Db {
  let db: Db
  if (dataDir === undefined) {
    db = new Database(':memory:')
  } else {
    const file = join(dataDir, 'authserver.db')
    touchPrivateFile(file)
    db = new Database(file)
  }
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    migrate(db)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}
