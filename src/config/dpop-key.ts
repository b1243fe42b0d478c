import type {ConfigStore, DpopKeyRecord} from './store.js'

/** The DPoP key saved in `profile`, if it has one. */
export function savedDpopKey(store: ConfigStore, profile: string): DpopKeyRecord | undefined {
  return store.getProfile(profile).dpopKey
}

/**
 * Saves `record` as the profile's DPoP key unless the profile got one meanwhile (another ap-demo
 * process, same profile): then that one wins and is returned, so that every token cached for the
 * profile stays usable with the profile's key. The store file is 0600 in a 0700 directory.
 */
export function keepDpopKey(store: ConfigStore, profile: string, record: DpopKeyRecord): DpopKeyRecord {
  const saved = store.updateProfile(profile, (p) => {
    p.dpopKey ??= record
  })
  return saved.dpopKey ?? record
}
