import type {DPoPHandle} from 'oauth4webapi'

import type {DpopKey, DpopSchemeChoice, DpopSchemeMemo} from '../authplane/dpop.js'
import {keepDpopKey, savedDpopKey} from '../config/dpop-key.js'
import type {ConfigStore} from '../config/store.js'
import {readKeyFile} from './key-file.js'

/** What a command needs to send DPoP proofs: the key, and one handle that keeps the servers' nonces. */
export interface ClientDpop {
  key: DpopKey
  handle: DPoPHandle
  /** `file`: --dpop-key; `profile`: the profile's own key (`created` on this run). */
  source: 'file' | 'profile'
  created: boolean
  /** The scheme the bound token goes under at each resource (--dpop-scheme; `auto` learns it from the challenge). */
  schemes: DpopSchemeMemo
}


/**
 * The DPoP key of this run: the PKCS#8 PEM in `keyFile` (--dpop-key), else the profile's own ES256
 * key, created and saved (0600, like the client secret) on first use.
 */
export async function clientDpop(store: ConfigStore, profile: string, options: {keyFile?: string; clockSkewSeconds?: number; scheme?: DpopSchemeChoice} = {}): Promise<ClientDpop> {
  // Loaded here, not at the top: commands without --dpop never load jose or oauth4webapi for it.
  const {DpopSchemeMemo, dpopHandle, dpopKeyFailure, generateDpopKey, parseDpopKey} = await import('../authplane/dpop.js')
  let key: DpopKey
  let source: ClientDpop['source'] = 'profile'
  let created = false
  if (options.keyFile !== undefined) {
    key = await parseDpopKey(readKeyFile(options.keyFile, dpopKeyFailure(options.keyFile)), options.keyFile)
    source = 'file'
  } else {
    const saved = savedDpopKey(store, profile)
    if (saved) {
      key = await parseDpopKey(saved.pem)
    } else {
      const fresh = await generateDpopKey()
      const kept = keepDpopKey(store, profile, {pem: fresh.pem, alg: fresh.alg, thumbprint: fresh.thumbprint, createdAt: new Date().toISOString()})
      created = kept.thumbprint === fresh.thumbprint
      key = created ? fresh : await parseDpopKey(kept.pem)
    }
  }
  return {key, handle: dpopHandle(key, {clockSkewSeconds: options.clockSkewSeconds}), source, created, schemes: new DpopSchemeMemo(options.scheme)}
}
