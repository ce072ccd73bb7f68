import type { AuthClient, AuthError, AuthState, User } from '@spa-auth/core'
import { useStore } from 'zustand'
import { useShallow } from 'zustand/react/shallow'
import { useAuthClient } from './context.js'

/** What {@link useAuth} returns without a selector. */
export interface UseAuthResult {
  status: AuthState['status']
  user: User | undefined
  error: AuthError | undefined
  isAuthenticated: boolean
  isLoading: boolean
  login: AuthClient['login']
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
  const picked = useStore(
    client.store,
    useShallow((state: AuthState) =>
      selector
        ? { value: selector(state) }
        : { status: state.status, user: state.user, error: state.error },
    ),
  )
  if (selector) return (picked as { value: T }).value
  const { status, user, error } = picked as Pick<AuthState, 'status' | 'user' | 'error'>
  return {
    status,
    user,
    error,
    isAuthenticated: status === 'authenticated',
    isLoading: status === 'loading',
    login: client.login,
    logout: client.logout,
    getAccessToken: client.getAccessToken,
  }
}
