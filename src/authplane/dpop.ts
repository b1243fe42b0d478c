/**
 * RFC 9449 DPoP on the client side: the key pair a client proves possession of, proofs for the
 * token endpoint and for the resource (through oauth4webapi's `DPoP()` handle, which also keeps the
 * servers' `DPoP-Nonce` values), and the one retry on a `use_dpop_nonce` challenge that
 * `@authplane/sdk`'s DPoPProvider makes.
 */
import {createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, type KeyObject} from 'node:crypto'

import {calculateJwkThumbprint, exportJWK, type JWK} from 'jose'
import * as oauth from 'oauth4webapi'

import {httpFetch} from '../http/fetch.js'
import {DpopKeyError, DpopNonceError} from './dpop-errors.js'

/** The algorithms ap-demo signs proofs with: the two the SDK supports (`SUPPORTED_DPOP_ALGORITHMS`). */
export const DPOP_ALGORITHMS = ['ES256', 'RS256'] as const
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number]

/** A DPoP key pair ready to sign proofs, with what a user needs to see of it. */
export interface DpopKey {
  alg: DpopAlgorithm
  keyPair: oauth.CryptoKeyPair
  publicJwk: JWK
  /** RFC 7638 SHA-256 thumbprint: the `cnf.jkt` of every token bound to this key (RFC 9449 §6.1). */
  thumbprint: string
  /** The private key as PKCS#8 PEM, for the store (mode 0600, like the client secret). */
  pem: string
  /** The file it was read from (`--dpop-key`), undefined for a profile's own key. */
  file?: string
}

const WEBCRYPTO_PARAMS: Record<DpopAlgorithm, webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams> = {
  ES256: {name: 'ECDSA', namedCurve: 'P-256'},
  RS256: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'},
}

/** A fresh ES256 (P-256) key: what each profile gets on first use. */
export async function generateDpopKey(): Promise<DpopKey> {
  const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  return fromKeyObject(privateKey, undefined)
}

/**
 * Reads a PKCS#8 PEM private key (ES256 on P-256, or RS256 with a modulus of 2048 bits or more).
 * Every problem is a {@link DpopKeyError} naming `file`: an encrypted key (ap-demo has no place to
 * ask for a passphrase), text that is not a private key PEM, or a key of another kind.
 */
export async function parseDpopKey(pem: string, file?: string): Promise<DpopKey> {
  const where = file ?? 'the stored DPoP key'
  // RFC 7468 §11 (PKCS#8 EncryptedPrivateKeyInfo) and the legacy OpenSSL `Proc-Type` header.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /Proc-Type:\s*4,ENCRYPTED/i.test(pem)) {
    throw new DpopKeyError('encrypted', file, `${where} is an encrypted private key; ap-demo needs it unencrypted (PKCS#8 PEM)`)
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    const isPublic = /-----BEGIN (RSA )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(pem)
    throw new DpopKeyError(
      'malformed',
      file,
      isPublic ? `${where} holds a public key or certificate, not a private key` : `${where} is not a PEM private key (no "-----BEGIN PRIVATE KEY-----" line)`,
    )
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({key: pem, format: 'pem'})
  } catch (cause) {
    const code = (cause as {code?: string}).code
    if (code === 'ERR_MISSING_PASSPHRASE') {
      throw new DpopKeyError('encrypted', file, `${where} is an encrypted private key; ap-demo needs it unencrypted (PKCS#8 PEM)`, {cause})
    }
    throw new DpopKeyError('malformed', file, `${where} cannot be parsed as a private key (${(cause as Error).message.split('\n')[0]})`, {cause})
  }
  return fromKeyObject(privateKey, file)
}

function algorithmOf(privateKey: KeyObject, file: string | undefined): DpopAlgorithm {
  const where = file ?? 'the stored DPoP key'
  const type = privateKey.asymmetricKeyType
  const details = privateKey.asymmetricKeyDetails ?? {}
  if (type === 'ec' && (details.namedCurve === 'prime256v1' || details.namedCurve === 'P-256')) return 'ES256'
  if (type === 'rsa') {
    // RFC 7518 §3.3: RS256 keys are 2048 bits or larger.
    if ((details.modulusLength ?? 0) >= 2048) return 'RS256'
    throw new DpopKeyError('unsupported_algorithm', file, `${where} is a ${details.modulusLength}-bit RSA key; RS256 needs 2048 bits or more`)
  }
  const kind = type === 'ec' ? `an EC key on curve ${details.namedCurve ?? '?'}` : `a ${type ?? 'unknown'} key`
  throw new DpopKeyError('unsupported_algorithm', file, `${where} is ${kind}; DPoP proofs are signed with ${DPOP_ALGORITHMS.join(' or ')} (a P-256 EC key or an RSA key)`)
}

async function fromKeyObject(privateKey: KeyObject, file: string | undefined): Promise<DpopKey> {
  const alg = algorithmOf(privateKey, file)
  const params = WEBCRYPTO_PARAMS[alg]
  const pkcs8 = privateKey.export({type: 'pkcs8', format: 'der'})
  const spki = createPublicKey(privateKey).export({type: 'spki', format: 'der'})
  const keyPair = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, params, false, ['sign']),
    // oauth4webapi embeds the public key in each proof, so it must be exportable.
    publicKey: await webcrypto.subtle.importKey('spki', spki, params, true, ['verify']),
  } as unknown as oauth.CryptoKeyPair
  const exported = await exportJWK(keyPair.publicKey)
  const publicJwk: JWK = exported.kty === 'EC' ? {kty: 'EC', crv: exported.crv, x: exported.x, y: exported.y} : {kty: 'RSA', n: exported.n, e: exported.e}
  const pem = privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
  const key: DpopKey = {alg, keyPair, publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk, 'sha256'), pem}
  if (file !== undefined) key.file = file
  return key
}

