import { createStore } from 'zustand/vanilla'
import type { AuthError } from '../errors.js'
import type { Snapshot } from '../protocol.js'
import type { AuthState } from '../types.js'

/** Creates the store of public state, starting at `loading`. */
export function createSessionStore() {
  return createStore<AuthState>()(() => ({ status: 'loading' }))
}

/** The store of public state. */
export type SessionStore = ReturnType<typeof createSessionStore>

/** Public state whose absent fields may be spelt `undefined`. */
type Loose = { [K in keyof AuthState]: AuthState[K] | undefined }

function set(store: SessionStore, state: Loose): void {
  const clean = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined))
  store.setState(clean as unknown as AuthState, true)
}

/**
 * The engine's snapshot as public state: status, claims, expiry, scope, error; never the token.
 * The user object is kept as it was when the claims did not change, so a silent refresh
 * re-renders nothing that reads only the user.
 */
export function toSnapshot(store: SessionStore, s: Snapshot): void {
  if (s.status === 'unauthenticated') {
    set(store, { status: 'unauthenticated', error: s.error, signedOut: s.signedOut })
    return
  }
  const before = store.getState().user
  const user = JSON.stringify(s.user) === JSON.stringify(before) ? before : s.user
  set(store, {
    status: 'authenticated',
    user,
    expiresAt: s.expiresAt,
    scope: s.scope,
    error: s.error,
  })
}

/** Not signed in, with the reason when it was a failure. */
export function toUnauthenticated(store: SessionStore, error?: AuthError): void {
  set(store, { status: 'unauthenticated', error })
}

/** Signed out, by the user's own choice. */
export function toSignedOut(store: SessionStore): void {
  set(store, { status: 'unauthenticated', signedOut: true })
}

/** Records a failure without changing the status. */
export function withError(store: SessionStore, error: AuthError | undefined): void {
  set(store, { ...store.getState(), error })
}
