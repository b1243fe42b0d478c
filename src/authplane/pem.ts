// The one reading of a PKCS#8 PEM private key, for --dpop-key (DPoP proofs) and --client-key
// (private_key_jwt). Each caller says which error a problem becomes (`fail`): the DPoP key and the
// client key have errors and hints of their own, the rule for the PEM text is the same.
import {createPrivateKey, type KeyObject} from 'node:crypto'

/** What is wrong with a key file: the file itself, its encoding, or the kind of key inside. */
export type KeyFileProblem = 'unreadable' | 'malformed' | 'encrypted' | 'unsupported_algorithm'

/** Builds the caller's typed error for a problem. */
export type KeyFileFailure = (problem: KeyFileProblem, message: string, cause?: unknown) => Error

/**
 * The private key in `pem`, whatever PKCS#8, SEC1 or PKCS#1 PEM it is. An encrypted key (ap-demo
 * has no place to ask for a passphrase), a public key or certificate, and text that is no private
 * key are each refused through `fail`, naming `where`.
 */
export function privateKeyFromPem(pem: string, where: string, fail: KeyFileFailure): KeyObject {
  const encrypted = `${where} is an encrypted private key; ap-demo needs it unencrypted (PKCS#8 PEM)`
  // RFC 7468 §11 (PKCS#8 EncryptedPrivateKeyInfo) and the legacy OpenSSL `Proc-Type` header.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /Proc-Type:\s*4,ENCRYPTED/i.test(pem)) throw fail('encrypted', encrypted)
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    const isPublic = /-----BEGIN (RSA )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(pem)
    throw fail('malformed', isPublic ? `${where} holds a public key or certificate, not a private key` : `${where} is not a PEM private key (no "-----BEGIN PRIVATE KEY-----" line)`)
  }
  try {
    return createPrivateKey({key: pem, format: 'pem'})
  } catch (cause) {
    if ((cause as {code?: string}).code === 'ERR_MISSING_PASSPHRASE') throw fail('encrypted', encrypted, cause)
    throw fail('malformed', `${where} cannot be parsed as a private key (${(cause as Error).message.split('\n')[0]})`, cause)
  }
}
