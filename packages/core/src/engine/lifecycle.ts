import { type Clock, clampDelay, sleep } from '../clock.js'
import { AuthError, asAuthError } from '../errors.js'
import type { AuthEvent, RefreshReason } from '../events.js'
import { isTransient } from './provider.js'
import type { Refreshed, Refresher } from './source.js'
import { withTimeout } from './timeout.js'
import type { TokenHolder, TokenSet } from './tokens.js'

/** How hard the engine tries before it gives up on one refresh. */
export interface RetryPolicy {
  /** Attempts per refresh, the first included. */
  attempts: number
  /** The first backoff, doubled after each failure, with full jitter. */
  baseDelay: number
  /** No wait (backoff or `Retry-After`) is longer. */
  maxDelay: number
}

const RETRY: RetryPolicy = { attempts: 3, baseDelay: 1_000, maxDelay: 30_000 }
// Never schedule two refreshes closer than this: a token with no lifetime must not spin.
const MIN_SCHEDULE_DELAY = 5_000
// Wasted refreshes (a fresh token the API refused, or a token that came already expired) a
// minute. Refreshes of tokens that simply reached their time are never counted: a short lifetime
// is no storm.
const MAX_WASTED_PER_MINUTE = 4
const MINUTE = 60_000

/** What the lifecycle tells the engine. */
export interface LifecycleHooks {
  /** New tokens (and claims, when an ID token came) replaced the session's. */
  refreshed(set: TokenSet, result: Refreshed, reason: RefreshReason): void
  /** A failure that keeps the session: it is worth saying in the status. */
  failed(error: AuthError): void
  /** The session is over: the tokens are gone. */
  ended(error: AuthError): void
  emit(event: AuthEvent): void
}

interface LifecycleDeps extends LifecycleHooks {
  tokens: TokenHolder
  clock: Clock
  refresher: Refresher
  /** Seconds before expiry to refresh. */
  leeway: number
  /** Milliseconds one refresh request may take. */
  timeout: number
  retry?: RetryPolicy
  random?: () => number
}

/** A refresh of a token nobody needed a new one for: forced by a 401, or yielding a dead token. */
type Waste = { at: number; forced: boolean }

/**
 * The token lifecycle: refreshes once for every caller that waits (single-flight), ahead of
 * expiry (scheduled), and decides what a failure means.
 */
