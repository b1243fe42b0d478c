// The client key's typed error, in a module of its own so that mapping it to an exit code loads
// neither jose nor the key code (src/cli/error-map.ts is imported by every command).

import type {KeyFileProblem} from './pem.js'

export type ClientKeyProblem = KeyFileProblem

/** A client key file that cannot be used; `file` names it. The CLI maps it (bad input, exit 2). */
export class ClientKeyError extends Error {
  constructor(
    readonly problem: ClientKeyProblem,
    readonly file: string | undefined,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = 'ClientKeyError'
  }
}
