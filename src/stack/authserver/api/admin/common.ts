// What the admin handlers share: problem+json helpers, Go-like body and query decoding, routes.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {decodeStruct, JsonShapeError, readGoJson, type FieldKind} from '../../http/body.js'
import {ProblemError} from '../../http/respond.js'
import type {ServerContext} from '../../services/context.js'

const ADMIN_BODY_LIMIT = 1024 * 1024

export type Json = Record<string, unknown>

/** A route as the real server registers it: its methods, and the handler behind the admin key. */
export type Route = {methods: string[]; handle: (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, id: string | undefined, q: URLSearchParams) => Promise<void>}

export function bad(detail: string): ProblemError {
  return new ProblemError(400, detail)
}

export function now(): string {
  return new Date().toISOString()
}

export function readJsonObject(req: IncomingMessage): Promise<Json | null> {
  return readGoJson(req, ADMIN_BODY_LIMIT)
}

/** A strict integer query parameter (Go's strconv.Atoi: optional sign, digits), else `message`. */
export function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number, message: string): number {
  const raw = q.get(name)
  if (raw === null || raw === '') return def
  if (!/^[+-]?\d+$/.test(raw)) throw bad(message)
  const n = Number(raw)
  if (n < min || n > max) throw bad(message)
  return n
}

export function stringArray(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`${field} must be an array of strings`)
  return v as string[]
}

/** Go's encoding/json into the handler's request struct: a wrong JSON type is "invalid JSON body". */
export function decodeClientBody(body: Json | null, kinds: Record<string, FieldKind>): Record<string, unknown> {
  try {
    return decodeStruct(body, kinds)
  } catch (err) {
    if (err instanceof JsonShapeError) throw bad('invalid JSON body')
    throw err
  }
}

/** Lenient integer like Go's strconv.Atoi with the error ignored: anything unparsable is 0. */
export function atoi(v: string | null): number {
  if (v === null || !/^[+-]?\d+$/.test(v)) return 0
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : 0
}
