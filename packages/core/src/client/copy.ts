import { type Clock, monotonic } from '../clock.js'
import { AuthError } from '../errors.js'
import type { Snapshot } from '../protocol.js'
import {
  type SessionStore,
  toSignedOut,
  toSnapshot,
  toUnauthenticated,
  withError,
} from './session.js'

/**
 * The page's copy of the session: the engine's latest snapshot (the access token, never a refresh
 * token), and the public state made from it.
 */
export function createCopy(store: SessionStore, clock: Clock) {
  /** The engine's wait as a time on each of the page's clocks, set on receipt. */
  const when = <T extends { refreshIn?: number; refreshAt?: number; refreshBy?: number }>(t: T) => {
    const wait = t.refreshIn
    if (wait !== undefined) {
      t.refreshAt = clock.now() + wait
      t.refreshBy = monotonic(clock) + wait
    }
    return t
  }
  let session: Snapshot | undefined
  let generation = -1
  // The generation this page signed out at: what the engine sent before it heard of the sign-out
  // (a refresh landing, an answer on its way) must not bring the session back.
  let forgotten = -1
  return {
    /** Takes the engine's snapshot, unless a newer one came first. */
    apply(s: Snapshot): Snapshot {
      if (s.generation < generation || s.generation <= forgotten) return s
      generation = s.generation
      // The engine's monotonic time is not the page's (a worker has its own origin): its wait
      // becomes a time on each of the page's clocks as it arrives.
      when(s)
      for (const api of Object.values(s.apis ?? {})) when(api)
      session = s.status === 'authenticated' ? s : undefined
      // While the first status settles, "nobody signed in" is not an answer yet.
      if (session || store.getState().status !== 'loading') toSnapshot(store, s)
      return s
    },
    /** Signs this page out at once: no token is handed out from here on. */
    forget(): void {
      session = undefined
      forgotten = generation
      toSignedOut(store)
    },
    /** The session's tokens now; undefined when signed out. */
    current: () => session,
    /**
     * The session's tokens (with `api`, that API's own), for a caller that waited: signed out
     * meanwhile, it must not go on.
     */
    held(api?: string): Snapshot {
      const held = api === undefined ? session : (session?.apis?.[api] as Snapshot | undefined)
      if (!session?.accessToken || !held) {
        throw new AuthError('login_required', 'Signed out while the request waited')
      }
      return held
    },
    /** A failure to show: beside the session, or as the reason there is none (if any). */
    failed(error?: AuthError): void {
      if (session) withError(store, error)
      else toUnauthenticated(store, error)
    },
  }
}

/** The page's copy of the session. */
export type Copy = ReturnType<typeof createCopy>
