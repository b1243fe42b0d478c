import {readFileSync} from 'node:fs'

import type {KeyFileFailure} from '../authplane/pem.js'

/** PEM files are small; anything this large is not a key. */
const MAX_KEY_FILE_BYTES = 64 * 1024

/** The text of a key file named on the command line (--dpop-key, --client-key); each problem through `fail`. */
export function readKeyFile(file: string, fail: KeyFileFailure): string {
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (cause as Error).message})`
    throw fail('unreadable', `${file} ${why}`, cause)
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) throw fail('malformed', `${file} is ${bytes.length} bytes, too large for a PEM private key`)
  return bytes.toString('utf8')
}
