import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {join} from 'node:path'
import {StackFileError} from '../../errors.js'
import type {Db} from './db.js'
import {readPrivateFile, writePrivateFile} from './files.js'

const PEPPER_BYTES = 32
const PEPPER_FILE = 'pepper.key'
const HASH_PREFIX = 'hs256$'

/** 16 random bytes, base64url: 22 chars (client ids, resource ids, token jti). */
export function randomId(): string {
  return randomBytes(16).toString('base64url')
}

/** 32 random bytes, base64url: 43 chars. */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Loads `<dataDir>/<fileName>`, a random key of exactly `bytes` bytes, creating it on first start;
 * a fresh in-memory key without a dataDir. A file of another length stops the start, naming it.
 */
export function loadOrCreateSecretFile(dataDir: string | undefined, fileName: string, bytes: number, whenMissing?: (path: string) => void): Buffer {
  if (dataDir === undefined) return randomBytes(bytes)
  const path = join(dataDir, fileName)
  const existing = readPrivateFile(path)
  if (existing !== undefined) {
    if (existing.length !== bytes) {
      throw new StackFileError(path, 'corrupt', `it must hold exactly ${bytes} bytes (found ${existing.length})`, `Restore ${path} from a backup, or remove it if nothing depends on it yet.`)
    }
    return existing
  }
  whenMissing?.(path)
  const key = randomBytes(bytes)
  writePrivateFile(path, key)
  return key
}

/**
 * The server pepper (`pepper.key`) that keys client-secret hashes. Every stored hash is an HMAC
 * under it, so a new pepper would turn every registered client's secret into `invalid_client`:
 * with such clients in `db`, a missing file stops the start instead of being silently replaced.
 */
export function loadOrCreatePepper(dataDir: string | undefined, db?: Db): Buffer {
  return loadOrCreateSecretFile(dataDir, PEPPER_FILE, PEPPER_BYTES, (path) => {
    const clients = db === undefined ? 0 : (db.prepare('SELECT COUNT(*) FROM clients WHERE secret_hash IS NOT NULL').pluck().get() as number)
    if (clients > 0) {
      throw new StackFileError(
        path,
        'missing',
        `missing, but ${clients} registered client secret${clients === 1 ? ' was' : 's were'} hashed with it: with a new pepper every client would get invalid_client`,
        `Restore ${path} from a backup, or move ${dataDir} away to start with no clients (mv ${dataDir} ${dataDir}.bak).`,
      )
    }
  })
}

// Why a fast keyed hash and not bcrypt/argon2: our client secrets are 256 bits from a CSPRNG, not
// human passwords. Slow KDFs exist to make guessing a low-entropy password expensive; guessing a
// 2^256 space is infeasible at any speed, so a slow hash would only add latency to every token
// request (the hot path) for no security gain. The HMAC key (the pepper) lives in a separate 0600
// file, outside the database: someone who steals only the DB cannot even test a guess offline.
// Verification compares the full digests in constant time so response timing says nothing about
// how many leading bytes of a guess were right.
export class SecretHasher {
  constructor(private readonly pepper: Buffer) {}

  hash(secret: string): string {
    return HASH_PREFIX + createHmac('sha256', this.pepper).update(secret, 'utf8').digest('base64url')
  }

  verify(secret: string, stored: string | null): boolean {
    if (stored === null || !stored.startsWith(HASH_PREFIX)) return false
    const expected = Buffer.from(stored.slice(HASH_PREFIX.length), 'base64url')
    const actual = createHmac('sha256', this.pepper).update(secret, 'utf8').digest()
    return expected.length === actual.length && timingSafeEqual(expected, actual)
  }
}
