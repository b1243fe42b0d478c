import Conf from 'conf'
import {chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {ConfigError, FileError, InputError} from '../errors.js'
import {filesystemErrorCode, makeDirectory} from '../files.js'

export type AuthMethod = 'client_secret_basic' | 'client_secret_post'

export interface ScopeSpec {
  name: string
  description?: string
  upstream?: string
}

/** The resource as ap-demo registered or found it. */
export interface ResourceRecord {
  id: string
  slug: string
  uri: string
  displayName?: string
  scopes: ScopeSpec[]
  /** True when ap-demo created it (so `clean` may delete it); false when it already existed. */
  createdByApDemo: boolean
  /** The admin API it lives on. */
  adminUrl: string
}

/** The client with its once-shown secret. */
export interface ClientRecord {
  id: string
  name: string
  scope: string
  secret: string
  authMethod: AuthMethod
  adminUrl: string
  createdAt: string
}

/**
 * A client registration that was sent (or about to be) but whose answer was not saved yet. It is
 * written before the POST, so that a run killed between the server's 201 and the store's write
 * leaves a trace: a later command finds the client on the server and recovers or deletes it.
 */
export interface PendingClient {
  name: string
  scope: string
  authMethod: AuthMethod
  adminUrl: string
  /** When the POST was about to be sent (ISO); the server's issued_at falls shortly after. */
  startedAt: string
  /** Per-request timeout of that run: bounds how late issued_at can be. */
  timeoutMs: number
  /** The process that sent it: while it lives, its record is not ours to reconcile. */
  pid: number
  /** The profile's client when the run started (undefined: none); the run meant to replace it. */
  replaces?: string
}

/** A resource registration sent but not yet saved: a later 409 on its slug means ap-demo made it. */
export interface PendingResource {
  slug: string
  adminUrl: string
  startedAt: string
  pid: number
}

export interface StoredToken {
  result: {accessToken: string; tokenType: 'Bearer' | 'DPoP'; expiresIn?: number; scope?: string; raw: Record<string, unknown>}
  expiresAt: number
  /** A digest of the credentials that minted it: a token is served only to the same secret. */
  credential?: string
}

/** The profile's own DPoP key (RFC 9449), kept like the client secret: only in this 0600 file. */
export interface DpopKeyRecord {
  /** PKCS#8 PEM private key. */
  pem: string
  alg: 'ES256' | 'RS256'
  /** RFC 7638 thumbprint: the cnf.jkt of the tokens bound to it. */
  thumbprint: string
  createdAt: string
}

/** How a login client authenticates at the token endpoint, as registered (RFC 7591 §2). */
export type LoginClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'

/**
 * The client `ap-demo login` uses at one authorization server (key: its issuer): a client given
 * with --client-id, a Client ID Metadata Document URL, or one registered with RFC 7591 dynamic
 * client registration. Kept so that the next sign-in and every refresh use the same client.
 */
export interface LoginClientRecord {
  issuer: string
  clientId: string
  /** Kept like the client secret above: only in this 0600 file. */
  clientSecret?: string
  authMethod: LoginClientAuthMethod
  /** The loopback redirect URIs it was registered with (RFC 8252 §7.3). */
  redirectUris: string[]
  via: 'pre-registered' | 'cimd' | 'dcr'
  registeredAt: string
  /** RFC 7591 client_secret_expires_at (epoch seconds; 0 or absent: never). */
  secretExpiresAt?: number
}

/** What a login remembers of its authorization server's metadata: the endpoints it uses later. */
export interface LoginServerRecord {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  revocation_endpoint?: string
  registration_endpoint?: string
  authorization_response_iss_parameter_supported?: boolean
  token_endpoint_auth_methods_supported?: string[]
  scopes_supported?: string[]
  /** Where the metadata came from (RFC 8414, OpenID Connect, the 2025-03-26 fallbacks). */
  source: string
  metadataUrl?: string
}

/**
 * A user's sign-in for one MCP server (key: issuer, resource and client). The refresh token is a
 * secret like the client secret: it lives only in this 0600 file, never in output or traces.
 */
export interface LoginRecord {
  mcpUrl: string
  resource: string
  issuer: string
  clientId: string
  /** The client as it was when the tokens were issued: refreshes and revocation authenticate as it. */
  client: LoginClientRecord
  server: LoginServerRecord
  /** The scopes asked for; `scope` is what the server granted, when it said. */
  requestedScopes: string[]
  scope?: string
  accessToken: string
  tokenType: 'Bearer' | 'DPoP'
  /** Epoch ms; undefined when the server gave no expires_in. */
  expiresAt?: number
  refreshToken?: string
  /** The token's `sub` (the user), when it is a JWT. */
  sub?: string
  obtainedAt: string
  refreshedAt?: string
}

export interface Profile {
  issuer?: string
  adminUrl?: string
  mcpUrl?: string
  resourceUri?: string
  adminKey?: string
  resource?: ResourceRecord
  client?: ClientRecord
  tokens?: Record<string, StoredToken>
  breaker?: Record<string, unknown>
  /** Registrations sent but not yet saved (see PendingClient). */
  pendingClients?: PendingClient[]
  /** Resources whose POST was sent but whose answer was not saved yet (slug, when, by which process). */
  pendingResources?: PendingResource[]
  /** Clients ap-demo created here that a newer one replaced (`setup client --new`): `clean` deletes them. */
  retiredClients?: ClientRecord[]
  /** Resources ap-demo created here that the profile no longer points at: `clean` deletes them. */
  retiredResources?: ResourceRecord[]
  /**
   * Resources registered from this profile for another MCP server than its own (`setup resource
   * --uri <elsewhere>` without `--use`, `verify --resource`): the profile's walkthrough stays where
   * it was; kept so that `--use` and `clean` (which deletes those ap-demo created) find them.
   */
  otherResources?: ResourceRecord[]
  dpopKey?: DpopKeyRecord
  /** User sign-ins (`ap-demo login`), by loginKey(issuer, resource, client). */
  logins?: Record<string, LoginRecord>
  /** The client `ap-demo login` uses at each authorization server, by issuer. */
  loginClients?: Record<string, LoginClientRecord>
  /** The https URL of ap-demo's own Client ID Metadata Document, when the user hosts one. */
  clientMetadataUrl?: string
  /**
   * The servers ap-demo itself started for this profile (`stack up`, `stack up --docker`, the
   * wizard's background stack): a failing verify against them is not the user's deployment, so it
   * does not point to `ap-demo doctor`. Cleared when the profile is pointed at other servers.
   */
  startedStack?: {by: string; issuer: string; mcpUrl: string}
}

interface StoreShape {
  activeProfile?: string
  profiles?: Record<string, Profile>
}

export const DEFAULT_PROFILE = 'default'
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function validateProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) {
    throw new InputError('usage', `invalid profile name "${name}"`, {
      hint: 'Use letters, digits, ".", "_" and "-" (up to 64 characters), starting with a letter or digit.',
    })
  }
  return name
}

