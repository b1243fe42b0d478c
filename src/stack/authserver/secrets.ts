import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {join} from 'node:path'
import {readPrivateFile, writePrivateFile} from './files.js'

const PEPPER_BYTES = 32
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
 * a fresh in-memory key without a dataDir.
 */
export function loadOrCreateSecretFile(dataDir: string | undefined, fileName: string, bytes: number): Buffer {
  if (dataDir === undefined) return randomBytes(bytes)
  const path = join(dataDir, fileName)
  const existing = readPrivateFile(path)
  if (existing !== undefined) {
    if (existing.length !== bytes) {
      throw new Error(`${path} must hold exactly ${bytes} bytes (found ${existing.length}); refusing to guess`)
    }
    return existing
  }
  const key = randomBytes(bytes)
  writePrivateFile(path, key)
  return key
}

/** The server pepper (`pepper.key`) that keys client-secret hashes. */
export function loadOrCreatePepper(dataDir: string | undefined): Buffer {
  return loadOrCreateSecretFile(dataDir, 'pepper.key', PEPPER_BYTES)
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
