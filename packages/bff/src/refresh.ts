import { randomId } from './crypto.js'
import { BffFailure } from './http.js'
import type { Resolved } from './options.js'
import type { Provider } from './provider.js'
import type { Loaded, Session, Sessions } from './sessions.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Fresh access tokens for sessions: a token about to expire, or one an API refused, is refreshed
 * once for however many requests of the session are waiting, in this process (one promise) and
 * across every instance that shares the store (a lock with an expiry: the others wait for the
 * session the lock's holder writes).
 */
export function createRefresher(o: Resolved, provider: Provider, sessions: Sessions) {
  const inFlight = new Map<string, Promise<Session>>()
  // Long enough for one token request; a holder that died lets go by itself after this.
  const lockTtl = o.requestTimeout + 2_000

  const usable = (s: Session, stale: string) =>
    s.accessToken !== stale && s.expiresAt - o.refreshLeeway > o.clock()

  async function current(key: string): Promise<Session> {
    const session = await sessions.read(key)
    if (!session)
      throw new BffFailure(401, 'session_expired', 'Token refresh: the session has ended')
    return session
  }

  /** Refreshes under the lock; `stale` is the token that no longer serves. */
  async function refreshHolding(key: string, stale: string): Promise<Session> {
    const session = await current(key)
    if (usable(session, stale)) return session // another instance was first
    if (!session.refreshToken) {
      await sessions.end(key, session)
      throw new BffFailure(401, 'session_expired', 'Token refresh: no refresh token; sign in again')
    }
    try {
      const grant = await provider.refresh(session.refreshToken)
      const next = sessions.renewed(session, grant)
      await sessions.write(key, next)
      return next
    } catch (error) {
      if (error instanceof BffFailure && error.code === 'session_expired')
        await sessions.end(key, undefined)
      throw error
    }
  }

  async function refreshAcross(key: string, stale: string): Promise<Session> {
    const deadline = o.clock() + lockTtl
    const mine = randomId()
    for (let wait = 20; ; wait = Math.min(wait * 2, 200)) {
      if (await o.store.claim(`lock:${key}`, mine, lockTtl)) {
        try {
          return await refreshHolding(key, stale)
        } finally {
          await o.store.delete(`lock:${key}`, mine).catch(() => undefined)
        }
      }
      await sleep(wait)
      const session = await current(key)
      if (usable(session, stale)) return session
      if (o.clock() > deadline)
        throw new BffFailure(503, 'unavailable', 'Token refresh: another instance holds the lock')
    }
  }

  return {
    /**
     * The session with a token that serves: as it is while it does, else refreshed once for all.
     * `refused` is a token an API answered 401 to: it is replaced even if not expired.
     */
    fresh({ key, session }: Loaded, refused?: string): Promise<Session> {
      const stale = refused ?? session.accessToken
      if (!refused && session.expiresAt - o.refreshLeeway > o.clock())
        return Promise.resolve(session)
      let pending = inFlight.get(key)
      if (!pending) {
        pending = refreshAcross(key, stale).finally(() => inFlight.delete(key))
        inFlight.set(key, pending)
      }
      return pending
    },
  }
}

/** The refresher of a BFF: {@link createRefresher}. */
export type Refresher = ReturnType<typeof createRefresher>