function unreadable(path: string, error: unknown): FileError {
  return new FileError('store_unreadable', path, `the ap-demo store ${path} cannot be read: ${describeReadError(error)}`, {
    hint: `Nothing was changed. Fix the file by hand, or move it away to start fresh (mv ${path} ${path}.bak).`,
    cause: error,
  })
}

// JSON.parse quotes the text it choked on: for a binary file, raw bytes (terminal escapes
// included), and for a hand-edited one, possibly the client secret next to the typo.
function describeReadError(error: unknown): string {
  if (error instanceof SyntaxError) return 'it is not valid JSON'
  const errno = filesystemErrorCode(error)
  if (errno) return `${(error as NodeJS.ErrnoException).syscall ?? 'read'} failed (${errno})`
  return ((error as Error).message ?? String(error)).split('\n')[0]!.replace(/[^\x20-\x7e]/g, '?')
}

/** A write to the store (or its lock) that the filesystem refused: full, read-only, not ours. */
function unwritable(path: string, error: unknown): FileError {
  const errno = filesystemErrorCode(error) ?? 'EIO'
  return new FileError('store_unwritable', path, `the ap-demo store ${path} cannot be written (${errno})`, {
    hint:
      errno === 'ENOSPC' || errno === 'EDQUOT'
        ? 'The filesystem is full: free some space and retry. The store was left as it was.'
        : `Check that ${dirname(path)} is a writable directory you own (or point XDG_CONFIG_HOME elsewhere). The store was left as it was.`,
    details: {errno},
    cause: error,
  })
}

