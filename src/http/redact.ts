import {createHmac, randomBytes} from 'node:crypto'

import type {RecordedExchange} from './recorder.js'

// Secrets in a recording are replaced by a short fingerprint, never written: `[redacted
// access-token 3f9a1c2e]`. The fingerprint is an HMAC under a key drawn for this one file, so two
// uses of the same secret in the file carry the same fingerprint, and nothing about the secret can
// be learned from it (an admin key chosen by a person could otherwise be guessed from a plain hash).

export type SecretKind = 'admin-key' | 'client-secret' | 'password' | 'access-token' | 'refresh-token' | 'id-token' | 'authorization-code' | 'dpop-proof' | 'jwt' | 'secret'

export interface KnownSecret {
  value: string
  kind: SecretKind
}

/**
 * JSON fields and form parameters whose value is a secret (RFC 6749 §2.3.1, §4.3.2, §5.1; RFC 7591
 * §3.2.1; the admin API's `POST /admin/users` body and the login form carry `password`).
 */
const SECRET_FIELDS: Record<string, SecretKind> = {
  client_secret: 'client-secret',
  password: 'password',
  access_token: 'access-token',
  refresh_token: 'refresh-token',
  id_token: 'id-token',
  registration_access_token: 'access-token',
  client_assertion: 'jwt',
  subject_token: 'access-token',
  actor_token: 'access-token',
  admin_key: 'admin-key',
  api_key: 'admin-key',
  // The PKCE verifier (RFC 7636 §4.1): whoever holds it can redeem the code.
  code_verifier: 'secret',
}

/**
 * Form and query parameters that are secret by name too, where JSON fields of that name are not
 * (a JSON-RPC or problem `code` is no secret): the authorization code (RFC 6749 §4.1.2, in the
 * redirect and the code exchange) and the token of an RFC 7009 revocation or RFC 7662 introspection.
 */
const FORM_SECRET_FIELDS: Record<string, SecretKind> = {...SECRET_FIELDS, code: 'authorization-code', token: 'secret'}

/** Headers whose whole value is a credential. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'dpop', 'cookie', 'set-cookie', 'x-api-key', 'x-admin-key'])

/** A compact JWS (RFC 7515 §7.1): header and payload are base64url JSON objects, so both start "eyJ". */
const JWT = /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g

/** Values shorter than this are only redacted where they stand whole (a header, a field), never by substring. */
const MIN_SUBSTRING = 8

export class Redactor {
  private readonly key = randomBytes(32)
  private readonly secrets = new Map<string, SecretKind>()

  constructor(known: KnownSecret[] = []) {
    for (const s of known) this.add(s.value, s.kind)
  }

  add(value: string | undefined, kind: SecretKind): void {
    if (!value || this.secrets.has(value)) return
    this.secrets.set(value, kind)
  }

  /** The placeholder that stands for `value`. */
  placeholder(value: string, kind: SecretKind = this.secrets.get(value) ?? 'secret'): string {
    const fingerprint = createHmac('sha256', this.key).update(value).digest('hex').slice(0, 8)
    return `[redacted ${kind} ${fingerprint}]`
  }

  /** Learns the secrets a recording carries: credentials in headers, secret fields in bodies. */
  learn(exchanges: RecordedExchange[]): void {
    for (const x of exchanges) {
      // RFC 6750 §2.3: a token may travel as the access_token query parameter.
      for (const [key, value] of searchParams(x.request.url)) {
        const kind = FORM_SECRET_FIELDS[key.toLowerCase()]
        if (kind) this.add(value, kind)
      }
      for (const [name, value] of x.request.headers) this.learnHeader(name, value)
      if (x.request.body) this.learnBody(x.request.body)
      if (x.response?.body) this.learnBody(x.response.body)
    }
  }

  private learnHeader(name: string, value: string): void {
    const lower = name.toLowerCase()
    if (lower === 'authorization' || lower === 'proxy-authorization') {
      const [scheme, credentials] = splitScheme(value)
      if (/^basic$/i.test(scheme) && credentials) {
        // RFC 6749 §2.3.1: form-urlencoded id and secret, then base64.
        const decoded = Buffer.from(credentials, 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon >= 0) {
          // Its encoded forms are matched by text(), under the same fingerprint.
          this.add(safeDecode(decoded.slice(colon + 1)), 'client-secret')
        }
        this.add(credentials, 'client-secret')
      } else if (credentials) {
        this.add(credentials, this.secrets.get(credentials) ?? 'access-token')
      }
      return
    }
    if (lower === 'dpop') this.add(value, 'dpop-proof')
  }

