// Time, timers and waiting: the one place spa-auth reads the clock or waits.

/**
 * Where spa-auth reads the time and sets its timers. Inject one in tests; the default reads the
 * globals at call time, so fake timers installed after the client was made still apply.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The largest delay `setTimeout` honours; a longer one fires at once in every browser. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

/** The clock of the page. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

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

/**
 * Settles as `promise` does, or rejects with the signal's reason as soon as it aborts; the work
 * behind `promise` goes on for whoever else waits on it.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
