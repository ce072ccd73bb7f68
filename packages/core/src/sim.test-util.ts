import type { Clock } from './index.js'

/** One turn of the real event loop: lets promises, MSW and WebCrypto work go on. */
export const io = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A clock for discrete-event simulation: time moves only when the test fires the earliest timer,
 * so a backoff of 30 s or a refresh due in an hour costs nothing in real time. It records every
 * delay asked for, to check none is beyond what `setTimeout` honours.
 */
export function simClock(start = Date.now()) {
  let now = start
  let next = 0
  const timers = new Map<number, { at: number; run: () => void }>()
  let longestDelay = 0
  let shortestDelay = Number.POSITIVE_INFINITY
  const clock: Clock = {
    now: () => now,
    setTimeout(run, ms) {
      longestDelay = Math.max(longestDelay, ms)
      shortestDelay = Math.min(shortestDelay, ms)
      next += 1
      timers.set(next, { at: now + ms, run })
      return next
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
  }

  /** Fires the earliest timer, moving the time to it; false when none is armed. */
  function fireNext(): boolean {
    let first: [number, { at: number; run: () => void }] | undefined
    for (const entry of timers) if (!first || entry[1].at < first[1].at) first = entry
    if (!first) return false
    timers.delete(first[0])
    now = Math.max(now, first[1].at)
    first[1].run()
    return true
  }

  /**
   * Runs the world until `settled()` holds: real I/O first, then the next timer. Returns false
   * when it still does not hold after `maxSteps` timers (a hang).
   */
  async function runUntil(settled: () => boolean, maxSteps = 1_000, ioTurns = 3): Promise<boolean> {
    for (let step = 0; step <= maxSteps; step++) {
      for (let turn = 0; turn < ioTurns && !settled(); turn++) await io()
      if (settled()) return true
      if (!fireNext()) {
        // Nothing armed: only real I/O can move things on.
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
    return settled()
  }

  return {
    clock,
    runUntil,
    fireNext,
    /** Jumps the time forward without firing anything: a device asleep. */
    sleep(ms: number) {
      now += ms
    },
    set(at: number) {
      now = at
    },
    get longestDelay() {
      return longestDelay
    },
    get shortestDelay() {
      return shortestDelay
    },
    get armed() {
      return timers.size
    },
  }
}

/** A promise's outcome, readable before it settles. */
export function outcome<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false }
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  )
  return state
}
