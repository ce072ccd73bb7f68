import { randomId } from './crypto.js'
import { BffFailure } from './http.js'
import type { Resolved, Route } from './options.js'
import type { Grant, Provider } from './provider.js'
import type { Loaded, Session, Sessions } from './sessions.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The token a route is called with: its own, or the session's. */
function tokenOf(s: Session, route: Route | undefined) {
  return route?.token ? s.apis?.[route.prefix] : s
}

/** The `aud` of a JWT access token; undefined for an opaque one (nothing to check). */
function audienceOf(token: string): string[] | undefined {
  const [, payload, , extra] = token.split('.')
  if (!payload || extra !== undefined) return undefined
  try {
    const { aud } = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {
      aud?: unknown
    }
    return typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.map(String) : []
  } catch {
    return undefined
  }
}

/**
 * Fresh access tokens for sessions: a token about to expire, or one an API refused, is refreshed
 * once for however many requests of the session are waiting, in this process (one promise) and
 * across every instance that shares the store (a lock with an expiry: the others wait for the
 * session the lock's holder writes). A route with a token of its own gets it, and renews it, with
 * a refresh-token grant for its resource (RFC 8707 §2.2); the lock is the session's, since every
 * grant may rotate the one refresh token.
 */
export function createRefresher(o: Resolved, provider: Provider, sessions: Sessions) {
  const inFlight = new Map<string, Promise<Session>>()
  // Longer than one token request and the store's writes around it (the metadata is read before
  // the lock is taken); a holder that died lets go by itself after this.
  const lockTtl = 2 * o.requestTimeout + 5_000

  const usable = (s: Session, route: Route | undefined, stale: string | undefined) => {
    const token = tokenOf(s, route)
    return !!token && token.accessToken !== stale && token.expiresAt - o.refreshLeeway > o.clock()
  }

  async function current(key: string): Promise<Session> {
    const session = await sessions.read(key)
    if (!session)
      throw new BffFailure(401, 'session_expired', 'Token refresh: the session has ended')
    return session
  }

  /** The session with `route`'s new token, and the rotated refresh token. */
  function withGrant(session: Session, route: Route | undefined, grant: Grant): Session {
    if (!route?.token) return sessions.renewed(session, grant)
    const { accessToken, expiresAt } = grant
    return {
      ...session,
      refreshToken: grant.refreshToken ?? session.refreshToken,
      apis: { ...session.apis, [route.prefix]: { accessToken, expiresAt } },
    }
  }

  /** Refreshes under the lock; `stale` is the token that no longer serves. */
  async function refreshHolding(key: string, route: Route | undefined, stale?: string) {
    const session = await current(key)
    if (usable(session, route, stale)) return session // another instance was first
    if (!session.refreshToken) {
      await sessions.end(key, session)
      throw new BffFailure(401, 'session_expired', 'Token refresh: no refresh token; sign in again')
    }
    let grant: Grant
    try {
      grant = await provider.refresh(session.refreshToken, route?.token)
    } catch (error) {
      if (error instanceof BffFailure && error.code === 'session_expired')
        await sessions.end(key, undefined)
      throw error
    }
    const audience = route?.audience && audienceOf(grant.accessToken)
    if (audience && !audience.includes(route.audience as string)) {
      // Keep the rotated refresh token, never the token for another API.
      await sessions.write(key, {
        ...session,
        refreshToken: grant.refreshToken ?? session.refreshToken,
      })
      throw new BffFailure(
        502,
        'configuration',
        `Token refresh for ${route.prefix}: the provider gave a token for ${audience.join(', ') || 'no audience'}, not ${route.audience}`,
      )
    }
    const next = withGrant(session, route, grant)
    await sessions.write(key, next)
    return next
  }

  async function refreshAcross(key: string, route: Route | undefined, stale?: string) {
    await provider.metadata() // not while holding the lock: a cold instance may discover first
    const deadline = o.clock() + lockTtl
    const mine = randomId()
    for (let wait = 20; ; wait = Math.min(wait * 2, 200)) {
      if (await o.store.claim(`lock:${key}`, mine, lockTtl)) {
        try {
          return await refreshHolding(key, route, stale)
        } finally {
          await o.store.delete(`lock:${key}`, mine).catch(() => undefined)
        }
      }
      await sleep(wait)
      const session = await current(key)
      if (usable(session, route, stale)) return session
      if (o.clock() > deadline)
        throw new BffFailure(503, 'unavailable', 'Token refresh: another instance holds the lock')
    }
  }

  return {
    /**
     * A token for `route` that serves: as it is while it does, else refreshed once for all.
     * `refused` is a token the API answered 401 to: it is replaced even if not expired.
     */
    async fresh({ key, session }: Loaded, route?: Route, refused?: string): Promise<string> {
      if (!refused && usable(session, route, undefined)) return tokenOf(session, route)!.accessToken
      const flight = `${key} ${route?.token ? route.prefix : ''}`
      let pending = inFlight.get(flight)
      if (!pending) {
        const stale = refused ?? tokenOf(session, route)?.accessToken
        pending = refreshAcross(key, route, stale).finally(() => inFlight.delete(flight))
        inFlight.set(flight, pending)
      }
      return tokenOf(await pending, route)!.accessToken
    },
  }
}

/** The refresher of a BFF: {@link createRefresher}. */
export type Refresher = ReturnType<typeof createRefresher>
