// What the browser routes share: redirects, the form reader, the signed-in user, Go's 405.
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {User} from '../../domain/user.js'
import {BodyTooLargeError, readBody} from '../../http/body.js'
import {mediaType, parseForm} from '../../http/form.js'
import {methodMatches, sendGoMethodNotAllowed} from '../../http/respond.js'
import type {ServerContext} from '../../services/context.js'

const FORM_LIMIT = 64 * 1024

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, {Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0, ...headers})
  res.end()
}

export async function readBrowserForm(req: IncomingMessage): Promise<Map<string, string[]> | undefined> {
  if (mediaType(req.headers['content-type']) !== 'application/x-www-form-urlencoded') return undefined
  try {
    return parseForm((await readBody(req, FORM_LIMIT)).toString('utf8'))
  } catch (err) {
    if (err instanceof BodyTooLargeError) return undefined
    throw err
  }
}

export function value(form: Map<string, string[]>, name: string): string | undefined {
  return form.get(name)?.[0]
}

/** The signed-in user (the cookie is valid and the user still exists), with the raw cookie. */
export function currentUser(ctx: ServerContext, req: IncomingMessage): {user: User; cookie: string} | undefined {
  const s = ctx.browser.session(req)
  if (s === undefined) return undefined
  const user = ctx.users.userById(s.userId)
  return user === undefined ? undefined : {user, cookie: s.cookie}
}

/** Like the real server's Go ServeMux: a route's other methods get its plain-text 405. */
export function allowed(req: IncomingMessage, res: ServerResponse, methods: string[]): boolean {
  if (methodMatches(req.method ?? 'GET', methods)) return true
  sendGoMethodNotAllowed(res, methods)
  return false
}
