// Writes oclif.manifest.json (part of npm run build, after scripts/bundle.mjs). `oclif manifest`
// would read the commands through package.json's explicit strategy, whose entries are the bundle's
// lazy loaders (src/cli/lazy-command.ts): they carry no flags, args or descriptions. So the
// manifest is made by the same @oclif/core Plugin class `oclif manifest` uses, pointed at tsc's
// command files (dist/src/commands, the pattern strategy), which are the classes the bundle was
// built from. The two keys only the pattern strategy writes (isESM, relativePath) are dropped: with
// them oclif would import dist/src directly instead of going through the bundle. Commands are
// sorted, because oclif lists them in the order their files finish loading and CI compares the
// committed manifest with a fresh one.
import {Plugin} from '@oclif/core'
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const plugin = new Plugin({
  root,
  isRoot: true,
  type: 'core',
  pjson: {...pjson, oclif: {...pjson.oclif, commands: {strategy: 'pattern', target: './dist/src/commands'}}},
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
})
await plugin.load()
const {manifest} = plugin
if (Object.keys(manifest.commands).length === 0) throw new Error('no commands found under dist/src/commands')
manifest.commands = Object.fromEntries(
  Object.entries(manifest.commands)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, {isESM, relativePath, ...command}]) => [id, command]),
)
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), `${JSON.stringify(manifest, null, 2)}\n`)
