// The browser routes of the public port: the authorization endpoint and the pages it sends a
// person through (login, consent), logout, and the signed-in home page.
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ServerContext} from '../../services/context.js'
import {authorize} from './authorize.js'
import {consent} from './consent.js'
import {home, login, logout} from './login.js'

/** Serves the browser routes; false when `path` is not one of them. */
export async function browserRoute(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  switch (path) {
    case '/oauth/authorize':
      await authorize(ctx, req, res)
      return true
    case '/login':
      await login(ctx, req, res)
      return true
    case '/logout':
      logout(ctx, req, res)
      return true
    case '/consent':
      await consent(ctx, req, res)
      return true
    case '/':
      home(ctx, req, res)
      return true
  }
  return false
}
