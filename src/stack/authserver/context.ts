import type {JwtSigner} from './keys.js'
import type {SecretHasher} from './secrets.js'
import type {Store} from './store.js'
import type {AccessTokenMinter} from './tokens.js'

/** What the request handlers of both ports share. */
export interface ServerContext {
  store: Store
  hasher: SecretHasher
  signer: JwtSigner
  minter: AccessTokenMinter
  adminKey: string
  /** Set once the public port is bound (the default issuer contains the bound port). */
  issuer: string
  /** Base URL the public port is reachable at; DPoP `htu` may name it instead of the issuer. */
  publicUrl: string
  tokenTtlSeconds: number
  stats: {tokenRequests: number; tokensIssued: number}
}
