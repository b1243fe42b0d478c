// Typed errors of the embedded stack. They carry facts (which file, what is wrong with it, what
// would get the stack going again); the CLI decides how they are shown and which exit code ends
// the process.
import {filesystemErrorCode} from '../files.js'

export type StackFileProblem =
  /** The file holds something this server cannot use (not JSON, wrong length, wrong key type, not SQLite). */
  | 'corrupt'
  /** The file is gone, and creating a new one would silently break what depends on it. */
  | 'missing'
  /** The operating system refused (EACCES, EROFS, ENOSPC, ENOTDIR, ...). */
  | 'filesystem'

/** A file in the stack's data directory that keeps the stack from starting. */
export class StackFileError extends Error {
  override readonly name = 'StackFileError'

  constructor(
    /** The file (or directory) concerned, as an absolute path when known. */
    readonly file: string,
    readonly problem: StackFileProblem,
    /** What is wrong, in one line, without the file name. */
    readonly reason: string,
    /** The way out, in one line. */
    readonly remedy: string,
    /** The errno code for `filesystem`. */
    readonly errno?: string,
    options?: {cause?: unknown},
  ) {
    super(`${file}: ${reason}`, options)
  }
}

/** Wraps a node:fs error on `file` (or the path the error itself names) into a StackFileError; other errors pass through. */
export function stackFileError(error: unknown, file: string): unknown {
  if (error instanceof StackFileError) return error
  const errno = filesystemErrorCode(error)
  if (errno === undefined) return error
  const path = (error as NodeJS.ErrnoException).path ?? file
  return new StackFileError(path, 'filesystem', FILESYSTEM_REASONS[errno] ?? errno, FILESYSTEM_REMEDIES[errno] ?? 'Fix the file or directory, or pick another with --data-dir (or --memory).', errno, {cause: error})
}

const FILESYSTEM_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only filesystem',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory, not a file',
  ENOENT: 'cannot be created here (no such file or directory)',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error',
}

const FILESYSTEM_REMEDIES: Record<string, string> = {
  EACCES: 'Give your user access to it, or pick another directory with --data-dir (or --memory).',
  EPERM: 'Give your user access to it, or pick another directory with --data-dir (or --memory).',
  EROFS: 'Pick a directory on a writable filesystem with --data-dir (or run with --memory).',
  ENOSPC: 'Free some space on that filesystem, or pick another directory with --data-dir.',
  EDQUOT: 'Free some space within your quota, or pick another directory with --data-dir.',
  ENOTDIR: 'The data directory must be a directory: remove or rename the file in the way, or pick another --data-dir.',
  EEXIST: 'The data directory must be a directory: remove or rename the file in the way, or pick another --data-dir.',
}
