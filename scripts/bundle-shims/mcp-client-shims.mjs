// What the bundle gives @modelcontextprotocol/client in place of its Node shims (scripts/bundle.mjs).
// The client imports its default JSON Schema validator (ajv, ~300 KB with ajv-formats, bundled
// inside the SDK) at its top, but uses it only to check the structured result of a tool that
// declares an output schema. Loading it then, on the first schema, keeps it out of the start-up of
// every `mcp call`. Same class, same options: the SDK's own AjvJsonSchemaValidator, from its
// CommonJS build, created on first use.
import {createRequire} from 'node:module'

/** As the SDK's Node shim: in Node a fetch TypeError is never a CORS refusal. */
export const CORS_IS_POSSIBLE = false

const requireFromHere = createRequire(import.meta.url)

export class DefaultJsonSchemaValidator {
  #validator

  getValidator(schema) {
    this.#validator ??= new (requireFromHere('@modelcontextprotocol/client/validators/ajv').AjvJsonSchemaValidator)()
    return this.#validator.getValidator(schema)
  }
}