/**
 * How long a lock file may stay empty or unreadable before it counts as abandoned. Its holder
 * writes its pid right after creating it, so a lock without one for this long was left by a
 * process that died in between, or by a write that failed on a full disk.
 */
const UNWRITTEN_LOCK_STALE_MS = 2_000
/** A lock older than this is stale whatever it says: no store change takes that long. */
const LOCK_MAX_AGE_MS = 30_000

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Profile names are user input: `constructor` or `toString` must find nothing rather than the
// prototype's function.
function ownProfile(store: StoreShape, name: string): Profile | undefined {
  return store.profiles && Object.hasOwn(store.profiles, name) ? store.profiles[name] : undefined
}

/** Sleeps synchronously: the store is synchronous (conf is), and waits here are a few ms. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * The local store: one JSON file (via `conf`) in the XDG config directory, mode 0600 in a 0700
 * directory, holding named profiles with endpoints, the admin key, the resource, the client and
 * its once-shown secret, and cached tokens.
 *
 * conf writes atomically (temp file + rename), so a reader never sees half a file; but two
 * processes doing read-modify-write at once would lose one update. Every change therefore runs
 * under an exclusive lock file and re-reads the store inside the lock.
 */
export class ConfigStore {
  readonly path: string
  private readonly conf: Conf<StoreShape>
  private readonly lockPath: string

  private readonly lockTimeoutMs: number

