// Facts about the request's connection and the URLs built from the server's own address.
import type {IncomingMessage} from 'node:http'

/** Host part for a URL: IPv6 literals must be bracketed (RFC 3986 §3.2.2). */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/** The caller's address: the socket's peer, never a forwarded-for header (it could be forged). */
export function clientIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? ''
  return a.startsWith('::ffff:') ? a.slice(7) : a
}
