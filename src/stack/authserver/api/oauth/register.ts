// POST /oauth/register (RFC 7591) as the real handler reads it (api/public/oauth/register.go): the
// JSON body decoded like Go's encoding/json, at most 1 MiB.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {decodeFirstJson, readBody} from '../../http/body.js'
import {goJson, send} from '../../http/respond.js'
import type {ServerContext} from '../../services/context.js'
import {RegistrationError, registerClient} from '../../services/dcr.js'

const JSON_BODY_LIMIT = 1024 * 1024

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw: Buffer
  try {
    raw = await readBody(req, JSON_BODY_LIMIT)
  } catch {
    // Go's MaxBytesReader fails the decode, which the handler reports like any bad JSON.
    throw new RegistrationError(400, 'invalid_request', 'invalid JSON body')
  }
  try {
    return decodeFirstJson(raw.toString('utf8'))
  } catch {
    throw new RegistrationError(400, 'invalid_request', 'invalid JSON body')
  }
}

export async function register(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const out = registerClient(ctx, await readJson(req))
  send(res, 201, 'application/json', goJson(out), {'Cache-Control': 'no-store'})
}
