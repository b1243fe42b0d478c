import type {Tool} from '@modelcontextprotocol/client'

import {levenshtein} from '../edit-distance.js'
import {McpToolArgumentError, McpUnknownFlagError} from './errors.js'

interface PropertySchema {
  type?: string | string[]
  description?: string
  enum?: unknown[]
  items?: PropertySchema
}

/** One line per argument: `--text <string> (required) description`. */
export function describeArguments(tool: Tool): string[] {
  const properties = (tool.inputSchema.properties ?? {}) as Record<string, PropertySchema>
  const required = new Set(tool.inputSchema.required ?? [])
  return Object.entries(properties).map(([name, schema]) => {
    const type = Array.isArray(schema.type) ? schema.type.join('|') : (schema.type ?? 'any')
    return `--${name} <${type}>${required.has(name) ? ' (required)' : ''}${schema.description ? `  ${schema.description}` : ''}`
  })
}

function schemaSummary(tool: Tool): string {
  const lines = describeArguments(tool)
  return lines.length > 0 ? lines.join(', ') : 'no arguments'
}

/** Deeper JSON than this is refused: no tool schema nests so far, and deeper values overflow the stack of the SDK's validation. */
export const MAX_ARGUMENT_DEPTH = 64

/** The deepest nesting of arrays and objects in a JSON text, counted without parsing it (so without recursion). */
export function jsonDepth(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '[' || c === '{') max = Math.max(max, ++depth)
    else if (c === ']' || c === '}') depth--
  }
  return max
}

function parseArgumentJson(tool: Tool, what: string, raw: string): unknown {
  if (jsonDepth(raw) > MAX_ARGUMENT_DEPTH) {
    throw new McpToolArgumentError(tool.name, `${what} nests deeper than ${MAX_ARGUMENT_DEPTH} levels`, tool.inputSchema)
  }
  return JSON.parse(raw)
}

function coerce(tool: Tool, name: string, raw: string, schema: PropertySchema): unknown {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []
  const fail = (what: string): never => {
    throw new McpToolArgumentError(tool.name, `--${name} must be ${what}, got "${raw}" (tool "${tool.name}": ${schemaSummary(tool)})`, tool.inputSchema)
  }
  let value: unknown = raw
  if (types.length === 0 || types.includes('string')) value = raw
  else if (types.includes('integer')) {
    if (!/^-?\d+$/.test(raw.trim())) fail('an integer')
    value = Number(raw)
  } else if (types.includes('number')) {
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(n)) fail('a number')
    value = n
  } else if (types.includes('boolean')) {
    if (!['true', 'false', '1', '0', 'yes', 'no'].includes(raw.toLowerCase())) fail('true or false')
    value = ['true', '1', 'yes'].includes(raw.toLowerCase())
  } else if (types.includes('array') || types.includes('object')) {
    try {
      value = parseArgumentJson(tool, `--${name}`, raw)
    } catch (error) {
      if (error instanceof McpToolArgumentError) throw error
      fail(`JSON (${types.join('|')})`)
    }
  }
  if (schema.enum && !schema.enum.includes(value)) fail(`one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`)
  return value
}

/**
 * Tool arguments from `--name value` pairs (coerced by the tool's JSON Schema) and/or a JSON object
 * (`--args`); flags win over the JSON. Unknown and missing arguments are errors naming the schema.
 */
export function buildToolArguments(tool: Tool, pairs: Array<[string, string]>, json?: string, nearMisses: NearMiss[] = []): Record<string, unknown> {
  const properties = (tool.inputSchema.properties ?? {}) as Record<string, PropertySchema>
  // A flag like --dpopp is a typo of the command's own --dpop, unless the tool really takes it.
  for (const miss of nearMisses) {
    if (!properties[miss.flag]) throw new McpUnknownFlagError(tool.name, miss.flag, miss.suggestion, schemaSummary(tool), tool.inputSchema)
    if (miss.value === undefined) throw new McpToolArgumentError(tool.name, `--${miss.flag} needs a value`, tool.inputSchema)
    pairs = [...pairs, [miss.flag, miss.value]]
  }
  let args: Record<string, unknown> = {}
  if (json !== undefined) {
    let parsed: unknown
    try {
      parsed = parseArgumentJson(tool, '--args', json)
    } catch (error) {
      if (error instanceof McpToolArgumentError) throw error
      throw new McpToolArgumentError(tool.name, `--args is not valid JSON: ${(error as Error).message}`, tool.inputSchema)
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new McpToolArgumentError(tool.name, '--args must be a JSON object, e.g. \'{"text":"hi"}\'', tool.inputSchema)
    }
    args = {...(parsed as Record<string, unknown>)}
  }
  for (const [name, raw] of pairs) {
    const schema = properties[name]
    if (!schema) {
      throw new McpToolArgumentError(tool.name, `tool "${tool.name}" has no argument --${name} (it takes: ${schemaSummary(tool)})`, tool.inputSchema)
    }
    args[name] = coerce(tool, name, raw, schema)
  }
  for (const name of Object.keys(args)) {
    if (!properties[name] && tool.inputSchema.additionalProperties === false) {
      throw new McpToolArgumentError(tool.name, `tool "${tool.name}" has no argument "${name}" (it takes: ${schemaSummary(tool)})`, tool.inputSchema)
    }
  }
  const missing = (tool.inputSchema.required ?? []).filter((name) => !(name in args))
  if (missing.length > 0) {
    throw new McpToolArgumentError(tool.name, `tool "${tool.name}" needs ${missing.map((m) => `--${m}`).join(', ')} (it takes: ${schemaSummary(tool)})`, tool.inputSchema)
  }
  return args
}

