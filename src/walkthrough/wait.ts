import {ApDemoError, UnreachableError} from '../errors.js'
import {DryRunStop, HttpRedirectError, HttpUnreachableError, InvalidRequestError} from '../http/request.js'
import {sleep} from './context.js'

/** Where a wait stands, for a display that says what it waits for and why it is still waiting. */
export interface WaitState {
  /** The URL it polls. */
  url: string
  /** Why the last attempt did not do: "connection refused (ECONNREFUSED)", "answered HTTP 503"; undefined before the first answer. */
  why?: string
  /** Attempts so far. */
  attempts: number
  /** How long it waits at most. */
  waitMs: number
}

export interface PollOptions {
  /** How long to keep trying (contract §6: the original script waits 60 s). */
  waitMs: number
  /** Per-request timeout; the last attempt gets only what is left of `waitMs`. */
  requestTimeoutMs: number
  /** The ApDemoError code an attempt throws for "answered, but not ready yet": try again. */
  notReadyCode: string
  /** For the errors: what is waited for, where, and how to start it ("Start it (...) or fix --issuer"). */
  unreachable: {what: string; url: string; start: string}
  /**
   * End at once when the first attempt finds nothing listening (ECONNREFUSED): for servers the
   * caller did not start, that is a server that is not running, not one still starting. A caller
   * that knows better (a start it began, an explicit --timeout) leaves it off and waits.
   */
  failFastWhenRefused?: boolean
  /** Told before the first attempt and after each failed one. */
  onWait?: (state: WaitState) => void
}

/** Why an attempt failed, in a few words for the waiting line. */
function whyNotReady(error: unknown): string {
  if (error instanceof HttpUnreachableError) {
    if (error.reason === 'timeout') return 'no answer in time'
    if (error.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)'
    return error.code ? `cannot connect (${error.code})` : error.message
  }
  return error instanceof Error ? error.message : String(error)
}

/**
 * Steps 1 and 2 wait the same way: `attempt` runs every 250 ms until it returns. A network failure
 * or an ApDemoError with `notReadyCode` means "try again"; any other error (a wrong issuer, an
 * unprotected server) ends the wait at once, as waiting cannot fix it. `first` is true only for
 * the first attempt, so that --print-curl shows the request once, not once per retry.
 */
export async function pollUntilReady<T>(options: PollOptions, attempt: (timeoutMs: number, first: boolean) => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.waitMs
  const {what, url, start} = options.unreachable
  let last: unknown
  let attempts = 0
  options.onWait?.({url, attempts, waitMs: options.waitMs})
  for (let first = true; ; first = false) {
    try {
      attempts++
      return await attempt(Math.max(1, Math.min(options.requestTimeoutMs, deadline - Date.now())), first)
    } catch (error) {
      // Waiting does not change a redirect or a request that cannot be sent.
      if (error instanceof DryRunStop || error instanceof HttpRedirectError || error instanceof InvalidRequestError) throw error
      if (error instanceof ApDemoError && error.code !== options.notReadyCode) throw error
      if (first && options.failFastWhenRefused && error instanceof HttpUnreachableError && error.code === 'ECONNREFUSED') {
        throw new UnreachableError('not_listening', `nothing listens at ${new URL(url).origin}: ${what} refused the connection (ECONNREFUSED, at ${url})`, {
          hint: `${start}. If it is still starting, wait for it: --timeout SECONDS.`,
          details: {url, errno: 'ECONNREFUSED'},
          cause: error,
        })
      }
      last = error
      options.onWait?.({url, why: whyNotReady(error), attempts, waitMs: options.waitMs})
    }
    if (Date.now() + 250 >= deadline) break
    await sleep(250)
  }
  if (last instanceof HttpUnreachableError) {
    throw new UnreachableError(last.reason === 'timeout' ? 'timeout' : 'unreachable', `${what} did not answer at ${url} within ${Math.round(options.waitMs / 1000)} s (${last.message})`, {
      hint: `${start}; --timeout sets how long to wait.`,
      details: {url},
      cause: last,
    })
  }
  throw last
}
