// Removes build output so that a deleted source file never lingers in dist/ or the manifest.
import {rmSync} from 'node:fs'

for (const p of ['dist', 'oclif.manifest.json']) rmSync(new URL(`../${p}`, import.meta.url), {recursive: true, force: true})
