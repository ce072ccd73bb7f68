import { type Clock, monotonic } from '../clock.js'
import type { TokenResponse } from '../token-json.js'

/** The tokens of the current session. Only the engine sees them. */
export interface TokenSet {
  readonly accessToken: string
  readonly refreshToken: string | undefined
  readonly idToken: string | undefined
  /** When the access token expires, on the local clock (ms); undefined when unknown. */
  readonly expiresAt: number | undefined
  /** When the tokens arrived, on the local clock (ms). */
  readonly receivedAt: number
  /** When the tokens arrived, on the engine's monotonic clock (ms): what their age is read on. */
  readonly receivedAtMono: number
  readonly scope: string | undefined
  /** Bumped on every change, so late results and stale replays can be told apart. */
  readonly generation: number
}

// No provider gets to pin a token for longer than a year, and nonsense becomes "unknown".
const MAX_LIFETIME_S = 365 * 24 * 3600

/**
 * The only holder of tokens: a closure in memory. Nothing here is written anywhere else.
 */
export function createTokenHolder(clock: Clock) {
  let current: TokenSet | undefined
  let generation = 0
  return {
    get: (): TokenSet | undefined => current,
    /**
     * Replaces the tokens; a response without a refresh token keeps the old one. `at` is when
     * they arrived, when that was before now.
     */
    set(response: TokenResponse, at = clock.now()): TokenSet {
      generation += 1
      const now = at
      // Tokens that arrived earlier (handed over by the app) are as much older on both clocks.
      const mono = monotonic(clock) - Math.max(0, clock.now() - at)
      current = {
        accessToken: response.accessToken,
        refreshToken: response.refreshToken ?? current?.refreshToken,
        idToken: response.idToken ?? current?.idToken,
        expiresAt: expiryFrom(now, response.expiresIn),
        receivedAt: now,
        receivedAtMono: mono,
        scope: response.scope ?? current?.scope,
        generation,
      }
      return current
    },
    /**
     * Forgets the refresh token of `generation` and keeps the rest: the provider took it (it
     * answered 2xx, and may have rotated it) but its answer was refused, so it must never be sent
     * again. The access token lives out its lifetime.
     */
    spend(of: number): void {
      if (current?.generation === of) current = { ...current, refreshToken: undefined }
    },
    /**
     * The refresh token an API's grant rotated: the session's now, with the same access token and
     * generation (no page's token changed).
     */
    rotate(refreshToken: string): void {
      if (current) current = { ...current, refreshToken }
    },
    clear(): void {
      generation += 1
      current = undefined
    },
    /** The generation now: compare with one read earlier to see whether anything changed. */
    generation: () => generation,
    /** Keeps tokens out of `JSON.stringify` and `console.log` of the holder. */
    toJSON: () => ({}),
  }
}

/** The token holder. */
export type TokenHolder = ReturnType<typeof createTokenHolder>

function expiryFrom(now: number, expiresIn: number | undefined): number | undefined {
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)
    return undefined
  return now + Math.min(expiresIn, MAX_LIFETIME_S) * 1000
}
