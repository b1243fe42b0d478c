// `prepare`: npm runs it after `npm ci` and `npm install` in this folder, and npx runs it once more
// when `npx ap-demo` resolves to this folder (npm exec installs the project into its own cache as
// `file:` the first time, which runs the project's prepare here). A build takes some 20 s and
// rewrites the generated files, so it runs only when dist/ is not the build of the sources as they
// are now: `npm run build` ends by writing the sources' fingerprint (--stamp), and a later prepare
// whose fingerprint matches has nothing to do.
//   node scripts/prepare.mjs            build unless current
//   node scripts/prepare.mjs --stamp    record that dist/ is current (the last step of npm run build)
//   node scripts/prepare.mjs --check    exit 0 when dist/ is current, 1 when a build is due
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'

const root = new URL('..', import.meta.url).pathname
const stampFile = join(root, 'dist', '.build-stamp')
// What the build reads: the TypeScript of src/ and test/, the build scripts and shims, the settings.
const INPUTS = ['src', 'test', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']

function fingerprint() {
  const hash = createHash('sha256')
  const visit = (path) => {
    if (!existsSync(path)) return
    const stat = statSync(path)
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name))
      return
    }
    hash.update(`${relative(root, path)}\0${stat.size}\0${stat.mtimeMs}\n`)
  }
  for (const input of INPUTS) visit(join(root, input))
  return hash.digest('hex')
}

if (process.argv.includes('--stamp')) {
  writeFileSync(stampFile, `${fingerprint()}\n`)
} else {
  const current = existsSync(stampFile) && existsSync(join(root, 'dist', 'bundle')) && readFileSync(stampFile, 'utf8').trim() === fingerprint()
  if (process.argv.includes('--check')) process.exit(current ? 0 : 1)
  if (!current) {
    const build = spawnSync('npm', ['run', 'build'], {cwd: root, stdio: 'inherit'})
    process.exit(build.status ?? 1)
  }
}
