// `verify --user EMAIL`: the tier-01 browser flow, step by step, with the same functions as
// `ap-demo login` and `mcp call`; then the refusals that make the authorization code safe to pass
// through a browser: a code is single-use, useless without the PKCE verifier it was issued for, and
// never sent to a redirect URI the client did not register.
import {randomBytes} from 'node:crypto'

import type {Environment} from '../config/settings.js'
import {CheckFailedError} from '../errors.js'
import {exchangeCode, preflightAuthorization, prepareAuthorization, type AuthorizationTarget, type UserTokenSet} from '../login/authorize.js'
import type {DriverEvent} from '../login/form-driver.js'
import {refreshTokens} from '../login/tokens.js'
import type {WalkthroughContext} from './context.js'
import {authorizeInBrowser, checkCodeFlowSupport, discoverSignIn, openListener, signInClient, type Authorized, type BrowserOptions, type SignInTarget} from './login.js'
import {ensureResource} from './resource.js'
import {runTool} from './tool.js'
import {tokenSubject} from './user-session.js'
import {StepRecorder, type VerifyOptions, type VerifyReport} from './verify.js'

export const USER_VERIFY_STEPS_FORMS = [
  'discovery (401, resource and AS metadata)',
  'resource registered',
  'client registered',
  'authorize (sent to sign in)',
  'login',
  'consent',
  'code exchanged (sub = the user)',
  'echo tool with the user token',
  'refresh (tokens rotated)',
  'refused: code replay',
  'refused: wrong code verifier',
  'refused: foreign redirect URI',
] as const

/** Without a password ap-demo cannot fill the forms: the user signs in, in the browser, in one step. */
export const USER_VERIFY_STEPS_BROWSER = [...USER_VERIFY_STEPS_FORMS.slice(0, 3), 'sign-in in the browser', ...USER_VERIFY_STEPS_FORMS.slice(6)] as const

export interface UserVerifyOptions extends Pick<VerifyOptions, 'onStart' | 'onStep' | 'describeError' | 'echoText' | 'slug' | 'displayName' | 'scope'> {
  email: string
  env: Environment
  /** AP_DEMO_USER_PASSWORD (a test convenience): ap-demo fills the sign-in and consent forms. Else the user signs in. */
  password?: string
  browser: BrowserOptions
}

export function userVerifySteps(forms: boolean): readonly string[] {
  return forms ? USER_VERIFY_STEPS_FORMS : USER_VERIFY_STEPS_BROWSER
}

/** Resolves once `check` says the refusal happened; a request that succeeds is the failure. */
async function refused(what: string, attempt: () => Promise<unknown>, expected: (error: unknown) => string | undefined): Promise<{value: undefined; detail: string}> {
  let error: unknown
  try {
    await attempt()
  } catch (e) {
    error = e
  }
  if (error === undefined) {
    throw new CheckFailedError('not_refused', `${what}: the authorization server accepted it`, {hint: 'It must refuse (OAuth 2.1 §4.1.3, RFC 7636 §4.6); a server that does not lets a stolen code be used.'})
  }
  const detail = expected(error)
  if (detail === undefined) throw error
  return {value: undefined, detail}
}

function oauthCode(error: unknown): string | undefined {
  const e = error as {code?: unknown; details?: {error?: unknown; httpStatus?: unknown}}
  return typeof e?.details?.error === 'string' ? e.details.error : undefined
}

function description(error: unknown): string {
  const d = (error as {details?: {error_description?: unknown}})?.details?.error_description
  return typeof d === 'string' && d !== '' ? ` (${d})` : ''
}

