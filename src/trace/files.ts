import {randomBytes} from 'node:crypto'
import {accessSync, closeSync, constants, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

// Traces are written whole or not at all: a temporary file in the same directory, created with
// mode 0600 (a HAR names the servers and the resource even when every secret is redacted), synced,
// then renamed over the target. A reader never sees half a file, and an interrupted run leaves the
// previous file as it was.

/** A trace file that cannot be written where the user asked. */
export class TraceFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: 'no_directory' | 'not_writable' | 'is_directory' | 'write_failed',
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = 'TraceFileError'
  }
}

/** Fails before the run (so that a long run is not lost at the end) when `path` cannot be written. */
export function checkWritable(path: string): string {
  const target = resolve(path)
  const dir = dirname(target)
  try {
    if (!statSync(dir).isDirectory()) throw new TraceFileError(path, 'no_directory', `cannot write ${path}: ${dir} is not a directory`)
  } catch (error) {
    if (error instanceof TraceFileError) throw error
    throw new TraceFileError(path, 'no_directory', `cannot write ${path}: the directory ${dir} does not exist`, {cause: error})
  }
  try {
    if (statSync(target).isDirectory()) throw new TraceFileError(path, 'is_directory', `cannot write ${path}: it is a directory`)
  } catch (error) {
    if (error instanceof TraceFileError) throw error
    // Absent: fine, it will be created.
  }
  try {
    accessSync(dir, constants.W_OK)
  } catch (error) {
    throw new TraceFileError(path, 'not_writable', `cannot write ${path}: no permission to write in ${dir}`, {cause: error})
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
    throw new TraceFileError(path, 'write_failed', `cannot write ${path}: ${(error as Error).message}`, {cause: error})
  }
}