export interface DpopHandleOptions {
  /**
   * Seconds added to the local clock in each proof's `iat` (oauth4webapi's `clockSkew`): for a
   * machine whose clock is known to differ from the servers'.
   */
  clockSkewSeconds?: number
}

/**
 * The oauth4webapi DPoP handle for `key`: signs proofs (`htm`, `htu` without query and fragment,
 * `iat`, a random `jti`, `ath` for the resource, `nonce` once a server sent one) and remembers
 * each origin's latest `DPoP-Nonce`. One handle serves one command, token endpoint and resource alike.
 */
export function dpopHandle(key: DpopKey, options: DpopHandleOptions = {}): oauth.DPoPHandle {
  const client: Pick<oauth.Client, typeof oauth.clockSkew> = {}
  if (options.clockSkewSeconds !== undefined) client[oauth.clockSkew] = options.clockSkewSeconds
  return oauth.DPoP(client, key.keyPair)
}

type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

export interface DpopFetchOptions {
  handle: oauth.DPoPHandle
  accessToken: string
  /** The fetch that actually sends (an observer, a timeout wrapper). Default: httpFetch. */
  fetch?: FetchLike
  /** Called when the resource asked for a nonce and the request is sent again, once. */
  onNonceRetry?: (url: string) => void
}

/**
 * A fetch for requests to a DPoP-protected resource (RFC 9449 §7): each request gets
 * `Authorization: DPoP <token>` and a fresh proof bound to its method, URL and the token (`ath`).
 * A 401 whose `WWW-Authenticate: DPoP` challenge says `use_dpop_nonce` is sent again exactly once,
 * with the nonce from its `DPoP-Nonce` header; a second demand is a {@link DpopNonceError}, never a loop.
 * Other challenges are returned as responses, for the caller to read.
 */
export function dpopFetch(options: DpopFetchOptions): FetchLike {
  const send: FetchLike = options.fetch ?? httpFetch
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = new Headers(init.headers)
    // The Authorization header is oauth4webapi's to write (`DPoP <token>`).
    headers.delete('authorization')
    const body = (init.body ?? null) as oauth.ProtectedResourceRequestBody
    const attempt = () =>
      oauth.protectedResourceRequest(options.accessToken, method, url, headers, body, {
        DPoP: options.handle,
        ...(init.signal ? {signal: init.signal} : {}),
        [oauth.allowInsecureRequests]: url.protocol === 'http:',
        [oauth.customFetch]: (href: string, request: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) =>
          send(href, request as unknown as RequestInit),
      })
    for (let tries = 1; ; tries++) {
      try {
        return await attempt()
      } catch (error) {
        if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error
        if (!oauth.isDPoPNonceError(error)) return error.response
        await error.response.body?.cancel().catch(() => {})
        // Without a DPoP-Nonce header a second try would carry the same proof claims again.
        const nonceReceived = error.response.headers.has('dpop-nonce')
        if (tries >= 2 || !nonceReceived) throw new DpopNonceError(url.href, 'resource', nonceReceived)
        options.onNonceRetry?.(url.href)
      }
    }
  }
}

/**
 * The `Authorization` and `DPoP` headers oauth4webapi would send with a request to a resource,
 * without sending it: for `--print-curl`, and for requests that must be sent elsewhere than the
 * proof says (the refusal checks of `verify --dpop`). Every call makes a new proof (new `jti`).
 */
export async function dpopRequestHeaders(handle: oauth.DPoPHandle, accessToken: string, method: string, url: string): Promise<{authorization: string; dpop: string}> {
  let captured: Record<string, string> | undefined
  const target = new URL(url)
  await oauth.protectedResourceRequest(accessToken, method, target, new Headers(), null, {
    DPoP: handle,
    [oauth.allowInsecureRequests]: target.protocol === 'http:',
    [oauth.customFetch]: async (_href: string, init: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) => {
      captured = init.headers
      return new Response(null, {status: 204})
    },
  })
  const authorization = captured?.['authorization']
  const dpop = captured?.['dpop']
  if (authorization === undefined || dpop === undefined) throw new Error('oauth4webapi made no DPoP proof')
  return {authorization, dpop}
}

/**
 * Makes `handle` put `nonce` into its next proofs for `url`'s origin, as if that server had just
 * sent it in `DPoP-Nonce` (oauth4webapi keeps nonces per origin from the responses it sees).
 */
export async function adoptDpopNonce(handle: oauth.DPoPHandle, url: string, nonce: string): Promise<void> {
  const target = new URL(url)
  await oauth.protectedResourceRequest('-', 'HEAD', target, new Headers(), null, {
    DPoP: handle,
    [oauth.allowInsecureRequests]: target.protocol === 'http:',
    [oauth.customFetch]: async () => new Response(null, {status: 204, headers: {'dpop-nonce': nonce}}),
  })
}
