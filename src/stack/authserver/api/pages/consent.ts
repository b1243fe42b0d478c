// GET/POST /consent (api/public/oauth/consent.go of the real server): the page naming the client,
// the resource and each scope, and the decision, CSRF-bound to the session cookie.
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ServerContext} from '../../services/context.js'
import {words} from '../../domain/scope.js'
import {approveConsent, pendingConsent} from '../../services/consent.js'
import {allowed, currentUser, readBrowserForm, redirect, value} from './common.js'
import {consentPage, sendErrorPage, sendPage} from './html.js'

export async function consent(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowed(req, res, ['GET', 'POST'])) return
  if (req.method !== 'POST') {
    const sessionId = new URL(req.url ?? '/', 'http://consent.invalid').searchParams.get('session_id') ?? ''
    if (sessionId === '') return sendErrorPage(res, 400, 'Missing Session', 'No session_id provided.')
    const signedIn = currentUser(ctx, req)
    if (signedIn === undefined) return redirect(res, `/login?redirect=${encodeURIComponent(req.url ?? '/')}`)
    const pending = pendingConsent(ctx, sessionId, signedIn.user.id)
    if (pending === undefined) return sendErrorPage(res, 400, 'Invalid Session', 'The authorization session is invalid or expired.')
    const {session, client, resource} = pending
    const descriptions = new Map((resource?.scopes ?? []).map((s) => [s.name, s.description]))
    return sendPage(res, 200, 'Authorize', consentPage({
      sessionId: session.id, csrfToken: ctx.browser.consentCsrf(signedIn.cookie), clientName: client.name, clientId: client.id,
      resource: session.resource, resourceName: resource?.display_name ?? '', resourceSlug: resource?.slug ?? '',
      scopes: words(session.scope).map((name) => ({name, description: descriptions.get(name) ?? ''})),
    }))
  }
  const form = await readBrowserForm(req)
  if (form === undefined) return sendErrorPage(res, 400, 'Invalid Form', 'Could not parse form data.')
  const signedIn = currentUser(ctx, req)
  if (signedIn === undefined) return sendErrorPage(res, 401, 'Not Authenticated', 'Please log in first.')
  // The token is bound to this browser's session cookie: one from another session does not pass.
  if (!ctx.browser.checkConsentCsrf(signedIn.cookie, value(form, 'csrf_token'))) {
    return sendErrorPage(res, 403, 'Invalid Request', 'CSRF validation failed. Please try again.')
  }
  const pending = pendingConsent(ctx, value(form, 'session_id') ?? '', signedIn.user.id)
  if (value(form, 'action') === 'deny') {
    if (pending !== undefined) ctx.users.deleteSession(pending.session.id)
    return sendErrorPage(res, 200, 'Access Denied', 'You denied access to the application.')
  }
  const approved = [...new Set(form.get('scopes') ?? [])]
  if (approved.length === 0) {
    return sendErrorPage(res, 400, 'No Permissions Selected', 'You must approve at least one permission to continue. Use the Deny button if you do not want to grant access.')
  }
  const requested = words(pending?.session.scope ?? '')
  if (pending === undefined || approved.some((s) => !requested.includes(s))) {
    return sendErrorPage(res, 400, 'Consent Error', 'Failed to process consent. The session may have expired.')
  }
  const scope = requested.filter((s) => approved.includes(s)).join(' ')
  const back = approveConsent(ctx, pending, scope, signedIn.user.id)
  if (back === undefined) return sendErrorPage(res, 400, 'Consent Error', 'Failed to process consent. The session may have expired.')
  redirect(res, back)
}
