// The packed package, installed the way a user installs it, still works: `npm pack`, then
// `npm install --global` of that tarball into an empty prefix, then `ap-demo verify --embedded` (and
// `--version`, `help`) from that prefix's bin, with an empty home and an empty working directory,
// and with the package's dist/src moved away: the commands must run from dist/bundle alone.
// Bundling is where a package breaks (a chunk left out of `files`, a dependency resolved from the
// checkout's node_modules instead of the package's own), and the tests of `npm test` run from the
// checkout, so they cannot see it.
//
//   npm run test:packed      (after npm run build; CI runs it from .ci/run)
//
// Dependencies come from the npm cache when it has them (--prefer-offline). Install scripts are
// skipped: the one dependency that has one is better-sqlite3, whose native addon takes ~80 s to
// compile; when the installed better-sqlite3 is the version the checkout already compiled for this
// Node, its addon is copied in, otherwise it is rebuilt in the prefix. AP_DEMO_PACKED_SCRIPTS=1 runs
// the install scripts instead (the full user install, compile included).
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync} from 'node:fs'
import os from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const withScripts = process.env.AP_DEMO_PACKED_SCRIPTS === '1'
const started = Date.now()
const tmp = mkdtempSync(join(os.tmpdir(), 'ap-demo-packed-'))
const say = (msg) => process.stderr.write(`[test:packed] ${msg} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)

function fail(what, r) {
  process.stderr.write(`[test:packed] FAIL: ${what}\n`)
  if (r) process.stderr.write(`--- exit ${r.status ?? r.signal}\n--- stdout\n${(r.stdout ?? '').slice(-4000)}\n--- stderr\n${(r.stderr ?? '').slice(-4000)}\n`)
  rmSync(tmp, {recursive: true, force: true})
  process.exit(1)
}

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', timeout: 300_000, ...options})
  if (r.error) fail(`${cmd} ${args.join(' ')}: ${r.error.message}`)
  return r
}

try {
  if (!existsSync(join(ROOT, 'oclif.manifest.json')) || !existsSync(join(ROOT, 'dist'))) fail('no build: run `npm run build` first')

  // 1. The tarball, exactly as `npm publish` would upload it (the build is CI's, so no prepare run).
  const packed = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {cwd: ROOT})
  if (packed.status !== 0) fail('npm pack', packed)
  const [{filename, entryCount, unpackedSize}] = JSON.parse(packed.stdout)
  say(`packed ${filename}: ${entryCount} files, ${(unpackedSize / 1024).toFixed(0)} KB`)

  // 2. Installed into an empty prefix, as `npm install --global ap-demo` does.
  const prefix = join(tmp, 'prefix')
  const install = ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']
  if (!withScripts) install.push('--ignore-scripts')
  const installed = sh('npm', [...install, join(tmp, filename)], {cwd: tmp})
  if (installed.status !== 0) fail('npm install of the tarball', installed)
  const app = join(prefix, 'lib', 'node_modules', pkg.name)
  if (!withScripts) provideSqliteAddon(app)
  say(`installed into ${prefix}`)

  // 3. The installed bin, from an empty directory, with nothing of the caller's environment that
  // could steer it (no store, no .env, no AUTHPLANE_* or AP_DEMO_* variables).
  const box = {home: join(tmp, 'home'), cwd: join(tmp, 'cwd')}
  for (const d of Object.values(box)) mkdirSync(d, {recursive: true})
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AUTHPLANE_|AP_DEMO_|XDG_)/.test(k)))
  Object.assign(env, {HOME: box.home, NO_COLOR: '1', CI: '1'})
  // The CLI must run from the bundle alone (package.json `oclif.commands` -> dist/bundle): tsc's
  // dist/src, which the package ships for its library entry points, is moved away meanwhile.
  renameSync(join(app, 'dist', 'src'), join(app, 'dist', 'src-moved-away'))
  const bin = join(prefix, 'bin', pkg.name)
  const run = (...args) => sh(bin, args, {cwd: box.cwd, env})

  const version = run('--version')
  if (version.status !== 0 || !version.stdout.startsWith(`${pkg.name}/${pkg.version} `)) fail(`ap-demo --version did not print ${pkg.name}/${pkg.version}`, version)

  const help = run('help')
  const manifest = JSON.parse(readFileSync(join(app, 'oclif.manifest.json'), 'utf8'))
  const missing = Object.keys(manifest.commands).filter((id) => !help.stdout.includes(id.split(':')[0]))
  if (help.status !== 0 || missing.length > 0) fail(`ap-demo help does not list ${missing.join(', ')}`, help)

  const verify = run('verify', '--embedded')
  if (verify.status !== 0 || !verify.stdout.includes('ALL CHECKS PASSED')) fail('ap-demo verify --embedded from the installed package', verify)
  say(`ap-demo verify --embedded from the installed package: ALL CHECKS PASSED`)

  // A user who switches Node after installing (issue 19): the addon was built for this Node's ABI,
  // so another Node must get exit 7 and the rebuild command for the installed package's directory.
  const other = otherNode()
  if (other) {
    const switched = sh(other, [join(app, 'bin', 'run.js'), 'verify', '--embedded'], {cwd: box.cwd, env})
    const rebuild = `cd ${app} && npm rebuild better-sqlite3`
    if (switched.status !== 7 || !switched.stderr.includes('native module was built for another Node.js') || !switched.stderr.includes(rebuild)) {
      fail(`ap-demo verify --embedded on ${other}: exit 7 and "${rebuild}" expected`, switched)
    }
    say(`the installed package on another Node (${other}): exit 7, "${rebuild}"`)
  } else {
    say('no Node with another ABI found (AP_DEMO_INTEROP_TOOLS): the Node-switch check is skipped')
  }
  rmSync(tmp, {recursive: true, force: true})
  process.stdout.write('PASS packed package: npm pack -> npm install --global -> ap-demo verify --embedded\n')
} catch (error) {
  fail(error?.stack ?? String(error))
}

/** better-sqlite3's addon for this Node, without compiling it again when the checkout has it. */
function provideSqliteAddon(app) {
  const installedDir = join(app, 'node_modules', 'better-sqlite3')
  const oursDir = join(ROOT, 'node_modules', 'better-sqlite3')
  const versionOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
  const addon = join('build', 'Release', 'better_sqlite3.node')
  if (existsSync(join(oursDir, addon)) && versionOf(installedDir) === versionOf(oursDir) && loadsHere(oursDir)) {
    cpSync(join(oursDir, addon), join(installedDir, addon), {recursive: true})
    return
  }
  say(`compiling better-sqlite3 ${versionOf(installedDir)} in the prefix (the checkout has no matching addon for Node ${process.version})`)
  const rebuilt = sh('npm', ['rebuild', 'better-sqlite3', '--no-audit', '--no-fund'], {cwd: app})
  if (rebuilt.status !== 0) fail('npm rebuild better-sqlite3 in the prefix', rebuilt)
}

/** A Node binary of another ABI than this one: the tools folder's (interop/install-tools.sh), if installed. */
function otherNode() {
  const tools = process.env.AP_DEMO_INTEROP_TOOLS ?? join(ROOT, '.interop-tools')
  const node = join(tools, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node')
  if (!existsSync(node)) return undefined
  const abi = spawnSync(node, ['-p', 'process.versions.modules'], {encoding: 'utf8'}).stdout?.trim()
  return abi && abi !== process.versions.modules ? node : undefined
}

/** Whether the checkout's better-sqlite3 addon was built for the Node that runs this script. */
function loadsHere(dir) {
  const r = spawnSync(process.execPath, ['-e', `new (require(${JSON.stringify(dir)}))(':memory:').close()`], {encoding: 'utf8'})
  return r.status === 0
}
