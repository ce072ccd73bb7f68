import { abortable, withTimeout } from './abort.js'
import { type Clock, clampDelay, sleep } from './clock.js'
import { AuthError, asAuthError } from './errors.js'
import type { Emitter, RefreshReason } from './events.js'
import { isTransient } from './provider.js'
import {
  type SessionStore,
  toRefreshed,
  toUnauthenticated,
  type User,
  withError,
} from './session.js'
import type { Refresher } from './source.js'
import type { Tabs } from './tabs.js'
import type { TokenHolder, TokenSet } from './tokens.js'

/** How hard the client tries before it gives up on one refresh. */
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
// How long a tab that waited for another's refresh waits for its tokens before refreshing itself.
const SIBLING_WAIT_MS = 250
// A provider whose fresh tokens are rejected at once gets this many refreshes a minute.
const MAX_REFRESHES_PER_MINUTE = 4

interface LifecycleDeps {
  tokens: TokenHolder
  store: SessionStore
  emitter: Emitter
  clock: Clock
  refresher: Refresher
  /** Seconds before expiry to refresh. */
  leeway: number
  /** Milliseconds one refresh request may take. */
  timeout: number
  retry?: RetryPolicy
  random?: () => number
  /** The tabs of this client, when they cooperate: one refresh at a time across all of them. */
  tabs?: () => Pick<Tabs, 'exclusive' | 'ask'> | undefined
  /** Called after this tab refreshed, to share the new tokens. */
  onRefreshed?: (user: User | undefined) => void
}

/**
 * The token lifecycle: hands out access tokens, refreshes them once for every caller that
 * waits (single-flight), ahead of expiry (scheduled), and decides what a failure means.
 */
export function createLifecycle(deps: LifecycleDeps) {
  const { tokens, clock, emitter, store, refresher } = deps
  const retry = deps.retry ?? RETRY
  const random = deps.random ?? Math.random
  let inflight: Promise<TokenSet> | undefined
  let controller: AbortController | undefined
  let timer: unknown
  let recent: number[] = []

  /** When this token set is due for refresh: `leeway` before expiry, at most half its lifetime. */
  function dueAt(set: TokenSet): number | undefined {
    if (set.expiresAt === undefined) return undefined
    const lifetime = set.expiresAt - set.receivedAt
    return set.expiresAt - Math.min(deps.leeway * 1000, lifetime / 2)
  }

  function isDue(set: TokenSet): boolean {
    const due = dueAt(set)
    return due !== undefined && clock.now() >= due
  }

  function isExpired(set: TokenSet): boolean {
    return set.expiresAt !== undefined && clock.now() >= set.expiresAt
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

  function throttled(): boolean {
    const now = clock.now()
    recent = recent.filter((t) => now - t < 60_000)
    if (recent.length >= MAX_REFRESHES_PER_MINUTE) return true
    recent.push(now)
    return false
  }

  /** What a refresh failure means for the session; returns the error to hand to callers. */
  function fail(error: AuthError, attempt: number, start: TokenSet): AuthError {
    if (tokens.generation() !== start.generation) return stale()
    emitter.emit({ type: 'refresh_failed', error, attempt, willRetry: false })
    if (error.code === 'session_expired' || error.code === 'login_required') {
      tokens.clear()
      cancelTimer()
      toUnauthenticated(store, error)
      emitter.emit({ type: 'session_expired', error })
    } else {
      withError(store, error)
      // Transient: keep the session and come back later (not before the server's `Retry-After`);
      // the next call or `online` may be sooner.
      if (isTransient(error)) schedule(Math.max(retry.maxDelay, (error.retryAfter ?? 0) * 1000))
    }
    return error
  }

  function stale(): AuthError {
    return new AuthError(
      'login_required',
      'The session changed while refreshing (signed out or replaced)',
    )
  }

  async function run(reason: RefreshReason): Promise<TokenSet> {
    const first = tokens.get()
    if (!first) throw new AuthError('login_required', 'Not signed in')
    const tabs = deps.tabs?.()
    if (!tabs) return attempt(reason, first)
    return tabs.exclusive(async (waited) => {
      // Another tab refreshed while this one waited for the lock: ask for its tokens.
      if (waited) await tabs.ask(SIBLING_WAIT_MS)
      const start = tokens.get()
      if (!start) throw stale()
      if (start.generation !== first.generation && !isDue(start)) return start
      return attempt(reason, start)
    })
  }

  /** One refresh, with retries, for the tokens of `start`. */
  async function attempt(reason: RefreshReason, start: TokenSet): Promise<TokenSet> {
    if (!refresher.canRefresh(start)) {
      throw fail(
        new AuthError('login_required', 'The session cannot be refreshed: no refresh token'),
        0,
        start,
      )
    }
    if (throttled()) {
      throw fail(
        new AuthError(
          'invalid_response',
          `Token refresh throttled: ${MAX_REFRESHES_PER_MINUTE} refreshes within a minute did not yield a usable token`,
        ),
        0,
        start,
      )
    }
    const own = new AbortController()
    controller = own
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await withTimeout(
          clock,
          deps.timeout,
          (signal) => refresher.refresh(start, signal),
          own.signal,
          'Token refresh',
        )
        // A sign-out or another refresh won meanwhile: this answer belongs to nobody.
        if (tokens.generation() !== start.generation) throw stale()
        const set = tokens.set(result.tokens)
        toRefreshed(store, set.expiresAt, set.scope, result.user)
        deps.onRefreshed?.(result.user)
        emitter.emit({ type: 'refresh', expiresAt: set.expiresAt, reason })
        schedule()
        // A listener of the event may have signed out: hand nobody the tokens of a dead session.
        if (tokens.generation() !== set.generation) throw stale()
        return set
      } catch (caught) {
        const error = asAuthError(caught, 'network', 'Token refresh')
        if (own.signal.aborted || tokens.generation() !== start.generation) throw stale()
        const wait = backoff(attempt, error)
        // A server that asks for a longer pause than one refresh waits gets it: give up for now.
        if (!isTransient(error) || attempt >= retry.attempts || wait > retry.maxDelay) {
          throw fail(error, attempt, start)
        }
        emitter.emit({ type: 'refresh_failed', error, attempt, willRetry: true })
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
    /** Whether the current session has anything to refresh with. */
    canRefresh(): boolean {
      const set = tokens.get()
      return set !== undefined && refresher.canRefresh(set)
    },
    /**
     * A valid access token: the current one unless it is due, else the shared refresh's. A
     * transient failure still yields the current token while it has not expired.
     *
     * @throws {AuthError} `login_required`, `session_expired`, `network`, `timeout`, or the
     *   signal's reason when it aborts.
     */
    async getAccessToken(signal?: AbortSignal): Promise<string> {
      const set = tokens.get()
      if (!set) throw new AuthError('login_required', 'Not signed in: call login() first')
      if (
        !isDue(set) ||
        (inflight === undefined && !refresher.canRefresh(set) && !isExpired(set))
      ) {
        return set.accessToken
      }
      try {
        const fresh = await abortable(refresh(isExpired(set) ? 'expired' : 'scheduled'), signal)
        // A provider that answers `expires_in: 0` gives a token dead on arrival: not handed out.
        if (isExpired(fresh)) {
          throw new AuthError('invalid_response', 'Token refresh yielded an already expired token')
        }
        return fresh.accessToken
      } catch (error) {
        const now = tokens.get()
        if (error instanceof AuthError && isTransient(error) && now && !isExpired(now))
          return now.accessToken
        throw error
      }
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
