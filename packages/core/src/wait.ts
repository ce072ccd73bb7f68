// Timed waits, on the injected clock: the engine's backoff and timeouts, the silent sign-in's
// settling delay. Apart from clock.ts, which the page's first script needs, so that it does not
// carry these.
import { type Clock, MAX_TIMER_DELAY } from './clock.js'

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clock.clearTimeout(handle)
      reject(signal?.reason)
    }
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, clampDelay(ms))
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A delay `setTimeout` will honour: not negative, not past 2³¹−1 ms. */
export function clampDelay(ms: number): number {
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_TIMER_DELAY)
}
