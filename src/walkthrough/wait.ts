import {ApDemoError, UnreachableError} from '../errors.js'
import {DryRunStop, HttpUnreachableError} from '../http/request.js'
import {sleep} from './context.js'

export interface PollOptions {
  /** How long to keep trying (contract §6: the original script waits 60 s). */
  waitMs: number
  /** Per-request timeout; the last attempt gets only what is left of `waitMs`. */
  requestTimeoutMs: number
  /** The ApDemoError code an attempt throws for "answered, but not ready yet": try again. */
  notReadyCode: string
  /** For the error when the server never answered at all. */
  unreachable: {what: string; url: string; hint: string}
}

/**
 * Steps 1 and 2 wait the same way: `attempt` runs every 250 ms until it returns. A network failure
 * or an ApDemoError with `notReadyCode` means "try again"; any other error (a wrong issuer, an
 * unprotected server) ends the wait at once, as waiting cannot fix it. `first` is true only for
 * the first attempt, so that --print-curl shows the request once, not once per retry.
 */
export async function pollUntilReady<T>(options: PollOptions, attempt: (timeoutMs: number, first: boolean) => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.waitMs
  let last: unknown
  for (let first = true; ; first = false) {
    try {
      return await attempt(Math.max(1, Math.min(options.requestTimeoutMs, deadline - Date.now())), first)
    } catch (error) {
      if (error instanceof DryRunStop) throw error
      if (error instanceof ApDemoError && error.code !== options.notReadyCode) throw error
      last = error
    }
    if (Date.now() + 250 >= deadline) break
    await sleep(250)
  }
  if (last instanceof HttpUnreachableError) {
    const {what, url, hint} = options.unreachable
    throw new UnreachableError(last.reason === 'timeout' ? 'timeout' : 'unreachable', `${what} did not answer at ${url} within ${Math.round(options.waitMs / 1000)} s (${last.message})`, {
      hint,
      details: {url},
      cause: last,
    })
  }
  throw last
}