export async function runVerifyUser(ctx: WalkthroughContext, options: UserVerifyOptions): Promise<VerifyReport> {
  const forms = options.password !== undefined
  const names = userVerifySteps(forms)
  const report: VerifyReport = {passed: false, issuer: ctx.issuer, adminUrl: ctx.adminUrl, mcpUrl: ctx.mcpUrl, resource: ctx.resource, slug: options.slug, steps: []}
  const steps = new StepRecorder(report, options)
  let n = 0
  const next = () => names[n++]!

  const target: SignInTarget = await steps.run(next(), async () => {
    const t = await discoverSignIn(ctx, {})
    checkCodeFlowSupport(t.server)
    report.issuer = t.server.metadata.issuer
    report.resource = t.resource
    return {value: t, detail: `issuer ${t.server.metadata.issuer}, resource ${t.resource}, scope "${t.scopes.join(' ')}"`}
  })
  await steps.run(next(), async () => {
    const saved = ctx.store.getProfile(ctx.profile).resource
    const scopes = saved?.slug === options.slug ? saved.scopes : [{name: options.scope, description: 'echo tool'}]
    const r = await ensureResource(ctx, {slug: options.slug, uri: target.resource, displayName: options.displayName, scopes})
    return {value: r, detail: `${r.action === 'created' ? 'created' : 'reused'} ${r.resource.slug}`}
  })
  const listener = await openListener(ctx, target.server.metadata.issuer, options.browser.callbackPort)
  try {
    const registration = await steps.run(next(), async () => {
      const r = await signInClient(ctx, target, {env: options.env}, listener.redirectUri)
      return {value: r, detail: `${r.action === 'registered' ? 'registered (RFC 7591, native' : `${r.action} (${r.client.via}`}, ${r.client.authMethod === 'none' ? 'public client' : r.client.authMethod}) ${r.client.clientId}`}
    })
    const server = target.server.metadata
    const base: Omit<AuthorizationTarget, 'client'> = {server, resource: target.resource, scopes: target.scopes}

    /** One authorization through the browser or the form driver, its pages shown as steps when driven. */
    const authorizeOnce = async (asSteps: boolean): Promise<Authorized> => {
      if (!forms) {
        return authorizeInBrowser(ctx, base, registration, listener, {...options.browser, onAuthorizationUrl: (url, b) => options.browser.onAuthorizationUrl?.(url, b)})
      }
      const stepNames = {authorize: names[3]!, login: names[4]!, consent: names[5]!}
      let current: keyof typeof stepNames | undefined
      const onEvent = (event: DriverEvent) => {
        if (!asSteps) return
        if (event.kind === 'authorize') {
          steps.pass(stepNames.authorize, `${event.status} to ${event.to}`)
          steps.start(stepNames.login)
          current = 'login'
        } else if (event.kind === 'login') {
          steps.pass(stepNames.login, `${options.email}: ${event.status}`)
          steps.start(stepNames.consent)
          current = 'consent'
        } else if (event.kind === 'consent') {
          steps.pass(stepNames.consent, `${event.decision} "${event.scopes.join(' ')}": ${event.status}`)
          current = undefined
        } else if (event.kind === 'returned' && current === 'consent') {
          // Consent remembered from an earlier run: the server sent the browser straight back.
          steps.pass(stepNames.consent, 'remembered from an earlier consent: no page')
          current = undefined
        }
      }
      if (asSteps) {
        steps.start(stepNames.authorize)
        current = 'authorize'
      }
      try {
        return await authorizeInBrowser(ctx, base, registration, listener, {...options.browser, driver: {email: options.email, password: options.password!, onEvent}})
      } catch (error) {
        if (!asSteps) throw error
        if (current) steps.fail(stepNames[current], error)
        // The pages are done; the redirect back was refused (state, iss, an error): the code step fails.
        steps.start(names[6]!)
        return steps.fail(names[6]!, error)
      }
    }

    let authorized: Authorized
    if (forms) {
      authorized = await authorizeOnce(true)
    } else {
      authorized = await steps.run(next(), async () => ({value: await authorizeOnce(true), detail: `signed in as ${options.email} in the browser`}))
    }
    if (forms) n = 6
    const full: AuthorizationTarget = {...base, client: authorized.client}
    const exchange = () => exchangeCode(full, authorized.prepared.redirectUri, authorized.params, authorized.prepared.codeVerifier, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
    const tokens: UserTokenSet = await steps.run(next(), async () => {
      const t = await exchange()
      const sub = tokenSubject(t.accessToken)
      if (!sub) throw new CheckFailedError('no_subject', 'the user\'s access token has no sub', {hint: 'A user token names its user in sub (RFC 9068 §2.2).'})
      if (sub === authorized.client.clientId) throw new CheckFailedError('client_subject', `the access token's sub is the client (${sub}), not the user`, {hint: 'A token from the authorization code grant is the user\'s (RFC 9068 §2.2).'})
      return {value: t, detail: `sub ${sub}, scope "${t.scope ?? ''}", expires in ${t.expiresIn ?? '?'} s${t.refreshToken ? ', refresh token' : ''}`}
    })
    await steps.run(next(), async () => {
      const outcome = await runTool(ctx, tokens.accessToken, 'echo', {pairs: [['text', options.echoText]]})
      if (outcome.result.isError || !outcome.text.includes(options.echoText)) {
        throw new CheckFailedError('echo_mismatch', `echo returned ${JSON.stringify(outcome.text)}, expected ${JSON.stringify(options.echoText)}`, {details: {result: outcome.result}})
      }
      report.echoed = outcome.text
      return {value: outcome, detail: JSON.stringify(outcome.text)}
    })
    await steps.run(next(), async () => {
      if (!tokens.refreshToken) throw new CheckFailedError('no_refresh_token', 'the authorization server issued no refresh token', {hint: 'ap-demo refreshes user tokens before they expire; without a refresh token the user must sign in again every time.'})
      const t = await refreshTokens(full, tokens.refreshToken, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer})
      if (t.accessToken === tokens.accessToken) throw new CheckFailedError('not_refreshed', 'the refresh returned the same access token', {hint: 'A refresh issues a new access token (RFC 6749 §6).'})
      return {value: t, detail: `new access token${t.refreshToken && t.refreshToken !== tokens.refreshToken ? ', refresh token rotated' : t.refreshToken ? ', same refresh token' : ''}`}
    })
    await steps.run(next(), () => refused('the same code a second time', exchange, (e) => (oauthCode(e) === 'invalid_grant' ? `invalid_grant${description(e)}` : undefined)))
    await steps.run(next(), async () => {
      const second = await authorizeOnce(false)
      const wrong = randomBytes(32).toString('base64url')
      return refused('a code with another PKCE verifier', () => exchangeCode({...base, client: second.client}, second.prepared.redirectUri, second.params, wrong, {timeoutMs: ctx.requestTimeoutMs, observer: ctx.observer}), (e) => (oauthCode(e) === 'invalid_grant' ? `invalid_grant${description(e)}` : undefined))
    })
    await steps.run(next(), async () => {
      const foreign = 'https://attacker.example/callback'
      const prepared = await prepareAuthorization(full, foreign)
      const verdict = await preflightAuthorization(prepared, {timeoutMs: ctx.requestTimeoutMs})
      if (verdict.kind === 'refused') return {value: undefined, detail: `${verdict.status}${verdict.page ? ` "${verdict.page}"` : ''}, no redirect`}
      const to = verdict.kind === 'answered' ? verdict.callback.href : `a ${verdict.status} answer`
      throw new CheckFailedError('foreign_redirect_accepted', `an authorization request with the unregistered redirect URI ${foreign} got ${to}`, {hint: 'The server must show an error page and never redirect to a URI the client did not register (RFC 6749 §4.1.2.1).'})
    })
  } finally {
    await listener.close()
  }
  report.passed = true
  return report
}
