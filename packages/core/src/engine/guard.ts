import type { Clock } from '../clock.js'

// Wasted refreshes (a fresh token the API refused, or a token that came already expired) a
// minute. Refreshes of tokens that simply reached their time are never counted: a short lifetime
// is no storm.
const MAX_WASTED_PER_MINUTE = 4
const MINUTE = 60_000

/** A refresh nobody needed a new token for: forced by a 401, or yielding a dead token. */
type Waste = { at: number; forced: boolean }

/**
 * The guard against refresh storms: it counts the wasted refreshes of the last minute, on the
 * local clock. A time ahead of the clock (the clock went back) is not recent: it is dropped, so a
 * jump back never holds a refresh up.
 */
export function createRefreshGuard(clock: Clock) {
  let wasted: Waste[] = []

  function recent(): Waste[] {
    const now = clock.now()
    wasted = wasted.filter((w) => now - w.at >= 0 && now - w.at < MINUTE)
    return wasted
  }

  return {
    limit: MAX_WASTED_PER_MINUTE,
    /** Notes a refresh forced by a 401 (`forced`), or one that yielded a dead token. */
    note(forced: boolean): void {
      wasted.push({ at: clock.now(), forced })
    },
    /** Whether one more refresh forced by a 401 may go. */
    allowsForced: () => recent().length < MAX_WASTED_PER_MINUTE,
    /** Whether refreshes that yield dead tokens have filled the minute. */
    deadTokensFull: () => recent().filter((w) => !w.forced).length >= MAX_WASTED_PER_MINUTE,
    /** Milliseconds until the oldest wasted refresh leaves the minute (at least `floor`). */
    freesIn(floor: number): number {
      const oldest = recent()[0]?.at ?? clock.now()
      return Math.max(floor, oldest + MINUTE - clock.now())
    },
  }
}

/** The refresh guard. */
export type RefreshGuard = ReturnType<typeof createRefreshGuard>
