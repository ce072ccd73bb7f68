import type { IDToken } from 'oauth4webapi'
import { hash, randomId } from './crypto.js'
import { BffFailure, cookieOf } from './http.js'
import type { Resolved } from './options.js'
import type { Grant } from './provider.js'

/** One signed-in browser, as the store keeps it (JSON). Never leaves the BFF. */
export interface Session {
  v: 1
  /** Milliseconds since the epoch, on the BFF's clock. */
  createdAt: number
  /** When a request last used it; kept under a key of its own (`t:`), read with the session. */
  touchedAt: number
  absoluteExpiresAt: number
  /** The ID token's claims the page may see. */
  user: Record<string, unknown>
  sub: string
  /** The provider's session (OpenID back-channel logout names it). */
  sid: string | undefined
  accessToken: string
  expiresAt: number
  refreshToken: string | undefined
  /** The tokens of the routes that have their own, by route prefix. */
  apis?: Record<string, { accessToken: string; expiresAt: number }>
}

/** A session and the store key it lives under (a hash of the cookie's id). */
export interface Loaded {
  key: string
  session: Session
}

// Protocol claims of the ID token: the page has no use for them.
const PROTOCOL_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash']
const OTHERS = ['s_hash', 'azp', 'sid', 'jti']

function userOf(claims: IDToken): Record<string, unknown> {
  const user: Record<string, unknown> = { ...claims }
  for (const name of [...PROTOCOL_CLAIMS, ...OTHERS]) delete user[name]
  return user
}

/** Until when the page may count on the session, idle or not. */
export const sessionExpiresAt = (o: Resolved, s: Session) =>
  Math.min(s.touchedAt + o.idleTimeout, s.absoluteExpiresAt)

const ended = (what: string) =>
  new BffFailure(401, 'session_expired', `${what}: the session has ended; sign in again`)

/** The sessions in the store: created, read, written back, ended. */
export function createSessions(o: Resolved, revoke: (token: string) => Promise<void>) {
  const { store } = o
  const gone = (key: string) => `gone:${key}`
  const marker = async (kind: 'sid' | 'sub', value: string) =>
    `end:${kind}:${await hash(`${o.issuer.href} ${value}`)}`

  /** Whether back-channel logout ended this session (its `sid`, or every session of its `sub`). */
  async function loggedOut(s: Session): Promise<boolean> {
    const keys = [await marker('sub', s.sub), ...(s.sid ? [await marker('sid', s.sid)] : [])]
    return (await store.get(keys)).some((at) => at !== undefined && Number(at) >= s.createdAt)
  }

  async function end(key: string, session: Session | undefined): Promise<void> {
    // The tombstone first: a refresh that writes the session back after this still finds it.
    await store.set(gone(key), '1', o.absoluteTimeout)
    await store.delete(`s:${key}`)
    for (const token of [
      session?.refreshToken,
      ...Object.values(session?.apis ?? {}).map((t) => t.accessToken),
    ])
      if (token) void revoke(token)
  }

  async function read(key: string): Promise<Session | undefined> {
    const [value, tombstone, touched] = await store.get([`s:${key}`, gone(key), `t:${key}`])
    // No touch left: idle past its timeout.
    if (!value || tombstone || !touched) return undefined
    const session: Session = { ...(JSON.parse(value) as Session), touchedAt: Number(touched) }
    if (session.absoluteExpiresAt <= o.clock()) return undefined
    if (await loggedOut(session)) {
      await end(key, session)
      return undefined
    }
    return session
  }

  /** Renews the idle time alone: the session itself (its tokens) is never rewritten for it. */
  async function touch(key: string, session: Session, now: number): Promise<void> {
    session.touchedAt = now
    await store.set(
      `t:${key}`,
      String(now),
      Math.min(o.idleTimeout, session.absoluteExpiresAt - now),
    )
  }

  /**
   * Writes the session's tokens back (after a refresh). Ended meanwhile (a sign-out in another
   * instance), it is not brought back, and the new refresh token is revoked.
   */
  async function write(key: string, session: Session): Promise<void> {
    const ttl = session.absoluteExpiresAt - o.clock()
    const { touchedAt: _, ...kept } = session
    if (ttl > 0) await store.set(`s:${key}`, JSON.stringify(kept), ttl)
    if (ttl <= 0 || (await store.get([gone(key)]))[0]) {
      await store.delete(`s:${key}`)
      if (session.refreshToken) void revoke(session.refreshToken)
      throw ended('Session')
    }
  }

  return {
    read,
    write,
    end,
    /**
     * The request's session, with its idle time renewed (written back at most once a minute);
     * `login_required` without a cookie, `session_expired` when the cookie's session is over.
     */
    async load(request: Request, what: string): Promise<Loaded> {
      const id = cookieOf(request, o.cookie.name)
      if (!id) throw new BffFailure(401, 'login_required', `${what}: not signed in`)
      const key = await hash(id)
      const session = await read(key)
      if (!session) throw ended(what)
      const now = o.clock()
      if (now - session.touchedAt > Math.min(60_000, o.idleTimeout / 10))
        await touch(key, session, now)
      return { key, session }
    },
    /** A new session for a new sign-in: a new id, whatever the browser had (no fixation). */
    async create(grant: Grant): Promise<{ id: string; session: Session }> {
      const claims = grant.claims as IDToken
      const now = o.clock()
      const session: Session = {
        v: 1,
        createdAt: now,
        touchedAt: now,
        absoluteExpiresAt: now + o.absoluteTimeout,
        user: userOf(claims),
        sub: claims.sub,
        sid: typeof claims.sid === 'string' ? claims.sid : undefined,
        accessToken: grant.accessToken,
        expiresAt: grant.expiresAt,
        refreshToken: grant.refreshToken,
      }
      const id = randomId()
      const key = await hash(id)
      await touch(key, session, now)
      await write(key, session)
      return { id, session }
    },
    /** The session after a refresh: the new tokens, and the claims of a new ID token. */
    renewed(session: Session, grant: Grant): Session {
      return {
        ...session,
        accessToken: grant.accessToken,
        expiresAt: grant.expiresAt,
        refreshToken: grant.refreshToken ?? session.refreshToken,
        ...(grant.claims ? { user: userOf(grant.claims) } : {}),
      }
    },
    /** Back-channel logout: every session of `sid` (or of `sub` when no `sid`) ends. */
    async logOut(claims: { sid?: string | undefined; sub?: string | undefined }): Promise<void> {
      const at = String(o.clock())
      if (claims.sid) await store.set(await marker('sid', claims.sid), at, o.absoluteTimeout)
      else if (claims.sub) await store.set(await marker('sub', claims.sub), at, o.absoluteTimeout)
    },
  }
}

/** The sessions of a BFF: {@link createSessions}. */
export type Sessions = ReturnType<typeof createSessions>
