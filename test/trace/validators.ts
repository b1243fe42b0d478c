import {createRequire} from 'node:module'

import type {ErrorObject, ValidateFunction} from 'ajv'

// Outside judges for what ap-demo writes: the HAR 1.2 JSON schema (har-schema, the schema the HAR
// tools of the npm ecosystem validate with) under Ajv, and Mermaid's own parser.

const require = createRequire(import.meta.url)
let harValidator: ValidateFunction | undefined

function harSchemaValidator(): ValidateFunction {
  if (harValidator) return harValidator
  const Ajv = require('ajv') as typeof import('ajv').default
  const addFormats = require('ajv-formats') as typeof import('ajv-formats').default
  const schemas = require('har-schema') as Record<string, {$id: string}>
  const ajv = new Ajv({allErrors: true, strict: false})
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'))
  addFormats(ajv)
  // The schema spells its lower bounds "min" (not JSON Schema's "minimum"): enforce them as meant.
  ajv.addKeyword({keyword: 'min', type: 'number', schemaType: 'number', validate: (min: number, value: number) => value >= min})
  for (const [name, schema] of Object.entries(schemas)) if (name !== 'har') ajv.addSchema(schema)
  harValidator = ajv.compile(schemas.har!)
  return harValidator
}

/** The schema's complaints about `har`, one line each; empty when it is valid HAR 1.2. */
export function harProblems(har: unknown): string[] {
  const validate = harSchemaValidator()
  if (validate(har)) return []
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`)
}

let mermaidReady: Promise<{parse: (text: string) => Promise<unknown>}> | undefined

/** Mermaid's parser, in a DOM made by jsdom (Mermaid sanitizes labels with DOMPurify, which needs one). */
async function mermaid(): Promise<{parse: (text: string) => Promise<unknown>}> {
  mermaidReady ??= (async () => {
    const {JSDOM} = await import('jsdom')
    const dom = new JSDOM('<!doctype html><html><body></body></html>')
    const g = globalThis as Record<string, unknown>
    g.window ??= dom.window
    g.document ??= dom.window.document
    const {default: m} = await import('mermaid')
    m.initialize({startOnLoad: false})
    return m
  })()
  return mermaidReady
}

/** Parses `text` with Mermaid; throws Mermaid's own syntax error. Returns the diagram type. */
export async function parseMermaid(text: string): Promise<string> {
  const m = await mermaid()
  const result = (await m.parse(text)) as {diagramType: string}
  return result.diagramType
}

/** The first ```mermaid fenced block of a Markdown text. */
export function mermaidBlock(markdown: string): string {
  const match = /```mermaid\n([\s\S]*?)```/.exec(markdown)
  if (!match) throw new Error('no ```mermaid block in the text')
  return match[1]!
}
