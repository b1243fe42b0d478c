// DPoP at the token endpoint: a request's proof checked against this server's settings, nonces
// and replay cache; the thumbprint it yields binds the token (RFC 9449 §6.1).
import {OAuthError} from '../http/oauth-error.js'
import type {ServerContext} from './context.js'
import {DpopError, verifyDpopProof} from './dpop.js'

/**
 * RFC 9449: the thumbprint of the key a valid DPoP proof at the token endpoint binds the token to
 * (`cnf.jkt`), or undefined when the request carries no proof. Every grant goes through here.
 */
export async function bindDpopProof(ctx: ServerContext, proof: string | undefined): Promise<string | undefined> {
  if (proof === undefined || proof === '') return undefined
  try {
    const verified = await verifyDpopProof(proof, [`${ctx.issuer}/oauth/token`, `${ctx.publicUrl}/oauth/token`], ctx.dpop.settings.proofLifetimeSeconds)
    ctx.dpop.accept(verified)
    return verified.jkt
  } catch (err) {
    if (err instanceof DpopError) throw new OAuthError(400, err.error, err.message)
    throw err
  }
}
