// Typed DPoP failures (RFC 9449). Kept free of jose and oauth4webapi so that mapping them to exit
// codes (src/error-map.ts, loaded by every command) does not load the crypto code.
import {AuthplaneError, AuthplaneProtocolError} from './errors.js'
import type {KeyFileProblem} from './pem.js'

/** What is wrong with a DPoP key: the file, its encoding, or the kind of key inside. */
export type DpopKeyProblem = KeyFileProblem

/**
 * A DPoP private key that cannot be used. `file` is the PEM file it came from (`--dpop-key`), or
 * undefined for the key kept in the profile.
 */
export class DpopKeyError extends Error {
  constructor(
    readonly problem: DpopKeyProblem,
    readonly file: string | undefined,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = 'DpopKeyError'
  }
}

/**
 * RFC 9449 §8/§9: the server answered `use_dpop_nonce` again after the one retry with the nonce it
 * had sent (or sent no nonce to use). Retrying further could loop forever, so the client stops.
 */
export class DpopNonceError extends AuthplaneError {
  constructor(
    readonly url: string,
    readonly where: 'token_endpoint' | 'resource',
    readonly nonceReceived: boolean,
  ) {
    super(
      `${where === 'token_endpoint' ? 'the token endpoint' : 'the resource'} ${url} demanded a DPoP nonce again after one retry ` +
        (nonceReceived ? 'with the nonce it had sent' : 'and sent no DPoP-Nonce header to use'),
      {code: 'use_dpop_nonce', oauthError: 'use_dpop_nonce', statusCode: where === 'token_endpoint' ? 400 : 401},
    )
  }
}

/**
 * RFC 9449 §5: a proof was sent, but the token response's `token_type` is not `DPoP`: the
 * authorization server ignored the proof and issued a token that is not bound to the key.
 */
export class DpopTokenTypeError extends AuthplaneProtocolError {
  readonly tokenType: string

  constructor(url: string, tokenType: string) {
    super(
      `Token request to ${url}: a DPoP proof was sent but the response's token_type is ${JSON.stringify(tokenType)}, not "DPoP" ` +
        `(RFC 9449 §5): the token is not bound to the key`,
      {statusCode: 200},
    )
    this.tokenType = tokenType
  }
}
