import chalk from 'chalk'

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
}

/** The bare token (it pipes), or with --decode its header and claims. */
export function renderToken(result: TokenMintResult, decode: boolean): {stdout: string; note: string} {
  if (!decode) {
    return {stdout: result.access_token, note: `${result.fromCache ? 'token from the cache (--no-cache mints a new one)' : 'token minted'}${result.jwt ? '' : ' (opaque: not a JWT)'}`}
  }
  const ttl = typeof result.claims.exp === 'number' ? result.claims.exp - Math.floor(Date.now() / 1000) : undefined
  return {
    stdout: `${chalk.bold('header')} ${JSON.stringify(result.header, null, 2)}\n${chalk.bold('claims')} ${JSON.stringify(result.claims, null, 2)}`,
    note: `${result.fromCache ? 'from the cache' : 'freshly minted'}${ttl === undefined ? '' : `, expires in ${ttl} s`}, client ${result.clientId}`,
  }
}
