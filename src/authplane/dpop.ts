/**
 * RFC 9449 DPoP on the client side: the key pair a client proves possession of, proofs for the
 * token endpoint and for the resource (through oauth4webapi's `DPoP()` handle, which also keeps the
 * servers' `DPoP-Nonce` values), and the one retry on a `use_dpop_nonce` challenge that
 * `@authplane/sdk`'s DPoPProvider makes.
 */
import {createPublicKey, generateKeyPairSync, webcrypto, type KeyObject} from 'node:crypto'

// Subpaths, not 'jose' (see src/trace/sequence.ts).
import {calculateJwkThumbprint} from 'jose/jwk/thumbprint'
import {exportJWK} from 'jose/key/export'
import type {JWK} from 'jose'
import * as oauth from 'oauth4webapi'

import {httpFetch} from '../http/fetch.js'
import {DpopKeyError, DpopNonceError} from './dpop-errors.js'
import {privateKeyFromPem, type KeyFileFailure} from './pem.js'

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
 * Every problem is a {@link DpopKeyError} naming `file`: what privateKeyFromPem refuses, or a key
 * of another kind.
 */
export async function parseDpopKey(pem: string, file?: string): Promise<DpopKey> {
  return fromKeyObject(privateKeyFromPem(pem, file ?? 'the stored DPoP key', dpopKeyFailure(file)), file)
}

