// Typed errors of the walkthrough that the CLI's error map needs, in a module of their own so that
// mapping them loads none of the steps.
import type {AuthplaneOAuthError} from '../authplane/errors.js'
import {ApDemoError} from '../errors.js'
import type {ClientCredentials} from './token.js'

/**
 * The token endpoint refused the request (RFC 6749 §5.2). The cause is the OAuth error; the facts
 * say which server refused which client, and where that client came from, so that the hint can
 * fit: rotating a saved client helps only a client ap-demo saved, at the configured issuer.
 */
export class TokenRequestRefused extends ApDemoError {
  constructor(
    override readonly cause: AuthplaneOAuthError,
    readonly facts: {
      issuer: string
      clientId: string
      clientSource: ClientCredentials['source']
      discovered: boolean
      /** The resource and scopes asked for. */
      resource?: string
      scopes?: string[]
      /** The scopes the profile's resource declares, when the profile holds that resource. */
      resourceScopes?: string[]
      /** After invalid_client: whether the admin API still knows the client (undefined: could not tell). */
      clientKnown?: boolean
      /** How the client authenticated, and what the server's metadata announces. */
      authMethod?: string
      announcedAuthMethods?: string[]
    },
  ) {
    super(cause.code, cause.message, {cause, details: {issuer: facts.issuer, clientSource: facts.clientSource}})
  }
}
