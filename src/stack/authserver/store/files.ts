import {chmodSync, closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {makeDirectory} from '../../../files.js'
import {stackFileError} from '../../errors.js'

// The data dir holds the signing key, the pepper and the client-secret hashes: owner-only, like
// ~/.ssh. An existing dir is tightened too, since a 0755 dir would expose the files' names and the
// WAL side files SQLite creates next to the database.
export function ensurePrivateDir(dir: string): void {
  try {
    makeDirectory(dir, 0o700)
    if ((statSync(dir).mode & 0o777) !== 0o700) chmodSync(dir, 0o700)
  } catch (error) {
    throw stackFileError(error, dir)
  }
}

/** Reads a file, or returns undefined when it does not exist. Re-tightens its mode to 0600. */
export function readPrivateFile(path: string): Buffer | undefined {
  try {
    const data = readFileSync(path)
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
    return data
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw stackFileError(error, path)
  }
}

// Written under a temporary name and renamed, so a crash mid-write never leaves a truncated key
// that would make the next start fail (or silently mint a new key and orphan old tokens). A write
// that fails (a full disk) takes its temporary file with it.
export function writePrivateFile(path: string, data: string | Buffer): void {
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`)
  try {
    writeFileSync(tmp, data, {mode: 0o600, flag: 'wx'})
    renameSync(tmp, path)
    chmodSync(path, 0o600)
  } catch (error) {
    rmSync(tmp, {force: true})
    throw stackFileError(error, path)
  }
}

/** Creates an empty owner-only file if it is missing (SQLite copies its mode to the -wal/-shm files). */
export function touchPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'a', 0o600))
    chmodSync(path, 0o600)
  } catch (error) {
    throw stackFileError(error, path)
  }
}
