import type { Clock } from '@spa-auth/core'

/** A manual clock: time moves only when the bench says so, and timers fire only then. */
export interface FakeClock extends Clock {
  /** Timers armed and not yet fired or cleared. */
  readonly pending: number
  /** When the earliest armed timer is due; undefined when none is armed. */
  readonly nextAt: number | undefined
  /** Moves the time to the earliest timer and fires it; false when none is armed. */
  fireNext(): boolean
  /** Moves the time forward without firing anything. */
  advance(ms: number): void
}

/** A {@link FakeClock} starting at `start` ms since the epoch. */
export function createFakeClock(start = Date.UTC(2030, 0, 1)): FakeClock {
  let now = start
  let nextId = 1
  const timers = new Map<number, { at: number; callback: () => void }>()
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++
      timers.set(id, { at: now + Math.max(0, ms), callback })
      return id
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
    get pending() {
      return timers.size
    },
    get nextAt() {
      let at: number | undefined
      for (const timer of timers.values()) if (at === undefined || timer.at < at) at = timer.at
      return at
    },
    fireNext() {
      let first: [number, { at: number; callback: () => void }] | undefined
      for (const entry of timers) if (!first || entry[1].at < first[1].at) first = entry
      if (!first) return false
      timers.delete(first[0])
      now = Math.max(now, first[1].at)
      first[1].callback()
      return true
    },
    advance(ms) {
      now += ms
    },
  }
}
