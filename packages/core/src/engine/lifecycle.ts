import { type Clock, monotonic } from '../clock.js'
import { AuthError } from '../errors.js'
import type { AuthEvent, RefreshReason } from '../events.js'
import { asAuthError } from '../failure.js'
import { clampDelay, sleep } from '../wait.js'
import { createRefreshGuard, type RefreshGuard } from './guard.js'
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
  /**
   * An API's own token: got at its first call (from no token at all) and renewed when a call
   * finds it due, never by a timer: an API nobody calls costs no request.
   */
  lazy?: boolean
}

/** What one session's refreshes share: the one in flight, the timer, the guard. */
interface State extends LifecycleDeps {
  retry: RetryPolicy
  random: () => number
  guard: RefreshGuard
  inflight: Promise<TokenSet> | undefined
  controller: AbortController | undefined
  timer: unknown
}

// The most a long-lived token's refresh is brought forward: time for two rounds of retries.
const MAX_FRACTION_LEAD_MS = 60_000

/**
 * How long ago `set` arrived (ms): the longer of what the monotonic and the wall clock say. The
 * monotonic clock keeps a wall clock set back (an NTP correction) from stretching a token's life;
 * the wall clock still counts a sleep, which stops the monotonic clock in most browsers outside
 * Windows. A wall clock set forward can only bring a refresh forward, never hand out a dead token.
 */
function age(s: State, set: TokenSet): number {
  return Math.max(s.clock.now() - set.receivedAt, monotonic(s.clock) - set.receivedAtMono)
}

/**
 * How long until this token set is due for refresh (ms; 0 or less once due), undefined when
 * never: close to expiry, so that a token is refreshed once per lifetime. The lead is the larger
 * of `leeway` and a tenth of the lifetime up to a minute (time for a refresh and its retries),
 * and never more than half the lifetime: a 60 s token is refreshed at 54 s, a 300 s token at
 * 270 s, an hour's a minute early, a 10 s token at 5 s.
 */
function dueIn(s: State, set: TokenSet): number | undefined {
  if (set.expiresAt === undefined) return undefined
  const lifetime = set.expiresAt - set.receivedAt
  const fraction = Math.min(lifetime / 10, MAX_FRACTION_LEAD_MS)
  return lifetime - Math.min(lifetime / 2, Math.max(s.leeway * 1000, fraction)) - age(s, set)
}

const isDue = (s: State, set: TokenSet) => (dueIn(s, set) ?? 1) <= 0

const isExpired = (s: State, set: TokenSet) =>
  set.expiresAt !== undefined && age(s, set) >= set.expiresAt - set.receivedAt

function cancelTimer(s: State): void {
  if (s.timer !== undefined) s.clock.clearTimeout(s.timer)
  s.timer = undefined
}

/** Arms the one refresh timer for the current tokens; the timer is a hint, never trusted. */
function schedule(s: State, delay?: number): void {
  cancelTimer(s)
  if (s.lazy) return
  const set = s.tokens.get()
  const due = set && dueIn(s, set)
  if (!set || due === undefined || !s.refresher.canRefresh(set)) return
  const wait = delay ?? Math.max(due, MIN_SCHEDULE_DELAY)
  s.timer = s.clock.setTimeout(() => {
    s.timer = undefined
    // Devices sleep and background tabs stall: read the clock again before acting.
    if (isDue(s, set) || delay !== undefined) refresh(s, 'scheduled').catch(() => {})
    else schedule(s)
  }, clampDelay(wait))
}

/** The wait before the next attempt: jittered and capped, but never shorter than `Retry-After`. */
function backoff(s: State, attempt: number, error: AuthError): number {
  const jittered = Math.min(s.random() * s.retry.baseDelay * 2 ** (attempt - 1), s.retry.maxDelay)
  return Math.max(jittered, (error.retryAfter ?? 0) * 1000)
}

function stale(): AuthError {
  return new AuthError(
    'login_required',
    'The session changed while refreshing (signed out or replaced)',
  )
}

