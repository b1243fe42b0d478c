// The database file as the stack's other data files are treated: a file that cannot be opened or
// is not an SQLite database stops the start with its name, never as an unexplained crash.
import {join} from 'node:path'

import {StackFileError, stackFileError} from '../../errors.js'
import {openDatabase, type Db} from './db.js'

export const DATABASE_FILE = 'authserver.db'

const NOT_A_DATABASE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT'])
const CANNOT_WRITE: Record<string, string> = {
  SQLITE_READONLY: 'EROFS',
  SQLITE_CANTOPEN: 'EACCES',
  SQLITE_FULL: 'ENOSPC',
  SQLITE_PERM: 'EACCES',
}

export function openStackDatabase(dataDir: string | undefined): Db {
  if (dataDir === undefined) return openDatabase(undefined)
  const file = join(dataDir, DATABASE_FILE)
  try {
    return openDatabase(dataDir)
  } catch (error) {
    if (error instanceof StackFileError) throw error
    const code = String((error as {code?: unknown}).code ?? '')
    const remedy = `Restore ${file} from a backup, or move it away to start with no resources and clients (mv ${file} ${file}.bak).`
    if (NOT_A_DATABASE.has(code)) throw new StackFileError(file, 'corrupt', 'not an SQLite database, or a damaged one', remedy, undefined, {cause: error})
    const errno = CANNOT_WRITE[code] ?? (code.startsWith('SQLITE_IOERR') ? 'EIO' : undefined)
    if (errno) throw stackFileError(Object.assign(new Error(code), {code: errno, path: file}), file)
    if (/schema version/.test((error as Error).message ?? '')) {
      throw new StackFileError(file, 'corrupt', (error as Error).message, 'Use the ap-demo version that wrote it, or start with another --data-dir.', undefined, {cause: error})
    }
    throw stackFileError(error, file)
  }
}
