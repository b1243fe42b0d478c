// Filesystem helpers that both sides use (the local store and the embedded stack): they carry no
// CLI code, only node:fs, so the stack may import them without reaching into the client.
import {mkdirSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'

/** errno codes that mean "this file or directory cannot be used", as opposed to a bug. */
export const FILESYSTEM_ERROR_CODES = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'ENOENT',
  'ELOOP',
  'ENAMETOOLONG',
  'EMFILE',
  'ENFILE',
  'EIO',
  'EBUSY',
  'ETXTBSY',
])

/** The errno code of a node:fs error when it is one of FILESYSTEM_ERROR_CODES. */
export function filesystemErrorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && FILESYSTEM_ERROR_CODES.has(code) ? code : undefined
}

/**
 * `mkdir -p` that always ends. Node 20's `mkdirSync(p, {recursive: true})` loops forever when the
 * parent exists but refuses children with ENOENT (procfs: `/proc/x`), burning a core and never
 * returning to the event loop, so not even SIGTERM is handled. Each level is created once here,
 * and a second ENOENT is reported instead of retried.
 */
export function makeDirectory(path: string, mode = 0o700): void {
  const dir = resolve(path)
  try {
    mkdirSync(dir, {mode})
    return
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') {
      if (statSync(dir).isDirectory()) return
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), {code: 'ENOTDIR', path: dir, syscall: 'mkdir'})
    }
    const parent = dirname(dir)
    if (code !== 'ENOENT' || parent === dir) throw error
    makeDirectory(parent, mode)
  }
  try {
    mkdirSync(dir, {mode})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir).isDirectory()) return
    throw error
  }
}
