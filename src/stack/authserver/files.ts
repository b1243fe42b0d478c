import {chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

// The data dir holds the signing key, the pepper and the client-secret hashes: owner-only, like
// ~/.ssh. An existing dir is tightened too, since a 0755 dir would expose the files' names and the
// WAL side files SQLite creates next to the database.
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  chmodSync(dir, 0o700)
}

/** Reads a file, or returns undefined when it does not exist. Re-tightens its mode to 0600. */
export function readPrivateFile(path: string): Buffer | undefined {
  if (!existsSync(path)) return undefined
  chmodSync(path, 0o600)
  return readFileSync(path)
}

// Written under a temporary name and renamed, so a crash mid-write never leaves a truncated key
// that would make the next start fail (or silently mint a new key and orphan old tokens).
export function writePrivateFile(path: string, data: string | Buffer): void {
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`)
  writeFileSync(tmp, data, {mode: 0o600, flag: 'wx'})
  renameSync(tmp, path)
  chmodSync(path, 0o600)
}

/** Creates an empty owner-only file if it is missing (SQLite copies its mode to the -wal/-shm files). */
export function touchPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
}