  constructor(options: {cwd?: string; lockTimeoutMs?: number} = {}) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000
    const settings = {
      projectName: 'ap-demo',
      projectSuffix: '',
      configName: 'config',
      cwd: options.cwd,
      configFileMode: 0o600,
      // Never replace a file we cannot read: it may hold the only copy of a client secret.
      clearInvalidConfig: false,
      accessPropertiesByDotNotation: false,
    }
    try {
      // Made first, with a mkdir that always ends (conf's own loops forever under /proc).
      if (options.cwd !== undefined) makeDirectory(options.cwd, 0o700)
      this.conf = new Conf<StoreShape>(settings)
    } catch (error) {
      const path = `${options.cwd ?? '<config dir>'}/config.json`
      throw unreadable(path, error)
    }
    this.path = this.conf.path
    this.lockPath = `${this.path}.lock`
    this.secureDirectory()
  }

  private secureDirectory(): void {
    const dir = dirname(this.path)
    try {
      makeDirectory(dir, 0o700)
    } catch (error) {
      throw unwritable(this.path, error)
    }
    try {
      if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700)
    } catch {
      // A directory we cannot chmod (not ours) still works; the file itself is 0600.
    }
    try {
      // A store written by something else (or restored from a backup) may be world-readable.
      if ((statSync(this.path).mode & 0o077) !== 0) chmodSync(this.path, 0o600)
    } catch {
      // No file yet: conf creates it with mode 0600.
    }
  }

  private read(): StoreShape {
    let store: unknown
    try {
      store = JSON.parse(readFileSync(this.path, 'utf8'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw unreadable(this.path, error)
    }
    // Parsed here rather than by conf, which takes any JSON: it turns `[]` into an empty store
    // (and `"ab"` into {0: "a", 1: "b"}), which the next change would then write over.
    const profiles = isPlainObject(store) ? store.profiles : undefined
    if (!isPlainObject(store) || (profiles !== undefined && !isPlainObject(profiles))) {
      throw unreadable(this.path, new Error(isPlainObject(store) ? '"profiles" is not a JSON object' : 'it is not a JSON object'))
    }
    return store as StoreShape
  }

  private write(key: keyof StoreShape, value: StoreShape[keyof StoreShape] | undefined): void {
    try {
      if (value === undefined) this.conf.delete(key)
      else this.conf.set(key, value)
    } catch (error) {
      throw unwritable(this.path, error)
    }
  }

  private withLock<T>(fn: () => T): T {
    const deadline = Date.now() + this.lockTimeoutMs
    let fd: number | undefined
    while (fd === undefined) {
      try {
        fd = this.createLock()
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unwritable(this.lockPath, error)
        const lock = this.inspectLock()
        if (lock === 'gone') continue
        if (lock !== 'held') {
          // Remove only the file judged stale: another waiter may have replaced it meanwhile.
          try {
            if (statSync(this.lockPath).ino === lock.ino) unlinkSync(this.lockPath)
          } catch {}
          continue
        }
        if (Date.now() > deadline) {
          throw new ConfigError('store_locked', `the ap-demo store is locked by another process (${this.lockPath})`, {
            hint: `If no other ap-demo is running, remove ${this.lockPath}.`,
            details: {path: this.lockPath},
          })
        }
        sleepSync(5 + Math.floor(Math.random() * 10))
      }
    }
    try {
      return fn()
    } finally {
      closeSync(fd)
      try {
        unlinkSync(this.lockPath)
      } catch {}
    }
  }

  /** Creates the lock file holding our pid; a lock that could not be written is removed again. */
  private createLock(): number {
    const fd = openSync(this.lockPath, 'wx', 0o600)
    try {
      writeSync(fd, `${process.pid} ${Date.now()}\n`)
      return fd
    } catch (error) {
      closeSync(fd)
      try {
        unlinkSync(this.lockPath)
      } catch {}
      throw error
    }
  }

  /**
   * A lock is stale when its holder is gone, when it is older than LOCK_MAX_AGE_MS (a crashed
   * holder), or when it has stayed without a readable pid for UNWRITTEN_LOCK_STALE_MS. Returns
   * the stale file's inode, so that only that file is removed.
   */
  private inspectLock(): 'held' | 'gone' | {ino: number} {
    let ino: number
    let age: number
    try {
      const stat = statSync(this.lockPath)
      ino = stat.ino
      age = Date.now() - stat.mtimeMs
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'held'
    }
    let text = ''
    try {
      text = readFileSync(this.lockPath, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    }
    const match = /^(\d+) (\d+)\n$/.exec(text)
    if (!match) return age > UNWRITTEN_LOCK_STALE_MS ? {ino} : 'held'
    const pid = Number(match[1])
    if (Date.now() - Number(match[2]) > LOCK_MAX_AGE_MS || age > LOCK_MAX_AGE_MS) return {ino}
    if (pid === process.pid) return 'held'
    try {
      process.kill(pid, 0)
      return 'held'
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH' ? {ino} : 'held'
    }
  }

  activeProfileName(override?: string): string {
    if (override) return validateProfileName(override)
    return this.read().activeProfile ?? DEFAULT_PROFILE
  }

  profileNames(): string[] {
    return Object.keys(this.read().profiles ?? {}).sort()
  }

  hasProfile(name: string): boolean {
    return Object.hasOwn(this.read().profiles ?? {}, name)
  }

  getProfile(name: string): Profile {
    return structuredClone(ownProfile(this.read(), name) ?? {})
  }

  /** Read-modify-write of one profile under the lock; returns the profile as saved. */
  updateProfile(name: string, change: (profile: Profile) => Profile | void): Profile {
    validateProfileName(name)
    return this.withLock(() => {
      const store = this.read()
      const current = structuredClone(ownProfile(store, name) ?? {})
      const next = change(current) ?? current
      this.write('profiles', {...store.profiles, [name]: next})
      return structuredClone(next)
    })
  }

  deleteProfile(name: string): boolean {
    return this.withLock(() => {
      const store = this.read()
      if (!store.profiles || !Object.hasOwn(store.profiles, name)) return false
      const {[name]: _removed, ...rest} = store.profiles
      this.write('profiles', rest)
      if (store.activeProfile === name) this.write('activeProfile', undefined)
      return true
    })
  }

  setActiveProfile(name: string): void {
    validateProfileName(name)
    this.withLock(() => this.write('activeProfile', name))
  }

  /** A store in a fresh temporary directory, for a run that must leave no trace (verify --embedded). */
  static temporary(): {store: ConfigStore; dispose: () => void} {
    const dir = mkdtempSync(join(tmpdir(), 'ap-demo-'))
    return {store: new ConfigStore({cwd: dir}), dispose: () => rmSync(dir, {recursive: true, force: true})}
  }

  /** The raw file text, or undefined when there is none (for an all-or-nothing wizard). */
  snapshot(): string | undefined {
    try {
      return readFileSync(this.path, 'utf8')
    } catch {
      return undefined
    }
  }
}
