import type { AuthError } from './errors.js'

/**
 * What spa-auth tells listeners, by event type. No event carries a token.
 */
export interface AuthEventMap {
  /**
   * The page reached the engine that keeps the session, once: a token worker every tab shares
   * (`shared-worker`), one of this tab's own (`worker`), or the page itself (`page`, where no worker
   * can run or with a custom token source: then page script could reach the refresh token), or
   * the app's backend-for-frontend (`bff`: no token in the browser at all).
   */
  connected: { holder: TokenHolderKind }
  /** A user signed in through the callback. */
  login: { sub: string | undefined }
  /**
   * New tokens arrived by refresh; `expiresAt` is when the new access token expires. `api`: the
   * name of the API whose own token it was (see the `apis` option), absent for the session's.
   */
  refresh: { expiresAt: number | undefined; reason: RefreshReason; api?: string }
  /** A refresh attempt failed; `willRetry` says whether the client tries again by itself. */
  refresh_failed: { error: AuthError; attempt: number; willRetry: boolean }
  /** The session ended because the provider no longer accepts the refresh token. */
  session_expired: { error: AuthError }
  /** The user signed out. */
  logout: { revoked: boolean }
  /** `auth.fetch` replays a request after a 401. */
  retry: { url: string; refreshed: boolean }
  /**
   * With DPoP, a proof went out (to the token endpoint or an API): its method, URL and the
   * server's nonce it carries, if any. No token: a proof holds only its hash.
   */
  dpop_proof: { htm: string; htu: string; nonce: string | undefined }
  /**
   * With DPoP, a server asked for its nonce (`use_dpop_nonce`): the request goes once more, with
   * the nonce the answer gave.
   */
  dpop_nonce: { url: string }
  /** Any other failure worth logging. */
  error: { error: AuthError }
}

/** Where the refresh token is kept. */
export type TokenHolderKind = 'shared-worker' | 'worker' | 'page' | 'bff'

/** Why a refresh happened. */
export type RefreshReason = 'scheduled' | 'expired' | 'unauthorized' | 'resumed'

/** One event: its type and its details. */
export type AuthEvent = {
  [K in keyof AuthEventMap]: { type: K } & AuthEventMap[K]
}[keyof AuthEventMap]

/** A listener for every event. */
export type AuthEventListener = (event: AuthEvent) => void

/** A small typed emitter; a listener that throws does not stop the others. */
export function createEmitter() {
  const listeners = new Set<AuthEventListener>()
  return {
    emit(event: AuthEvent): void {
      for (const listener of [...listeners]) {
        try {
          listener(event)
        } catch (error) {
          queueMicrotask(() => {
            throw error
          })
        }
      }
    },
    on(listener: AuthEventListener): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/** The emitter spa-auth's modules share. */
export type Emitter = ReturnType<typeof createEmitter>
