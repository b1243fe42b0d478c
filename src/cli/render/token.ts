import chalk from 'chalk'

import {terminalBlock, terminalSafe} from '../../terminal-text.js'

export interface TokenMintResult {
  access_token: string
  token_type: string
  expires_in: number | null
  scope: string | null
  fromCache: boolean
  /** False for an opaque (non-JWT) token: header and claims are then empty. */
  jwt: boolean
  header: Record<string, unknown>
  claims: Record<string, unknown>
  clientId: string
  warning: string | null
  /** RFC 9449: the key the token was requested for, and the thumbprint the token names (cnf.jkt). */
  dpop: {alg: string; thumbprint: string; key: string; cnfJkt: string | null} | null
  /** --user-token: the signed-in user's token (ap-demo login), not a client_credentials one. */
  user: {sub: string | null; issuer: string; resource: string; refreshed: boolean} | null
}

/** `cnf.jkt` beside the key's own thumbprint: they must be the same for the token to be usable. */
function dpopLine(d: NonNullable<TokenMintResult['dpop']>): string {
  const same = d.cnfJkt === d.thumbprint
  return `DPoP: token cnf.jkt ${d.cnfJkt ?? '(none)'}\n      key thumbprint ${d.thumbprint} (${d.alg}, ${d.key === 'profile' ? 'the profile\'s key' : d.key}) ${same ? chalk.green('= bound to this key') : chalk.red('!= not bound to this key')}`
}

/** The bare token (it pipes), or with --decode its header and claims. */
export function renderToken(result: TokenMintResult, decode: boolean): {stdout: string; note: string} {
  // JSON escapes C0 controls itself, not C1 or the bidi controls: the JSON text passes the rule as a block.
  const json = (value: Record<string, unknown>) => terminalBlock(JSON.stringify(value, null, 2))
  const {header, claims} = result
  result = terminalSafe(result)
  const bound = result.dpop ? `, ${result.token_type} token bound to key ${result.dpop.thumbprint}: send it as "Authorization: DPoP" with a fresh proof per request` : ''
  const u = result.user
  if (!decode) {
    if (u) return {stdout: result.access_token, note: `the signed-in user's token${u.sub ? ` (sub ${u.sub})` : ''}${u.refreshed ? ', refreshed just now' : ' (--no-cache refreshes it)'}${result.jwt ? '' : ' (opaque: not a JWT)'}`}
    return {stdout: result.access_token, note: `${result.fromCache ? 'token from the cache (--no-cache mints a new one)' : 'token minted'}${result.jwt ? '' : ' (opaque: not a JWT)'}${bound}`}
  }
  const ttl = typeof claims.exp === 'number' ? claims.exp - Math.floor(Date.now() / 1000) : undefined
  return {
    stdout: `${chalk.bold('header')} ${json(header)}\n${chalk.bold('claims')} ${json(claims)}${result.dpop ? `\n${dpopLine(result.dpop)}` : ''}`,
    note: u
      ? `the signed-in user${u.sub ? ` ${u.sub} (sub)` : ''} at ${u.issuer}, ${u.refreshed ? 'refreshed just now' : 'as kept'}${ttl === undefined ? '' : `, expires in ${ttl} s`}, client ${result.clientId}`
      : `${result.fromCache ? 'from the cache' : 'freshly minted'}${ttl === undefined ? '' : `, expires in ${ttl} s`}, client ${result.clientId}`,
  }
}
