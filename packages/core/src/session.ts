import { createStore } from 'zustand/vanilla'
import type { AuthError } from './errors.js'

/** Claims about the signed-in user, from the ID token (or what a custom token source gives). */
export interface User {
  sub?: string
  name?: string
  email?: string
  [claim: string]: unknown
}

/** Where the session stands. */
export type AuthStatus = 'loading' | 'unauthenticated' | 'authenticated'

/**
 * The public state: what the UI may read. It never holds a token.
 */
export interface AuthState {
  status: AuthStatus
  /** The user's claims while authenticated. */
  user?: User
  /** When the access token expires (ms since the epoch), when the provider said. */
  expiresAt?: number
  /** The scope the provider granted, when it said. */
  scope?: string
  /** The last failure, beside the status it fell back to. */
  error?: AuthError
}

/** Creates the store of public state, starting at `loading`. */
export function createSessionStore() {
  return createStore<AuthState>()(() => ({ status: 'loading' }))
}

/** The store of public state. */
export type SessionStore = ReturnType<typeof createSessionStore>

/** Signed in as `user`, with an access token that expires at `expiresAt`. */
export function toAuthenticated(
  store: SessionStore,
  session: { user: User | undefined; expiresAt: number | undefined; scope: string | undefined },
): void {
  store.setState(withoutUndefined({ status: 'authenticated', ...session }), true)
}

/**
 * New tokens for the same user: the expiry and scope change; the user object is kept as it was
 * unless new claims came, so components that read only `user` do not re-render.
 */
export function toRefreshed(
  store: SessionStore,
  expiresAt?: number,
  scope?: string,
  user?: User,
): void {
  const state = store.getState()
  const claims = user && JSON.stringify(user) !== JSON.stringify(state.user) ? user : state.user
  store.setState(withoutUndefined({ status: state.status, user: claims, expiresAt, scope }), true)
}

/** Signed out, with the reason when it was a failure. */
export function toUnauthenticated(store: SessionStore, error?: AuthError): void {
  store.setState(withoutUndefined({ status: 'unauthenticated', error }), true)
}

/** Records a failure without changing the status. */
export function withError(store: SessionStore, error: AuthError | undefined): void {
  const { error: _previous, ...rest } = store.getState()
  store.setState(withoutUndefined({ ...rest, error }), true)
}

function withoutUndefined<T extends object>(value: T): AuthState {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as AuthState
}