  private learnBody(body: string): void {
    const json = parseJson(body)
    if (json !== undefined) {
      walk(json, (key, value) => {
        const kind = SECRET_FIELDS[key.toLowerCase()]
        if (kind && typeof value === 'string') this.add(value, kind)
      })
      return
    }
    if (/^[^\s{[<]*=/.test(body)) {
      for (const [key, value] of new URLSearchParams(body)) {
        const kind = FORM_SECRET_FIELDS[key.toLowerCase()]
        if (kind) this.add(value, kind)
      }
    }
  }

  /** Any text with every known secret (raw or percent-encoded) and every JWT replaced. */
  text(value: string): string {
    let out = value
    // Longest first, so a secret that contains another is replaced whole.
    for (const [secret, kind] of [...this.secrets].sort((a, b) => b[0].length - a[0].length)) {
      if (secret.length < MIN_SUBSTRING) continue
      const mark = this.placeholder(secret, kind)
      for (const variant of new Set([secret, encodeURIComponent(secret), formEncode(secret), jsonEscape(secret)])) out = out.split(variant).join(mark)
    }
    return out.replace(JWT, (jwt) => this.placeholder(jwt, this.secrets.get(jwt) ?? 'jwt'))
  }

  /**
   * A request or response body: secret JSON fields and form parameters replaced whole (even when
   * short), then everything else as text. The body keeps its format, so it still reads as sent.
   */
  body(body: string): string {
    const names = Object.keys(SECRET_FIELDS).join('|')
    const json = new RegExp(`("(?:${names})"\\s*:\\s*)"((?:[^"\\\\]|\\\\.)*)"`, 'gi')
    const form = new RegExp(`(^|&)(${Object.keys(FORM_SECRET_FIELDS).join('|')})=([^&]*)`, 'gi')
    const fields = body
      .replace(json, (_m, prefix: string, value: string) => `${prefix}"${this.field(prefix.slice(1, prefix.indexOf('"', 1)), unescapeJson(value))}"`)
      .replace(form, (_m, lead: string, key: string, value: string) => `${lead}${key}=${this.param(key, safeDecode(value))}`)
    return this.text(fields)
  }

  /**
   * A URL: secret query (and fragment) parameters replaced whole, even when short, then every known secret; the
   * placeholders percent-encoded so that it stays a URL.
   */
  url(href: string): string {
    const names = Object.keys(FORM_SECRET_FIELDS).join('|')
    // The fragment too: an implicit-grant redirect carries #access_token=...
    const query = new RegExp(`([?&#])(${names})=([^&#]*)`, 'gi')
    const fields = href.replace(query, (_m, lead: string, key: string, value: string) => `${lead}${key}=${this.param(key, safeDecode(value))}`)
    return this.text(fields).replace(/\[redacted [a-z-]+ [0-9a-f]{8}\]/g, (mark) => encodeURIComponent(mark))
  }

  /** A header value: credentials whole, whatever their length; the scheme and a Basic client id stay readable. */
  header(name: string, value: string): string {
    const lower = name.toLowerCase()
    if (!SECRET_HEADERS.has(lower)) return this.text(value)
    if (lower === 'authorization' || lower === 'proxy-authorization') {
      const [scheme, credentials] = splitScheme(value)
      if (!credentials) return this.placeholder(value)
      if (/^basic$/i.test(scheme)) {
        const decoded = Buffer.from(credentials, 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon < 0) return `${scheme} ${this.placeholder(credentials, 'client-secret')}`
        const id = safeDecode(decoded.slice(0, colon))
        return `${scheme} client_id=${this.text(id)} secret=${this.placeholder(safeDecode(decoded.slice(colon + 1)), 'client-secret')}`
      }
      return `${scheme} ${this.placeholder(credentials)}`
    }
    return this.placeholder(value)
  }

  /** A form or query parameter: secret parameters whole (the authorization code too), others as text. */
  param(key: string, value: string): string {
    return this.field(key, value, FORM_SECRET_FIELDS)
  }

  /** A form or JSON field: secret fields whole, others as text. */
  field(key: string, value: string, fields: Record<string, SecretKind> = SECRET_FIELDS): string {
    const kind = fields[key.toLowerCase()]
    return kind ? this.placeholder(value, this.secrets.get(value) ?? kind) : this.text(value)
  }
}

function unescapeJson(value: string): string {
  try {
    return JSON.parse(`"${value}"`) as string
  } catch {
    return value
  }
}

function searchParams(href: string): URLSearchParams {
  try {
    return new URL(href).searchParams
  } catch {
    return new URLSearchParams()
  }
}

function splitScheme(value: string): [string, string] {
  const space = value.indexOf(' ')
  return space < 0 ? [value, ''] : [value.slice(0, space), value.slice(space + 1).trim()]
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}

/** The secret as it stands inside a JSON string (a password may hold `"` or `\\`). */
function jsonEscape(value: string): string {
  return JSON.stringify(value).slice(1, -1)
}

/** application/x-www-form-urlencoded, as URLSearchParams writes it (space as +). */
function formEncode(value: string): string {
  return new URLSearchParams({v: value}).toString().slice(2)
}

function parseJson(text: string): unknown {
  const trimmed = text.trim()
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) {
    // Server-sent events carry JSON in their data lines (MCP streamable HTTP).
    const data = trimmed.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim())
    if (data.length === 0) return undefined
    const parsed = data.map((d) => parseJson(d)).filter((d) => d !== undefined)
    return parsed.length > 0 ? parsed : undefined
  }
  try {
    return JSON.parse(trimmed)
  } catch {
    return undefined
  }
}

function walk(value: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit)
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v)
      walk(v, visit)
    }
  }
}
