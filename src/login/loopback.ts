// The redirect target of a native application (RFC 8252 §7.3): an HTTP listener on the loopback
// interface, on an ephemeral port unless one is asked for, that takes the browser's one request to
// /callback and answers it with a page saying what happened. It is client code: the stack's
// servers have nothing to do with it.
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {ConflictError, InputError} from '../errors.js'

/** RFC 8252 §7.3: the IP literal, not `localhost` (which a resolver may send elsewhere, §8.3). */
export const LOOPBACK_HOST = '127.0.0.1'
export const CALLBACK_PATH = '/callback'

export interface CallbackListener {
  port: number
  redirectUri: string
  /**
   * The first request to /callback that carries an authorization response (`code`, `error` or
   * `state`), with `answer` to tell the browser the outcome. Rejects when `signal` aborts.
   */
  next(signal: AbortSignal): Promise<{url: URL; answer: (ok: boolean, message: string) => void}>
  close(): Promise<void>
}

/** `port` 0 = any free port. A port in use or not ours to take is a typed error naming the flag. */
export async function listenForCallback(port: number): Promise<CallbackListener> {
  const waiting: Array<(request: {url: URL; res: ServerResponse}) => void> = []
  const queued: Array<{url: URL; res: ServerResponse}> = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}`)
    const p = url.searchParams
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH || !(p.has('code') || p.has('error') || p.has('state'))) {
      // A browser asks for /favicon.ico too; nothing but the callback is served.
      res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close'}).end('not found\n')
      return
    }
    const resolve = waiting.shift()
    if (resolve) resolve({url, res})
    else queued.push({url, res})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, LOOPBACK_HOST, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      throw new ConflictError('callback_port_in_use', `cannot listen for the sign-in callback: port ${port} on ${LOOPBACK_HOST} is already in use`, {
        hint: 'Another program (or another ap-demo login) holds it: stop it, or choose another port with --callback-port (0 = any free port).',
        details: {port, host: LOOPBACK_HOST},
        cause: error,
      })
    }
    if (error.code === 'EACCES') {
      throw new InputError('callback_port_forbidden', `cannot listen for the sign-in callback on port ${port}: not allowed`, {hint: 'Ports below 1024 need privileges; choose one above 1024 with --callback-port, or 0 for any free port.', details: {port}, cause: error})
    }
    throw error
  })
  const bound = (server.address() as AddressInfo).port
  return {
    port: bound,
    redirectUri: `http://${LOOPBACK_HOST}:${bound}${CALLBACK_PATH}`,
    next(signal) {
      return new Promise((resolve, reject) => {
        const deliver = ({url, res}: {url: URL; res: ServerResponse}) => {
          signal.removeEventListener('abort', onAbort)
          resolve({url, answer: (ok, message) => page(res, ok, message)})
        }
        const onAbort = () => {
          const at = waiting.indexOf(deliver)
          if (at >= 0) waiting.splice(at, 1)
          reject(signal.reason)
        }
        if (signal.aborted) return onAbort()
        const first = queued.shift()
        if (first) return deliver(first)
        waiting.push(deliver)
        signal.addEventListener('abort', onAbort, {once: true})
      })
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

function page(res: ServerResponse, ok: boolean, message: string): void {
  const escaped = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  const title = ok ? 'Signed in' : 'Sign-in failed'
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ap-demo: ${title}</title></head><body style="font-family:system-ui,sans-serif;max-width:36em;margin:4em auto"><h1>${title}</h1><p>${escaped}</p><p>You can close this tab and return to the terminal.</p></body></html>`
  res.writeHead(ok ? 200 : 400, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'Referrer-Policy': 'no-referrer',
    Connection: 'close',
  })
  res.end(html)
}