/** What a refresh failure means for the session; returns the error to hand to callers. */
function fail(s: State, error: AuthError, attempt: number, start: TokenSet): AuthError {
  if (s.tokens.generation() !== start.generation) return stale()
  s.emit({ type: 'refresh_failed', error, attempt, willRetry: false })
  if (error.code === 'session_expired' || error.code === 'login_required') {
    cancelTimer(s)
    s.ended(error)
    s.emit({ type: 'session_expired', error })
    return error
  }
  s.failed(error)
  // Transient: keep the session and come back later (not before the server's `Retry-After`);
  // the next call or `online` may be sooner.
  if (isTransient(error)) schedule(s, Math.max(s.retry.maxDelay, (error.retryAfter ?? 0) * 1000))
  return error
}

/** One request, under the timeout, for the tokens of `start`; marks the refresh token spent. */
async function once(s: State, start: TokenSet, signal: AbortSignal): Promise<Refreshed> {
  let spent = false
  const markSpent = () => {
    spent = true
  }
  try {
    return await withTimeout(
      s.clock,
      s.timeout,
      (timed) => s.refresher.refresh(start, timed, markSpent),
      signal,
      'Token refresh',
    )
  } catch (error) {
    // The provider took the refresh token but its answer was refused: never send it again.
    if (spent) s.tokens.spend(start.generation)
    throw error
  }
}

/** New tokens arrived for `start`: take them, unless the session moved on meanwhile. */
function take(s: State, start: TokenSet, result: Refreshed, reason: RefreshReason): TokenSet {
  if (s.tokens.generation() !== start.generation) throw stale()
  const set = s.tokens.set(result.tokens)
  if (isExpired(s, set)) s.guard.note(false)
  s.refreshed(set, result, reason)
  schedule(s)
  // A listener of the event may have signed out: hand nobody the tokens of a dead session.
  if (s.tokens.generation() !== set.generation) throw stale()
  return set
}

/** Why no refresh may start for `start` now, if none may: the caller gets it. */
function refusal(s: State, start: TokenSet): AuthError | undefined {
  if (!s.refresher.canRefresh(start)) {
    const error = new AuthError(
      'session_expired',
      'The session cannot be refreshed: no refresh token',
    )
    return fail(s, error, 0, start)
  }
  if (!s.guard.deadTokensFull()) return undefined
  const wait = s.guard.freesIn(MIN_SCHEDULE_DELAY)
  const error = new AuthError(
    'invalid_response',
    `Token refresh paused for ${Math.ceil(wait / 1000)} s: ${s.guard.limit} refreshes within a minute yielded tokens that were already expired`,
  )
  fail(s, error, 0, start)
  schedule(s, wait)
  return error
}

/** One refresh, with retries, for the current tokens. */
async function run(s: State, reason: RefreshReason): Promise<TokenSet> {
  // A lazy token starts from none: what changes meanwhile is told by the generation alone.
  const start =
    s.tokens.get() ?? (s.lazy ? ({ generation: s.tokens.generation() } as TokenSet) : undefined)
  if (!start) throw new AuthError('login_required', 'Not signed in')
  const refused = refusal(s, start)
  if (refused) throw refused
  const own = new AbortController()
  s.controller = own
  for (let attempt = 1; ; attempt++) {
    try {
      return take(s, start, await once(s, start, own.signal), reason)
    } catch (caught) {
      const error = asAuthError(caught, 'network', 'Token refresh')
      if (own.signal.aborted || s.tokens.generation() !== start.generation) throw stale()
      const wait = backoff(s, attempt, error)
      // A server that asks for a longer pause than one refresh waits gets it: give up for now.
      if (!isTransient(error) || attempt >= s.retry.attempts || wait > s.retry.maxDelay) {
        throw fail(s, error, attempt, start)
      }
      s.emit({ type: 'refresh_failed', error, attempt, willRetry: true })
      // Signed out or disposed while waiting: no further request for a session that is gone.
      await sleep(s.clock, wait, own.signal).catch(() => Promise.reject(stale()))
    }
  }
}

