import type {ObservedRequest} from './request.js'

/** Secrets known to the caller, and the shell variable each one is printed as. */
export interface CurlSecrets {
  [secret: string]: string
}

/** The secret as it stands inside a JSON string (a password may hold `"` or `\\`). */
function jsonEscape(value: string): string {
  return JSON.stringify(value).slice(1, -1)
}

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** Double-quoted so that $VARIABLES expand; escapes what the shell would otherwise interpret. */
function dquote(value: string): string {
  return `"${value.replace(/(["\\`])/g, '\\$1').replace(/\$(?!\{[A-Z_][A-Z0-9_]*\})/g, '\\$')}"`
}

/**
 * Fields whose value is a secret by their name alone (RFC 6749 §4.1.3, §6; RFC 7636 §4.5; RFC 7523
 * §2.2; RFC 7009 §2.1), and the shell variable each is printed as when ap-demo does not know the
 * value as a secret of its own: an authorization code, a PKCE verifier, a client assertion and the
 * refresh token of a sign-in in progress are made during the run.
 */
const SECRET_FIELD_VARIABLES: Record<string, string> = {
  client_secret: 'AUTHPLANE_CLIENT_SECRET',
  password: 'AP_DEMO_USER_PASSWORD',
  access_token: 'ACCESS_TOKEN',
  refresh_token: 'REFRESH_TOKEN',
  id_token: 'ID_TOKEN',
  code: 'AUTHORIZATION_CODE',
  code_verifier: 'CODE_VERIFIER',
  client_assertion: 'CLIENT_ASSERTION',
  token: 'TOKEN',
}

/** Form and query parameters (`code=...&code_verifier=...`) whose name says they are a secret, as shell variables. */
function replaceSecretFields(text: string, lead: string): {text: string; masked: boolean} {
  let masked = false
  const names = Object.keys(SECRET_FIELD_VARIABLES).join('|')
  const out = text.replace(new RegExp(`(${lead})(${names})=([^&#]+)`, 'g'), (whole, before: string, key: string, value: string) => {
    if (/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(value)) return whole
    masked = true
    return `${before}${key}=\${${SECRET_FIELD_VARIABLES[key]}}`
  })
  return {text: out, masked}
}

/**
 * A body's JSON string values and form values that are a secret, whatever their length: a short
 * password is as secret as a long one, and only here is it known to stand whole.
 */
function replaceWholeValues(body: string, secrets: CurlSecrets): {text: string; masked: boolean} {
  let masked = false
  const variable = (value: string) => {
    const name = Object.hasOwn(secrets, value) ? secrets[value] : undefined
    if (name !== undefined) masked = true
    return name
  }
  const trimmed = body.trimStart()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const text = body.replace(/"((?:[^"\\]|\\.)*)"/g, (literal, inner: string) => {
      let value: string
      try {
        value = JSON.parse(`"${inner}"`) as string
      } catch {
        return literal
      }
      const name = variable(value)
      return name === undefined ? literal : `"\${${name}}"`
    })
    return {text, masked}
  }
  if (/^[^\s{[<]*=/.test(body)) {
    const text = body
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=')
        if (eq < 0) return pair
        let value: string
        try {
          value = decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '))
        } catch {
          return pair
        }
        const name = variable(value)
        return name === undefined ? pair : `${pair.slice(0, eq + 1)}\${${name}}`
      })
      .join('&')
    return {text, masked}
  }
  return {text: body, masked}
}

function replaceSecrets(text: string, secrets: CurlSecrets): {text: string; masked: boolean} {
  let out = text
  let masked = false
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of Object.keys(secrets).sort((a, b) => b.length - a.length)) {
    if (secret.length < 4) continue
    const variants = [...new Set([secret, encodeURIComponent(secret), jsonEscape(secret)])]
    for (const v of variants) {
      if (out.includes(v)) {
        out = out.split(v).join(`\${${secrets[secret]}}`)
        masked = true
      }
    }
  }
  return {text: out, masked}
}

/**
 * The curl command line equivalent to a request ap-demo is about to send, as the tier-02 README
 * writes them: secrets never appear; each one is replaced by the shell variable that holds it
 * (`$AUTHPLANE_ADMIN_API_KEY`, `$CLIENT_SECRET`, `$ACCESS_TOKEN`, ...), so the line is safe to
 * show and still runs once those variables are exported. HTTP Basic credentials become `-u`.
 */