/**
 * Splits the argv left over after the command's own flags into `--name value` / `--name=value`
 * pairs. A bare word that is not a flag value is an error: tool arguments are always named.
 */
export function parseToolFlags(tool: string, argv: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (let i = 0; i < argv.length; i++) {
    const item = argv[i]!
    if (!item.startsWith('--') || item === '--') {
      throw new McpToolArgumentError(tool, `unexpected argument "${item}": tool arguments are flags, e.g. --text hi`, undefined)
    }
    const eq = item.indexOf('=')
    if (eq !== -1) {
      pairs.push([item.slice(2, eq), item.slice(eq + 1)])
    } else {
      const value = argv[i + 1]
      if (value === undefined) throw new McpToolArgumentError(tool, `${item} needs a value`, undefined)
      pairs.push([item.slice(2), value])
      i++
    }
  }
  return pairs
}

interface FlagDefinitionLike {
  type: string
  char?: string
  allowNo?: boolean
}

/**
 * oclif rejects flags it does not know, but tool arguments are flags named after the tool's schema
 * (`--text hi`). So the argv is split first: the command's own flags (with their values) go to
 * oclif, every other `--name value` / `--name=value` is a tool argument.
 */
export function splitToolArgv(argv: string[], definitions: Record<string, FlagDefinitionLike>): {own: string[]; tool: string[]; nearMisses: NearMiss[]} {
  const own: string[] = []
  const tool: string[] = []
  const nearMisses: NearMiss[] = []
  const byName = new Map<string, FlagDefinitionLike>()
  for (const [name, def] of Object.entries(definitions)) {
    byName.set(name, def)
    if (def.type === 'boolean' && def.allowNo) byName.set(`no-${name}`, def)
  }
  for (let i = 0; i < argv.length; i++) {
    const item = argv[i]!
    if (!item.startsWith('--') || item === '--') {
      own.push(item)
      continue
    }
    const eq = item.indexOf('=')
    const name = item.slice(2, eq === -1 ? undefined : eq)
    const def = byName.get(name) ?? (name === 'help' ? {type: 'boolean'} : undefined)
    const suggestion = def ? undefined : closestFlag(name, [...byName.keys()])
    if (suggestion !== undefined) {
      // Kept aside until the tool's schema is known; a following flag is not its value (--dpopp --text hi).
      const next = argv[i + 1]
      const value = eq !== -1 ? item.slice(eq + 1) : next !== undefined && !next.startsWith('--') ? next : undefined
      if (eq === -1 && value !== undefined) i++
      nearMisses.push({flag: name, suggestion, value})
      continue
    }
    const target = def ? own : tool
    target.push(item)
    if (eq === -1 && (!def || def.type !== 'boolean') && i + 1 < argv.length) {
      target.push(argv[i + 1]!)
      i++
    }
  }
  return {own, tool, nearMisses}
}

/** A `--name` that is not one of the command's flags but is close to one (see closestFlag). */
export interface NearMiss {
  flag: string
  suggestion: string
  value?: string
}

/** The command's flag within two edits of `name` (and fewer edits than its length), the closest first. */
export function closestFlag(name: string, flags: string[]): string | undefined {
  let best: {flag: string; distance: number} | undefined
  for (const flag of flags) {
    const distance = levenshtein(name, flag)
    if (distance > 0 && distance <= 2 && distance < name.length && (!best || distance < best.distance)) best = {flag, distance}
  }
  return best?.flag
}