/** One refresh for every caller that asks while it runs. */
function refresh(s: State, reason: RefreshReason): Promise<TokenSet> {
  s.inflight ??= run(s, reason).finally(() => {
    s.inflight = undefined
    s.controller = undefined
  })
  return s.inflight
}

/** The shared refresh's tokens; a provider that answers `expires_in: 0` gets none handed out. */
async function fresh(s: State, reason: RefreshReason): Promise<TokenSet> {
  const set = await refresh(s, reason)
  if (isExpired(s, set)) {
    throw new AuthError('invalid_response', 'Token refresh yielded an already expired token')
  }
  return set
}

/**
 * Valid tokens: the current ones unless they are due, else the shared refresh's. A transient
 * failure still yields the current tokens while they have not expired.
 */
async function current(s: State, reason: RefreshReason): Promise<TokenSet> {
  const set = s.tokens.get()
  if (!set && s.lazy) return fresh(s, reason)
  if (!set) throw new AuthError('login_required', 'Not signed in: call login() first')
  const idle = s.inflight === undefined && !s.refresher.canRefresh(set) && !isExpired(s, set)
  if (!isDue(s, set) || idle) return set
  try {
    return await fresh(s, isExpired(s, set) ? 'expired' : reason)
  } catch (error) {
    const now = s.tokens.get()
    if (error instanceof AuthError && isTransient(error) && now && !isExpired(s, now)) return now
    throw error
  }
}

/**
 * After an API answered 401 to the token of generation `staleGeneration`: a newer token when there
 * is one, else one refresh shared by every such caller. A refresh the guard declines (the API
 * refused too many fresh tokens this minute) yields the same tokens: the 401 stands.
 */
async function rejected(s: State, staleGeneration: number | undefined): Promise<TokenSet> {
  const set = s.tokens.get()
  if (!set) throw new AuthError('login_required', 'Signed out while the request waited')
  if (staleGeneration !== undefined && set.generation !== staleGeneration) return set
  if (s.inflight) return s.inflight
  if (!s.refresher.canRefresh(set) || !s.guard.allowsForced()) return set
  s.guard.note(true)
  return refresh(s, 'unauthorized')
}

/**
 * The token lifecycle: refreshes once for every caller that waits (single-flight), ahead of
 * expiry (scheduled), and decides what a failure means.
 */
export function createLifecycle(deps: LifecycleDeps) {
  const s: State = {
    ...deps,
    retry: deps.retry ?? RETRY,
    random: deps.random ?? Math.random,
    guard: createRefreshGuard(deps.clock),
    inflight: undefined,
    controller: undefined,
    timer: undefined,
  }
  return {
    refresh: (reason: RefreshReason) => refresh(s, reason),
    schedule: (delay?: number) => schedule(s, delay),
    /** How long until `set` is due for refresh (ms; 0 or less once due); undefined when never. */
    dueIn: (set: TokenSet) => dueIn(s, set),
    /** @throws {AuthError} `login_required`, `session_expired`, `network`, `timeout`, `invalid_response`. */
    current: (reason: RefreshReason) => current(s, reason),
    rejected: (staleGeneration: number | undefined) => rejected(s, staleGeneration),
    /** After waking, focus or coming online: refresh now if due, else re-arm the timer. */
    check(): void {
      const set = s.tokens.get()
      if (set && isDue(s, set) && s.refresher.canRefresh(set)) refresh(s, 'resumed').catch(() => {})
      else schedule(s)
    },
    /** Stops the timer and abandons any refresh in flight (its result will be discarded). */
    stop(): void {
      cancelTimer(s)
      s.controller?.abort(stale())
    },
    /** Whether a timer is armed (for leak checks). */
    get timerArmed() {
      return s.timer !== undefined
    },
  }
}

/** The token lifecycle. */
export type Lifecycle = ReturnType<typeof createLifecycle>
