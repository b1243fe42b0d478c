/**
 * The private key of a client that authenticates with `private_key_jwt` (RFC 7523 §2.2, OpenID
 * Connect Core §9): a PKCS#8 PEM file, as --dpop-key takes one. oauth4webapi signs the client
 * assertion with it (iss = sub = client_id, aud = the issuer, a fresh jti, 60 s of life); the
 * algorithm follows from the key.
 */
import {createPublicKey, webcrypto, type KeyObject} from 'node:crypto'

import {calculateJwkThumbprint, exportJWK} from 'jose'

import {ClientKeyError} from './client-key-errors.js'
import {privateKeyFromPem, type KeyFileFailure} from './pem.js'

export {ClientKeyError, type ClientKeyProblem} from './client-key-errors.js'

/** The algorithms a client assertion is signed with here, by key type (RFC 7518 §3.1). */
export const CLIENT_KEY_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'Ed25519'] as const
export type ClientKeyAlgorithm = (typeof CLIENT_KEY_ALGORITHMS)[number]

export interface ClientKey {
  alg: ClientKeyAlgorithm
  /** Non-extractable, `sign` only: what oauth4webapi's PrivateKeyJwt takes. */
  privateKey: CryptoKey
  /** RFC 7638 thumbprint of the public key, to tell keys apart (the token cache keeps tokens per key). */
  thumbprint: string
  file?: string
}

const WEBCRYPTO_PARAMS: Record<ClientKeyAlgorithm, webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm> = {
  ES256: {name: 'ECDSA', namedCurve: 'P-256'},
  ES384: {name: 'ECDSA', namedCurve: 'P-384'},
  ES512: {name: 'ECDSA', namedCurve: 'P-521'},
  RS256: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'},
  Ed25519: {name: 'Ed25519'},
}

function algorithmOf(key: KeyObject, where: string, file: string | undefined): ClientKeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const byCurve: Record<string, ClientKeyAlgorithm> = {prime256v1: 'ES256', 'P-256': 'ES256', secp384r1: 'ES384', 'P-384': 'ES384', secp521r1: 'ES512', 'P-521': 'ES512'}
      const alg = byCurve[details.namedCurve ?? '']
      if (alg) return alg
      throw new ClientKeyError('unsupported_algorithm', file, `${where} is an EC key on curve ${details.namedCurve ?? '?'}; client assertions are signed on P-256, P-384 or P-521`)
    }
    case 'rsa':
      if ((details.modulusLength ?? 0) >= 2048) return 'RS256'
      throw new ClientKeyError('unsupported_algorithm', file, `${where} is a ${details.modulusLength}-bit RSA key; RS256 needs 2048 bits or more`)
    case 'ed25519':
      // oauth4webapi names it by the fully-specified algorithm (RFC 9864): Ed25519.
      return 'Ed25519'
    default:
      throw new ClientKeyError('unsupported_algorithm', file, `${where} is a ${key.asymmetricKeyType ?? 'unknown'} key; client assertions are signed with an EC (P-256/384/521), RSA (2048+ bits) or Ed25519 key`)
  }
}

/** A key-file problem as a ClientKeyError naming the file. */
export function clientKeyFailure(file: string | undefined): KeyFileFailure {
  return (problem, message, cause) => new ClientKeyError(problem, file, message, cause === undefined ? undefined : {cause})
}

/** Reads a PKCS#8 PEM private key for client assertions; every problem is a ClientKeyError naming the file. */
export async function parseClientKey(pem: string, file?: string): Promise<ClientKey> {
  const where = file ?? 'the client key'
  const key = privateKeyFromPem(pem, where, clientKeyFailure(file))
  const alg = algorithmOf(key, where, file)
  // PKCS#8 whatever the file held (a SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY" too).
  const pkcs8 = key.export({type: 'pkcs8', format: 'der'})
  const privateKey = (await webcrypto.subtle.importKey('pkcs8', pkcs8, WEBCRYPTO_PARAMS[alg], false, ['sign'])) as unknown as CryptoKey
  const thumbprint = await calculateJwkThumbprint(await exportJWK(createPublicKey(key)), 'sha256')
  return {alg, privateKey, thumbprint, ...(file === undefined ? {} : {file})}
}
