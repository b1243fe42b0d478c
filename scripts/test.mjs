// Runs every compiled test file with node's built-in runner. Node 20's `--test` does not expand
// globs, so the files are listed here. Build first (`npm run build`); `npm test` does both.
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

const root = new URL('..', import.meta.url).pathname
const testDir = join(root, 'dist', 'test')
if (!existsSync(join(root, 'dist', 'src', 'index.js'))) {
  const build = spawnSync('npm', ['run', 'build'], {cwd: root, stdio: 'inherit'})
  if (build.status !== 0) process.exit(build.status ?? 1)
}
// Arguments are substrings of test file paths: the files that contain one of them run; one that
// starts with "!" leaves out the files that contain the rest of it.
const args = process.argv.slice(2)
const filter = args.filter((a) => !a.startsWith('!'))
const without = args.filter((a) => a.startsWith('!')).map((a) => a.slice(1))
const files = readdirSync(testDir, {recursive: true, encoding: 'utf8'})
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .filter((f) => !without.some((x) => f.includes(x)))
  .map((f) => join(testDir, f))
  .sort()
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], {cwd: root, stdio: 'inherit'})
process.exit(r.status ?? 1)
