// Request bodies: read with a limit, and JSON decoded the way Go's encoding/json decodes it.
import type {IncomingMessage} from 'node:http'
import {ProblemError} from './respond.js'

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`)
  }
}

/**
 * Reads the whole request body, rejecting as soon as it passes `limit`. After a rejection the
 * rest of the body keeps flowing into the void so the keep-alive connection stays usable for the
 * next request; a client that keeps sending far past the limit is cut off.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (settled) {
        if (size > limit * 16) req.destroy()
        return
      }
      if (size > limit) {
        settled = true
        chunks.length = 0
        reject(new BodyTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (settled) return
      settled = true
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    })
    req.on('error', (err) => {
      if (settled) return
      settled = true
      reject(err)
    })
    req.on('close', () => {
      if (settled) return
      settled = true
      reject(new Error('request aborted'))
    })
  })
}

/**
 * Parses the first JSON value of `text` the way Go's `json.NewDecoder(r).Decode(&v)` does: leading
 * whitespace is skipped, anything after the first complete value is left unread (so `{} trailing`
 * decodes), and an empty body is an error. Throws SyntaxError when there is no valid first value.
 */
export function decodeFirstJson(text: string): unknown {
  let i = 0
  while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++
  if (i === text.length) throw new SyntaxError('unexpected end of JSON input')
  const start = i
  const c = text[i]!
  if (c === '{' || c === '[') {
    let depth = 0
    let inString = false
    for (; i < text.length; i++) {
      const ch = text[i]!
      if (inString) {
        if (ch === '\\') i++
        else if (ch === '"') inString = false
      } else if (ch === '"') inString = true
      else if (ch === '{' || ch === '[') depth++
      else if (ch === '}' || ch === ']') {
        depth--
        if (depth === 0) return JSON.parse(text.slice(start, i + 1))
      }
    }
    throw new SyntaxError('unexpected end of JSON input')
  }
  if (c === '"') {
    for (i++; i < text.length; i++) {
      if (text[i] === '\\') i++
      else if (text[i] === '"') return JSON.parse(text.slice(start, i + 1))
    }
    throw new SyntaxError('unexpected end of JSON input')
  }
  const m = /^[^\s{}[\],:"]+/.exec(text.slice(start))
  return JSON.parse(m === null ? text.slice(start) : m[0])
}

/**
 * A JSON request body as Go's `json.NewDecoder(http.MaxBytesReader(limit)).Decode(&req)` sees it
 * in the admin handlers: the first JSON value (trailing bytes unread), `null` for a JSON null, and
 * a 400 "invalid JSON body" problem for anything else, including a body over the limit and a
 * value that is not an object.
 */
export async function readGoJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown> | null> {
  let parsed: unknown
  try {
    parsed = decodeFirstJson((await readBody(req, limit)).toString('utf8'))
  } catch {
    throw new ProblemError(400, 'invalid JSON body')
  }
  if (parsed === null) return null
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ProblemError(400, 'invalid JSON body')
  return parsed as Record<string, unknown>
}

/**
 * Decodes a JSON object into the named fields the way Go's encoding/json fills a struct: keys
 * match field names exactly or, failing that, case-insensitively; unknown keys are ignored; a
 * JSON null leaves the field unset. `kinds` says what each field must hold; a mismatch throws
 * (Go reports it as a decode error, which the handlers answer with "invalid JSON body").
 */
export type FieldKind = 'string' | 'bool' | 'strings'

export class JsonShapeError extends Error {}

export function decodeStruct(body: unknown, kinds: Record<string, FieldKind>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (body === null) return out
  if (typeof body !== 'object' || Array.isArray(body)) throw new JsonShapeError('expected a JSON object')
  const names = Object.keys(kinds)
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const field = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase())
    if (field === undefined || value === null) continue
    const kind = kinds[field]!
    const ok = kind === 'string' ? typeof value === 'string'
      : kind === 'bool' ? typeof value === 'boolean'
        : Array.isArray(value) && value.every((x) => typeof x === 'string' || x === null)
    if (!ok) throw new JsonShapeError(`${field}: wrong JSON type`)
    out[field] = kind === 'strings' ? (value as unknown[]).map((x) => x ?? '') : value
  }
  return out
}
