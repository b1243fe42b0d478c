// "Did you mean ...?" for typos: unknown commands (hooks/command-not-found.ts) and unknown flags
// (base-command.ts).
import {levenshtein as editDistance} from '../edit-distance.js'

/** Close enough to be a typo: at most 2 edits, or a third of the typed length. */
function closeEnough(typed: string, distance: number): boolean {
  return distance <= Math.max(2, Math.floor(typed.length / 3))
}

/**
 * The command closest to what was typed, when it is close enough to be a typo. oclif hands over
 * the command words together with the arguments after them (`mcp cal echo`), so each command is
 * compared with as many leading words as it has (`mcp call` with `mcp cal`).
 */
export function closestCommand(typed: string, ids: string[]): string | undefined {
  const words = typed.split(' ')
  let best: {id: string; distance: number} | undefined
  for (const id of ids) {
    const prefix = words.slice(0, id.split(' ').length).join(' ')
    const distance = editDistance(prefix, id)
    if (closeEnough(prefix, distance) && (!best || distance < best.distance)) best = {id, distance}
  }
  return best?.id
}

/** The flag (`--name`) closest to an unknown `--nmae` or `--nmae=value`, when it is a typo. */
export function closestFlag(typed: string, names: readonly string[]): string | undefined {
  if (!typed.startsWith('--')) return undefined
  const name = typed.slice(2).split('=', 1)[0] ?? ''
  let best: {name: string; distance: number} | undefined
  for (const candidate of names) {
    const distance = editDistance(name, candidate)
    if (closeEnough(name, distance) && (!best || distance < best.distance)) best = {name: candidate, distance}
  }
  return best && `--${best.name}`
}