export function toCurl(request: ObservedRequest, secrets: CurlSecrets): string {
  const parts = ['curl', '-sS']
  // MCP initialize: the session id comes back in a header, so the headers are shown (-D -).
  if (isMcpInitialize(request)) parts.push('-D', '-')
  // The server-sent event stream (GET, Accept: text/event-stream) stays open: -N shows events as
  // they come, --max-time ends the line.
  if (isEventStream(request)) parts.push('-N', '--max-time', String(SSE_MAX_TIME_SECONDS))
  if (request.method !== 'GET') parts.push('-X', request.method)
  const known = replaceSecrets(request.url, secrets)
  const url = replaceSecretFields(known.text, '[?&#]')
  parts.push(known.masked || url.masked ? dquote(url.text) : quote(url.text))
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase()
    if (lower === 'content-length' || lower === 'host' || lower === 'user-agent') continue
    const basic = /^Basic\s+(.+)$/i.exec(value)
    if (lower === 'authorization' && basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      // RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64; curl -u sends them as given.
      const id = decodeURIComponent(decoded.slice(0, colon))
      const secret = decodeURIComponent(decoded.slice(colon + 1))
      const user = replaceSecrets(`${id}:${secret}`, secrets)
      parts.push('-u', user.masked ? dquote(user.text) : quote(user.text))
      continue
    }
    // RFC 6750 Bearer, or RFC 9449 §7.1 DPoP: the same token variable, the scheme kept.
    const bearer = /^(Bearer|DPoP)\s+(.+)$/i.exec(value)
    if (lower === 'authorization' && bearer && bearer[2]! in secrets) {
      // Matched whole, so that even a secret too short for substring replacement is never shown.
      parts.push('-H', dquote(`${name}: ${bearer[1]} \${${secrets[bearer[2]!]}}`))
      continue
    }
    if (lower === 'authorization' && bearer) {
      // An access token ap-demo minted: printed as the variable the user would keep it in.
      parts.push('-H', dquote(`${name}: ${bearer[1]} \${ACCESS_TOKEN}`))
      continue
    }
    if (lower === 'mcp-session-id') {
      parts.push('-H', dquote(`${name}: \${MCP_SESSION_ID}`))
      continue
    }
    const header = replaceSecrets(`${name}: ${value}`, secrets)
    parts.push('-H', header.masked ? dquote(header.text) : quote(header.text))
  }
  if (request.body !== undefined && request.body !== '') {
    const whole = replaceWholeValues(request.body, secrets)
    const known = replaceSecrets(whole.text, secrets)
    // A form body: the fields that are secret by name, whoever made them.
    const body = /^[^\s{[<]*=/.test(request.body) ? replaceSecretFields(known.text, '^|&') : {text: known.text, masked: false}
    parts.push('--data-raw', whole.masked || known.masked || body.masked ? dquote(body.text) : quote(body.text))
  }
  return parts.join(' ')
}

/** Whether the request carries a DPoP proof (RFC 9449 §4.1). */
export function carriesDpopProof(request: ObservedRequest): boolean {
  return Object.keys(request.headers).some((h) => h.toLowerCase() === 'dpop')
}

/**
 * Printed above the first request that carries a DPoP proof. A proof is not a secret (it is signed,
 * and names only the public key), so it is shown as sent; but it works only once.
 */
export const DPOP_CURL_NOTE =
  '# The DPoP proof below is single-use (RFC 9449 §11.1): it is bound to this method and URL (and to the token, ath), ' +
  'and the server refuses it as a replay if this line is run again; ap-demo makes a new proof for every request.'

const SSE_MAX_TIME_SECONDS = 5

/** A JSON-RPC `initialize` (alone or in a batch): the request that opens an MCP session. */
export function isMcpInitialize(request: ObservedRequest): boolean {
  if (request.method !== 'POST' || request.body === undefined || !request.body.includes('"initialize"')) return false
  try {
    const body: unknown = JSON.parse(request.body)
    return (Array.isArray(body) ? body : [body]).some((m) => (m as {method?: unknown} | null)?.method === 'initialize')
  } catch {
    return false
  }
}

/** A GET that asks for a server-sent event stream (MCP streamable HTTP's standalone stream). */
export function isEventStream(request: ObservedRequest): boolean {
  return request.method === 'GET' && Object.entries(request.headers).some(([name, value]) => name.toLowerCase() === 'accept' && value.includes('text/event-stream'))
}

/** Printed above an MCP initialize line: how to keep the session id for the lines after it. */
export const MCP_SESSION_CURL_NOTE =
  "# initialize: the Mcp-Session-Id answer header (shown by -D -) names the session the next lines use as $MCP_SESSION_ID; " +
  "to capture it: export MCP_SESSION_ID=$(<the line below> -o /dev/null | tr -d '\\r' | awk -F': ' 'tolower($1)==\"mcp-session-id\"{print $2}')"

/** Printed above the event-stream line. */
export const SSE_CURL_NOTE =
  `# The event stream below stays open until the session ends: --max-time ${SSE_MAX_TIME_SECONDS} stops it (curl then exits 28, which is expected).`
