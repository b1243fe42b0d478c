import {randomBytes} from 'node:crypto'
import {accessSync, closeSync, constants, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

import {FileError} from '../errors.js'

// Traces are written whole or not at all: a temporary file in the same directory, created with
// mode 0600 (a HAR names the servers and the resource even when every secret is redacted), synced,
// then renamed over the target. A reader never sees half a file, and an interrupted run leaves the
// previous file as it was.

const HINT = 'Choose a file in a directory that exists and that you may write to.'

/** A trace file that cannot be written where the user asked (code trace_unwritable, details.reason says why). */
function unwritable(path: string, reason: 'no_directory' | 'not_writable' | 'is_directory' | 'write_failed', message: string, options: {cause?: unknown} = {}): FileError {
  return new FileError('trace_unwritable', path, message, {hint: HINT, details: {reason}, cause: options.cause})
}

/** Fails before the run (so that a long run is not lost at the end) when `path` cannot be written. */
export function checkWritable(path: string): string {
  const target = resolve(path)
  const dir = dirname(target)
  try {
    if (!statSync(dir).isDirectory()) throw unwritable(path, 'no_directory', `cannot write ${path}: ${dir} is not a directory`)
  } catch (error) {
    if (error instanceof FileError) throw error
    throw unwritable(path, 'no_directory', `cannot write ${path}: the directory ${dir} does not exist`, {cause: error})
  }
  try {
    if (statSync(target).isDirectory()) throw unwritable(path, 'is_directory', `cannot write ${path}: it is a directory`)
  } catch (error) {
    if (error instanceof FileError) throw error
    // Absent: fine, it will be created.
  }
  try {
    accessSync(dir, constants.W_OK)
  } catch (error) {
    throw unwritable(path, 'not_writable', `cannot write ${path}: no permission to write in ${dir}`, {cause: error})
  }
  return target
}

/** Writes `text` to `path` atomically, mode 0600. */
export function writePrivateFile(path: string, text: string): void {
  const target = checkWritable(path)
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', 0o600)
    writeSync(fd, text)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, target)
  } catch (error) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, {force: true})
    throw unwritable(path, 'write_failed', `cannot write ${path}: ${(error as Error).message}`, {cause: error})
  }
}
