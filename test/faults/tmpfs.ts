// A really full filesystem for the fault suite: a small tmpfs mounted for the test. Mounting needs
// root (CAP_SYS_ADMIN); elsewhere the tests that need it skip and say why.
import {spawnSync} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, rmSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface Tmpfs {
  dir: string
  unmount(): void
}

/** Mounts a tmpfs of `sizeKb` kilobytes on a fresh directory, or returns why it cannot. */
export function mountTmpfs(sizeKb: number, options: {readOnly?: boolean} = {}): Tmpfs | {skip: string} {
  if (process.platform !== 'linux') return {skip: `tmpfs mounts need Linux (this is ${process.platform})`}
  if (process.getuid?.() !== 0) return {skip: `mounting a tmpfs needs root (running as uid ${process.getuid?.()})`}
  const dir = mkdtempSync(join(tmpdir(), 'ap-demo-tmpfs-'))
  const opts = [`size=${sizeKb}k`, 'mode=0700', ...(options.readOnly ? ['ro'] : [])].join(',')
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], {encoding: 'utf8'})
  if (r.status !== 0) {
    rmSync(dir, {recursive: true, force: true})
    return {skip: `mount -t tmpfs failed here (${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}); the container may lack CAP_SYS_ADMIN`}
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', ['-l', dir])
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** Fills the filesystem holding `dir` with one file until a write fails with ENOSPC; returns that file. */
export function fill(dir: string): string {
  const file = join(dir, 'filler')
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(4096, 1)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
  // Whatever partial block is left goes too.
  const fd2 = openSync(file, 'a')
  try {
    for (;;) writeSync(fd2, Buffer.alloc(1, 1))
  } catch {
    // full
  } finally {
    closeSync(fd2)
  }
  return file
}
