// What the bundle gives conf in place of ajv and ajv-formats (scripts/bundle.mjs). conf imports
// both at its top, but calls them only when it is given a JSON schema (its `schema`, `rootSchema`
// or `ajvOptions` options), and ap-demo's store passes none. Without this, every command that reads
// the store would load and initialise ajv (~200 KB) for nothing. Should the store ever pass a
// schema, conf fails loudly here, in the tests first, rather than skip the validation.
const unavailable = () => {
  throw new Error("conf's JSON-schema validation is left out of ap-demo's bundle (scripts/bundle-shims/conf-ajv.mjs): give conf no schema, or bundle ajv again")
}

export class Ajv2020 {
  constructor() {
    unavailable()
  }
}

export default {default: unavailable}
