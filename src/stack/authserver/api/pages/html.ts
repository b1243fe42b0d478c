import type {ServerResponse} from 'node:http'
import {send, type Headers} from '../../http/respond.js'

// Server-rendered pages for the browser flow: small, no script, one inline style sheet. Every
// interpolated value goes through escapeHtml; nothing else reaches the markup.

// The security headers (CSP without script, no framing, nosniff, no referrer) are set on every
// public response by the handler, as the real server's middleware does; pages add no-store.
const PAGE_HEADERS: Headers = {'Cache-Control': 'no-store', Pragma: 'no-cache'}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f8fafc;color:#0f172a;margin:0;padding:24px;display:flex;justify-content:center}
main{max-width:440px;width:100%;background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:32px}
h1{font-size:1.4em;margin:0 0 16px}label{display:block;font-weight:600;margin:12px 0 4px}
input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:10px;border:1px solid #94a3b8;border-radius:8px;font-size:1em}
button{padding:10px 18px;border-radius:8px;border:1px solid #4338ca;background:#4338ca;color:#fff;font-size:1em;cursor:pointer;margin-top:16px}
button.secondary{background:#fff;color:#1e293b;border-color:#94a3b8}
.error{background:#fef2f2;border:1px solid #fecaca;color:#991b1b;padding:10px;border-radius:8px}
ul{padding-left:0;list-style:none}li{margin:8px 0}code{font-family:ui-monospace,monospace;font-size:.9em}
fieldset{border:1px solid #e2e8f0;border-radius:8px}.muted{color:#475569;font-size:.9em}`

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Authplane</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`
}

export function sendPage(res: ServerResponse, status: number, title: string, body: string, headers: Headers = {}): void {
  send(res, status, 'text/html; charset=utf-8', page(title, body), {...PAGE_HEADERS, ...headers})
}

/** The real server's error page: a title and one sentence, never a redirect. */
export function sendErrorPage(res: ServerResponse, status: number, title: string, message: string, headers: Headers = {}): void {
  sendPage(res, status, title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`, headers)
}

export interface LoginPage {
  csrfToken: string
  redirect: string
  error?: string
  email?: string
}

export function loginPage(p: LoginPage): string {
  const error = p.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(p.error)}</p>\n`
  return `<h1>Sign in</h1>
${error}<form method="POST" action="/login">
<input type="hidden" name="csrf_token" value="${escapeHtml(p.csrfToken)}">
<input type="hidden" name="redirect" value="${escapeHtml(p.redirect)}">
<label for="email">Email address</label>
<input type="email" id="email" name="email" autocomplete="username" required autofocus value="${escapeHtml(p.email ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`
}

export interface ConsentPage {
  sessionId: string
  csrfToken: string
  clientName: string
  clientId: string
  resource: string
  resourceName: string
  resourceSlug: string
  scopes: Array<{name: string; description: string}>
}

export function consentPage(p: ConsentPage): string {
  const target = p.resourceName !== '' ? p.resourceName : p.resource !== '' ? p.resource : 'your account'
  const resourceLine = p.resource === '' ? '' : `<p class="muted">Resource: ${p.resourceSlug === '' ? '' : `<code>${escapeHtml(p.resourceSlug)}</code> · `}<code>${escapeHtml(p.resource)}</code></p>\n`
  const scopes = p.scopes
    .map((s, i) => {
      const id = `scope-${i}`
      const label = s.description === '' ? `<code>${escapeHtml(s.name)}</code>` : `${escapeHtml(s.description)} (<code>${escapeHtml(s.name)}</code>)`
      return `<li><input type="checkbox" name="scopes" value="${escapeHtml(s.name)}" id="${id}" checked> <label for="${id}" style="display:inline;font-weight:normal">${label}</label></li>`
    })
    .join('\n')
  return `<h1><span>${escapeHtml(p.clientName)}</span> wants permission to access ${escapeHtml(target)}</h1>
<p class="muted">Client ID: <code>${escapeHtml(p.clientId)}</code></p>
${resourceLine}<form method="POST" action="/consent">
<input type="hidden" name="session_id" value="${escapeHtml(p.sessionId)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(p.csrfToken)}">
<fieldset>
<legend>Permissions requested</legend>
<ul>
${scopes}
</ul>
</fieldset>
<label style="font-weight:normal"><input type="checkbox" name="remember"> Remember this decision</label>
<button type="submit" name="action" value="deny" class="secondary">Deny</button>
<button type="submit" name="action" value="allow">Allow access</button>
</form>
<form method="POST" action="/logout"><button type="submit" class="secondary">Sign out</button></form>`
}
