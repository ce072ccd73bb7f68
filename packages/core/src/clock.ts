// The clock spa-auth reads and sets its timers on, and waiting on a promise that may be aborted.
// Timed waits are in wait.ts: only the engine and the sign-in flows wait, so the page's first
// script does not carry them.

/**
 * Where spa-auth reads the time and sets its timers. Inject one in tests; the default reads the
 * globals at call time, so fake timers installed after the client was made still apply.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /**
   * Milliseconds on a clock that only moves forward, from any origin: what lifetimes are measured
   * on, so that setting the wall clock back or forth moves no refresh. Default: `now()`.
   */
  monotonic?(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The largest delay `setTimeout` honours; a longer one fires at once in every browser. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1

/** The clock of the page. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => (globalThis.performance ?? Date).now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The time on `clock`'s monotonic clock, or its wall clock when it has none. */
export const monotonic = (clock: Clock): number => clock.monotonic?.() ?? clock.now()

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