/** A key-file problem as a DpopKeyError naming the file (undefined: the profile's own key). */
export function dpopKeyFailure(file: string | undefined): KeyFileFailure {
  return (problem, message, cause) => new DpopKeyError(problem, file, message, cause === undefined ? undefined : {cause})
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

/**
 * The authentication scheme a DPoP-bound token travels under, next to its `DPoP` proof header.
 * RFC 9449 §7.1 says `DPoP`; Authplane's tier-03 Python agent sends `Bearer`, because the MCP Python
 * SDK under `authplane-mcp` / `authplane-fastmcp` reads only that scheme (Authplane's inbound DPoP
 * verifier then checks the proof and `cnf.jkt` whatever the scheme). `auto` takes it from the
 * server's `WWW-Authenticate` challenge: `DPoP` unless the server offers only `Bearer`.
 */
export type DpopScheme = 'DPoP' | 'Bearer'
export const DPOP_SCHEME_CHOICES = ['auto', 'dpop', 'bearer'] as const
export type DpopSchemeChoice = (typeof DPOP_SCHEME_CHOICES)[number]

/**
 * The scheme each resource was found to want, for one command: later requests (and later
 * connections, and verify's probes) start with it instead of learning it again.
 */
export class DpopSchemeMemo {
  readonly #byResource = new Map<string, DpopScheme>()

  constructor(readonly choice: DpopSchemeChoice = 'auto') {}

  /** The scheme to send to `url` first. */
  schemeFor(url: string | URL): DpopScheme {
    if (this.choice === 'dpop') return 'DPoP'
    if (this.choice === 'bearer') return 'Bearer'
    return this.#byResource.get(resourceKey(url)) ?? 'DPoP'
  }

  learn(url: string | URL, scheme: DpopScheme): void {
    this.#byResource.set(resourceKey(url), scheme)
  }
}

function resourceKey(url: string | URL): string {
  const u = new URL(String(url))
  return `${u.origin}${u.pathname}`
}

/**
 * In `auto`, the scheme a refusal asks for instead of the one sent: `Bearer` when the challenges
 * name no `DPoP` scheme but a `Bearer` one (and `DPoP` was sent), `DPoP` when they name only `DPoP`
 * (and `Bearer` was sent). Undefined when the challenge does not point elsewhere.
 */
export function schemeAskedFor(challenges: readonly {scheme: string}[], sent: DpopScheme): DpopScheme | undefined {
  const schemes = new Set(challenges.map((c) => c.scheme.toLowerCase()))
  if (sent === 'DPoP' && !schemes.has('dpop') && schemes.has('bearer')) return 'Bearer'
  if (sent === 'Bearer' && schemes.has('dpop') && !schemes.has('bearer')) return 'DPoP'
  return undefined
}

export interface DpopFetchOptions {
  handle: oauth.DPoPHandle
  accessToken: string
  /** The fetch that actually sends (an observer, a timeout wrapper). Default: httpFetch. */
  fetch?: FetchLike
  /** Called when the resource asked for a nonce and the request is sent again, once. */
  onNonceRetry?: (url: string) => void
  /** Which scheme the token goes under (default: `auto`, learnt per resource). */
  schemes?: DpopSchemeMemo
  /** Called when a refusal's challenge asked for the other scheme and the request is sent again, once. */
  onSchemeSwitch?: (url: string, scheme: DpopScheme) => void
}

/**
 * A fetch for requests to a DPoP-protected resource (RFC 9449 §7): each request gets the token
 * (under `DPoP`, or under `Bearer` for servers that read only that scheme: see {@link DpopScheme})
 * and a fresh proof bound to its method, URL and the token (`ath`). A 401 whose `DPoP` challenge
 * says `use_dpop_nonce` is sent again exactly once, with the nonce from its `DPoP-Nonce` header; a
 * second demand is a {@link DpopNonceError}, never a loop. In `auto`, a 401 whose challenge offers
 * only the other scheme is sent again once under it, with a new proof. Other challenges are
 * returned as responses, for the caller to read.
 */
export function dpopFetch(options: DpopFetchOptions): FetchLike {
  const send: FetchLike = options.fetch ?? httpFetch
  const schemes = options.schemes ?? new DpopSchemeMemo()
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = new Headers(init.headers)
    // The Authorization header is oauth4webapi's to write (`DPoP <token>`), rewritten below for Bearer.
    headers.delete('authorization')
    const body = (init.body ?? null) as oauth.ProtectedResourceRequestBody
    let scheme = schemes.schemeFor(url)
    const attempt = () =>
      oauth.protectedResourceRequest(options.accessToken, method, url, headers, body, {
        DPoP: options.handle,
        ...(init.signal ? {signal: init.signal} : {}),
        [oauth.allowInsecureRequests]: url.protocol === 'http:',
        [oauth.customFetch]: (href: string, request: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) =>
          send(href, withScheme(request, scheme) as unknown as RequestInit),
      })
    let nonceRetried = false
    let schemeSwitched = false
    for (;;) {
      try {
        const response = await attempt()
        if (response.ok) schemes.learn(url, scheme)
        return response
      } catch (error) {
        if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error
        if (oauth.isDPoPNonceError(error)) {
          await error.response.body?.cancel().catch(() => {})
          // Without a DPoP-Nonce header a second try would carry the same proof claims again.
          const nonceReceived = error.response.headers.has('dpop-nonce')
          if (nonceRetried || !nonceReceived) throw new DpopNonceError(url.href, 'resource', nonceReceived)
          nonceRetried = true
          options.onNonceRetry?.(url.href)
          continue
        }
        const other = schemes.choice === 'auto' && !schemeSwitched && error.status === 401 ? schemeAskedFor(error.cause, scheme) : undefined
        if (other === undefined) return error.response
        await error.response.body?.cancel().catch(() => {})
        schemeSwitched = true
        scheme = other
        schemes.learn(url, other)
        options.onSchemeSwitch?.(url.href, other)
      }
    }
  }
}

/** oauth4webapi writes `Authorization: DPoP <token>`; under `Bearer` the same token and proof go as `Bearer <token>`. */
function withScheme<T extends {headers: Record<string, string>}>(request: T, scheme: DpopScheme): T {
  if (scheme === 'DPoP') return request
  const authorization = request.headers['authorization']
  if (authorization === undefined || !/^DPoP /i.test(authorization)) return request
  return {...request, headers: {...request.headers, authorization: `Bearer ${authorization.slice('DPoP '.length)}`}}
}

/**
 * The `Authorization` and `DPoP` headers oauth4webapi would send with a request to a resource,
 * without sending it: for `--print-curl`, and for requests that must be sent elsewhere than the
 * proof says (the refusal checks of `verify --dpop`). Every call makes a new proof (new `jti`).
 */
export async function dpopRequestHeaders(handle: oauth.DPoPHandle, accessToken: string, method: string, url: string, scheme: DpopScheme = 'DPoP'): Promise<{authorization: string; dpop: string}> {
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
  return {authorization: scheme === 'Bearer' ? `Bearer ${accessToken}` : authorization, dpop}
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
