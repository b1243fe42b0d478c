import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject} from 'node:crypto'
import {join} from 'node:path'
import {StackFileError} from '../../errors.js'
import type {Db} from './db.js'
import {readPrivateFile, writePrivateFile} from './files.js'

export interface PublicJwk {
  kty: 'EC'
  crv: 'P-256'
  x: string
  y: string
  kid: string
  alg: 'ES256'
  use: 'sig'
}

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  publicJwk: PublicJwk
}

interface StoredJwk {
  kty: string
  crv: string
  x: string
  y: string
  d: string
  kid?: string
  alg?: string
  created_at?: string
}

/** RFC 7638 thumbprint of an EC public key: SHA-256 over the required members in lexicographic order. */
export function ecThumbprint(jwk: {crv: string; x: string; y: string}): string {
  const canonical = `{"crv":${JSON.stringify(jwk.crv)},"kty":"EC","x":${JSON.stringify(jwk.x)},"y":${JSON.stringify(jwk.y)}}`
  return createHash('sha256').update(canonical).digest('base64url')
}

function fromPrivateKey(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey)
  const jwk = publicKey.export({format: 'jwk'}) as {crv?: string; x?: string; y?: string}
  if (jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined) {
    throw new Error('signing key must be an EC P-256 key')
  }
  const kid = ecThumbprint({crv: jwk.crv, x: jwk.x, y: jwk.y})
  return {kid, privateKey, publicKey, publicJwk: {kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig'}}
}

export function generateSigningKey(): SigningKey {
  return fromPrivateKey(generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey)
}

/** What loading the signing key found, besides the key. */
export interface SigningKeyLoad {
  key: SigningKey
  /** Set when the key file was missing while tokens signed with the lost key were still live. */
  replaced?: {file: string; liveTokens: number; lastExpiry: Date}
}

const SIGNING_KEY_FILE = 'signing-key.json'

function parseStoredKey(path: string, data: Buffer): SigningKey {
  const corrupt = (reason: string, cause?: unknown): StackFileError =>
    new StackFileError(path, 'corrupt', `not a usable signing key (${reason})`, `Restore ${path} from a backup. Without it, move it away (mv ${path} ${path}.bak): a new key is made, and the tokens signed with the old one stop verifying.`, undefined, {cause})
  let jwk: Partial<StoredJwk>
  try {
    const parsed = JSON.parse(data.toString('utf8')) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt('not a JSON object')
    jwk = parsed as Partial<StoredJwk>
  } catch (error) {
    if (error instanceof StackFileError) throw error
    throw corrupt('not JSON', error)
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || [jwk.x, jwk.y, jwk.d].some((v) => typeof v !== 'string')) {
    throw corrupt('expected an EC P-256 private JWK with x, y and d')
  }
  try {
    return fromPrivateKey(createPrivateKey({key: {kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d}, format: 'jwk'}))
  } catch (error) {
    throw corrupt('the key material is invalid', error)
  }
}

// The key is persisted so that tokens minted before a restart still verify after it: resource
// servers cache the JWKS and would otherwise reject every live token with an unknown kid. When the
// file is gone but the database still holds live tokens, a new key is made (the stack must be able
// to start) and the caller is told what it costs, so that it is never a silent change.
export function loadOrCreateSigningKey(dataDir: string | undefined, db?: Db): SigningKeyLoad {
  if (dataDir === undefined) return {key: generateSigningKey()}
  const path = join(dataDir, SIGNING_KEY_FILE)
  const existing = readPrivateFile(path)
  if (existing !== undefined) return {key: parseStoredKey(path, existing)}
  const live = db === undefined ? undefined : liveTokens(db)
  const key = generateSigningKey()
  const priv = key.privateKey.export({format: 'jwk'}) as StoredJwk
  const stored: StoredJwk = {kty: priv.kty, crv: priv.crv, x: priv.x, y: priv.y, d: priv.d, kid: key.kid, alg: 'ES256', created_at: new Date().toISOString()}
  writePrivateFile(path, JSON.stringify(stored, null, 2) + '\n')
  return live && live.count > 0 ? {key, replaced: {file: path, liveTokens: live.count, lastExpiry: new Date(live.lastExp * 1000)}} : {key}
}

function liveTokens(db: Db): {count: number; lastExp: number} {
  const row = db.prepare('SELECT COUNT(*) AS count, MAX(exp) AS lastExp FROM issued_tokens WHERE revoked = 0 AND exp > ?').get(Math.floor(Date.now() / 1000)) as {count: number; lastExp: number | null}
  return {count: row.count, lastExp: row.lastExp ?? 0}
}

export interface VerifiedJwt {
  header: Record<string, unknown>
  payload: Record<string, unknown>
}

/**
 * Compact-JWS ES256 signer. The header is encoded once: it never changes for a key, and the token
 * endpoint's throughput is bounded by signing, so per-request work stays minimal.
 */
export class JwtSigner {
  private readonly encodedHeader: string

  constructor(readonly key: SigningKey) {
    // RFC 9068 §2.1: access tokens carry typ "at+jwt" so they cannot be confused with ID tokens.
    this.encodedHeader = Buffer.from(JSON.stringify({alg: 'ES256', kid: key.kid, typ: 'at+jwt'})).toString('base64url')
  }

  sign(payload: object): string {
    const input = this.encodedHeader + '.' + Buffer.from(JSON.stringify(payload)).toString('base64url')
    // JWS (RFC 7518 §3.4) wants the raw r||s signature, not DER.
    const signature = sign('sha256', Buffer.from(input), {key: this.key.privateKey, dsaEncoding: 'ieee-p1363'})
    return input + '.' + signature.toString('base64url')
  }

  /** Verifies a token this signer produced; undefined for anything else (malformed, other key, bad signature). */
  verify(token: string): VerifiedJwt | undefined {
    const parts = token.split('.')
    if (parts.length !== 3) return undefined
    const [h, p, s] = parts as [string, string, string]
    try {
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown
      if (typeof header !== 'object' || header === null) return undefined
      const hdr = header as Record<string, unknown>
      if (hdr.alg !== 'ES256' || hdr.kid !== this.key.kid) return undefined
      const ok = verify('sha256', Buffer.from(h + '.' + p), {key: this.key.publicKey, dsaEncoding: 'ieee-p1363'}, Buffer.from(s, 'base64url'))
      if (!ok) return undefined
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined
      return {header: hdr, payload: payload as Record<string, unknown>}
    } catch {
      return undefined
    }
  }
}
