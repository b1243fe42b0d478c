import Conf from 'conf'
import {chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {ApDemoError, InputError, ConfigError} from '../errors.js'

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
  dpopKey?: DpopKeyRecord
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

function unreadable(path: string, error: unknown): ApDemoError {
  return new ConfigError('store_unreadable', `the ap-demo store ${path} cannot be read: ${(error as Error).message.split('\n')[0]}`, {
    hint: `Nothing was changed. Fix the file by hand, or move it away to start fresh (mv ${path} ${path}.bak).`,
    cause: error,
  })
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

  constructor(options: {cwd?: string} = {}) {
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
    mkdirSync(dir, {recursive: true, mode: 0o700})
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
    try {
      return this.conf.store
    } catch (error) {
      throw unreadable(this.path, error)
    }
  }

  private withLock<T>(fn: () => T): T {
    const deadline = Date.now() + 10_000
    let fd: number | undefined
    while (fd === undefined) {
      try {
        fd = openSync(this.lockPath, 'wx', 0o600)
        writeSync(fd, `${process.pid} ${Date.now()}\n`)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        if (this.lockIsStale()) {
          try {
            unlinkSync(this.lockPath)
          } catch {}
          continue
        }
        if (Date.now() > deadline) {
          throw new ConfigError('store_locked', `the ap-demo store is locked by another process (${this.lockPath})`, {
            hint: `If no other ap-demo is running, remove ${this.lockPath}.`,
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

  /** A lock is stale when its holder is gone or it is older than 30 s (a crashed holder). */
  private lockIsStale(): boolean {
    try {
      const [pidText, timeText] = readFileSync(this.lockPath, 'utf8').trim().split(' ')
      const pid = Number(pidText)
      if (Date.now() - Number(timeText) > 30_000) return true
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 0)
        } catch (error) {
          return (error as NodeJS.ErrnoException).code === 'ESRCH'
        }
      }
      return false
    } catch {
      // The holder is between creating and writing the file, or just removed it.
      return false
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
    return structuredClone(this.read().profiles?.[name] ?? {})
  }

  /** Read-modify-write of one profile under the lock; returns the profile as saved. */
  updateProfile(name: string, change: (profile: Profile) => Profile | void): Profile {
    validateProfileName(name)
    return this.withLock(() => {
      const store = this.read()
      const current = structuredClone(store.profiles?.[name] ?? {})
      const next = change(current) ?? current
      const profiles = {...store.profiles, [name]: next}
      this.conf.set('profiles', profiles)
      return structuredClone(next)
    })
  }

  deleteProfile(name: string): boolean {
    return this.withLock(() => {
      const store = this.read()
      if (!store.profiles || !Object.hasOwn(store.profiles, name)) return false
      const {[name]: _removed, ...rest} = store.profiles
      this.conf.set('profiles', rest)
      if (store.activeProfile === name) this.conf.delete('activeProfile')
      return true
    })
  }

  setActiveProfile(name: string): void {
    validateProfileName(name)
    this.withLock(() => this.conf.set('activeProfile', name))
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
