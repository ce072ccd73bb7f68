import type { AuthClient, AuthError, AuthState, User } from '@spa-auth/core'
import { useStore } from 'zustand'
import { useAuthClient } from './context.js'

/** What {@link useAuth} returns without a selector. */
export interface UseAuthResult {
  status: AuthState['status']
  user: User | undefined
  error: AuthError | undefined
  isAuthenticated: boolean
  isLoading: boolean
  login: AuthClient['login']
  loginWithPopup: AuthClient['loginWithPopup']
  logout: AuthClient['logout']
  getAccessToken: AuthClient['getAccessToken']
}

/**
 * The session for components: status, user, error and the actions. It re-renders on a change
 * of status, user or error only: a silent token refresh re-renders nothing. Pass a selector to
 * read something else, such as `expiresAt`.
 *
 * @example
 * ```tsx
 * const { user, isAuthenticated, login } = useAuth()
 * const expiresAt = useAuth((s) => s.expiresAt)
 * ```
 * @throws {Error} outside an `<AuthProvider>`.
 */
export function useAuth(): UseAuthResult
export function useAuth<T>(selector: (state: AuthState) => T): T
export function useAuth<T>(selector?: (state: AuthState) => T): T | UseAuthResult {
  const client = useAuthClient()
  // One subscription per field: each re-renders only when its own value changes.
  const status = useStore(client.store, (s) => s.status)
  const user = useStore(client.store, (s) => s.user)
  const error = useStore(client.store, (s) => s.error)
  const picked = useStore(client.store, selector ?? (() => undefined))
  if (selector) return picked as T
  return {
    status,
    user,
    error,
    isAuthenticated: status === 'authenticated',
    isLoading: status === 'loading',
    login: client.login,
    loginWithPopup: client.loginWithPopup,
    logout: client.logout,
    getAccessToken: client.getAccessToken,
  }
}