export function createLifecycle(deps: LifecycleDeps) {
  const { tokens, clock, refresher } = deps
  const retry = deps.retry ?? RETRY
  const random = deps.random ?? Math.random
  let inflight: Promise<TokenSet> | undefined
  let controller: AbortController | undefined
  let timer: unknown
  let wasted: Waste[] = []

  /** When this token set is due for refresh: `leeway` before expiry, at most half its lifetime. */
  function dueAt(set: TokenSet): number | undefined {
    if (set.expiresAt === undefined) return undefined
    const lifetime = set.expiresAt - set.receivedAt
    return set.expiresAt - Math.min(deps.leeway * 1000, lifetime / 2)
  }

  const isDue = (set: TokenSet) => {
    const due = dueAt(set)
    return due !== undefined && clock.now() >= due
  }
  const isExpired = (set: TokenSet) => set.expiresAt !== undefined && clock.now() >= set.expiresAt

  /**
   * The wasted refreshes of the last minute. A time ahead of the clock (the clock went back) is
   * not recent: it is dropped, so a jump back never holds a refresh up.
   */
  function recentWaste(): Waste[] {
    const now = clock.now()
    wasted = wasted.filter((w) => now - w.at >= 0 && now - w.at < MINUTE)
    return wasted
  }

  /** When the oldest wasted refresh leaves the minute, the guard lets one through again. */
  function guardFreesIn(): number {
    return Math.max(
      MIN_SCHEDULE_DELAY,
      (recentWaste()[0]?.at ?? clock.now()) + MINUTE - clock.now(),
    )
  }

  function cancelTimer(): void {
    if (timer !== undefined) clock.clearTimeout(timer)
    timer = undefined
  }

  /** Arms the one refresh timer for the current tokens; the timer is a hint, never trusted. */
  function schedule(delay?: number): void {
    cancelTimer()
    const set = tokens.get()
    const due = set && dueAt(set)
    if (!set || due === undefined || !refresher.canRefresh(set)) return
    const wait = delay ?? Math.max(due - clock.now(), MIN_SCHEDULE_DELAY)
    timer = clock.setTimeout(() => {
      timer = undefined
      // Devices sleep and background tabs stall: read the clock again before acting.
      if (isDue(set) || delay !== undefined) refresh('scheduled').catch(() => {})
      else schedule()
    }, clampDelay(wait))
  }

  /** The wait before the next attempt: jittered and capped, but never shorter than `Retry-After`. */
  function backoff(attempt: number, error: AuthError): number {
    const jittered = Math.min(random() * retry.baseDelay * 2 ** (attempt - 1), retry.maxDelay)
    return Math.max(jittered, (error.retryAfter ?? 0) * 1000)
  }

  function stale(): AuthError {
    return new AuthError(
      'login_required',
      'The session changed while refreshing (signed out or replaced)',
    )
  }

  /** What a refresh failure means for the session; returns the error to hand to callers. */
  function fail(error: AuthError, attempt: number, start: TokenSet): AuthError {
    if (tokens.generation() !== start.generation) return stale()
    deps.emit({ type: 'refresh_failed', error, attempt, willRetry: false })
    if (error.code === 'session_expired' || error.code === 'login_required') {
      cancelTimer()
      deps.ended(error)
      deps.emit({ type: 'session_expired', error })
      return error
    }
    deps.failed(error)
    // Transient: keep the session and come back later (not before the server's `Retry-After`);
    // the next call or `online` may be sooner.
    if (isTransient(error)) schedule(Math.max(retry.maxDelay, (error.retryAfter ?? 0) * 1000))
    return error
  }

  /** One request, under the timeout, for the tokens of `start`; marks the refresh token spent. */
  async function once(start: TokenSet, signal: AbortSignal): Promise<Refreshed> {
    let spent = false
    try {
      return await withTimeout(
        clock,
        deps.timeout,
        (s) => refresher.refresh(start, s, () => (spent = true)),
        signal,
        'Token refresh',
      )
    } catch (error) {
      // The provider took the refresh token but its answer was refused: never send it again.
      if (spent) tokens.spend(start.generation)
      throw error
    }
  }

  /** New tokens arrived for `start`: take them, unless the session moved on meanwhile. */
  function take(start: TokenSet, result: Refreshed, reason: RefreshReason): TokenSet {
    if (tokens.generation() !== start.generation) throw stale()
    const set = tokens.set(result.tokens)
    if (isExpired(set)) wasted.push({ at: clock.now(), forced: false })
    deps.refreshed(set, result, reason)
    schedule()
    // A listener of the event may have signed out: hand nobody the tokens of a dead session.
    if (tokens.generation() !== set.generation) throw stale()
    return set
  }

  /** One refresh, with retries, for the current tokens. */
  async function run(reason: RefreshReason): Promise<TokenSet> {
    const start = tokens.get()
    if (!start) throw new AuthError('login_required', 'Not signed in')
    if (!refresher.canRefresh(start)) {
      const error = new AuthError(
        'session_expired',
        'The session cannot be refreshed: no refresh token',
      )
      throw fail(error, 0, start)
    }
    if (recentWaste().filter((w) => !w.forced).length >= MAX_WASTED_PER_MINUTE) {
      const wait = guardFreesIn()
      const error = new AuthError(
        'invalid_response',
        `Token refresh paused for ${Math.ceil(wait / 1000)} s: ${MAX_WASTED_PER_MINUTE} refreshes within a minute yielded tokens that were already expired`,
      )
      fail(error, 0, start)
      schedule(wait)
      throw error
    }
    const own = new AbortController()
    controller = own
    for (let attempt = 1; ; attempt++) {
      try {
        return take(start, await once(start, own.signal), reason)
      } catch (caught) {
        const error = asAuthError(caught, 'network', 'Token refresh')
        if (own.signal.aborted || tokens.generation() !== start.generation) throw stale()
        const wait = backoff(attempt, error)
        // A server that asks for a longer pause than one refresh waits gets it: give up for now.
        if (!isTransient(error) || attempt >= retry.attempts || wait > retry.maxDelay) {
          throw fail(error, attempt, start)
        }
        deps.emit({ type: 'refresh_failed', error, attempt, willRetry: true })
        // Signed out or disposed while waiting: no further request for a session that is gone.
        await sleep(clock, wait, own.signal).catch(() => Promise.reject(stale()))
      }
    }
  }

  /** One refresh for every caller that asks while it runs. */
  function refresh(reason: RefreshReason): Promise<TokenSet> {
    inflight ??= run(reason).finally(() => {
      inflight = undefined
      controller = undefined
    })
    return inflight
  }

  return {
    refresh,
    schedule,
    dueAt,
    /**
     * Valid tokens: the current ones unless they are due, else the shared refresh's. A transient
     * failure still yields the current tokens while they have not expired.
     *
     * @throws {AuthError} `login_required`, `session_expired`, `network`, `timeout`,
     *   `invalid_response`.
     */
    async current(reason: RefreshReason): Promise<TokenSet> {
      const set = tokens.get()
      if (!set) throw new AuthError('login_required', 'Not signed in: call login() first')
      if (
        !isDue(set) ||
        (inflight === undefined && !refresher.canRefresh(set) && !isExpired(set))
      ) {
        return set
      }
      try {
        const fresh = await refresh(isExpired(set) ? 'expired' : reason)
        // A provider that answers `expires_in: 0` gives a token dead on arrival: not handed out.
        if (isExpired(fresh)) {
          throw new AuthError('invalid_response', 'Token refresh yielded an already expired token')
        }
        return fresh
      } catch (error) {
        const now = tokens.get()
        if (error instanceof AuthError && isTransient(error) && now && !isExpired(now)) return now
        throw error
      }
    },
    /**
     * After an API answered 401 to the token of generation `stale`: a newer token when there is
     * one, else one refresh shared by every such caller. A refresh the guard declines (the API
     * refused too many fresh tokens this minute) yields the same tokens: the 401 stands.
     *
     * @throws {AuthError} as {@link current}.
     */
    async rejected(stale: number | undefined): Promise<TokenSet> {
      const set = tokens.get()
      if (!set) throw new AuthError('login_required', 'Signed out while the request waited')
      if (stale !== undefined && set.generation !== stale) return set
      if (inflight) return inflight
      if (!refresher.canRefresh(set) || recentWaste().length >= MAX_WASTED_PER_MINUTE) return set
      wasted.push({ at: clock.now(), forced: true })
      return refresh('unauthorized')
    },
    /** After waking, focus or coming online: refresh now if due, else re-arm the timer. */
    check(): void {
      const set = tokens.get()
      if (set && isDue(set) && refresher.canRefresh(set)) refresh('resumed').catch(() => {})
      else schedule()
    },
    /** Stops the timer and abandons any refresh in flight (its result will be discarded). */
    stop(): void {
      cancelTimer()
      controller?.abort(stale())
    },
    /** Whether a timer is armed (for leak checks). */
    get timerArmed() {
      return timer !== undefined
    },
  }
}

/** The token lifecycle. */
export type Lifecycle = ReturnType<typeof createLifecycle>
