import type { AuthClient } from '@spa-auth/core'
import { createContext, useContext } from 'react'

/** The client the nearest `<AuthProvider>` holds. */
export const AuthContext = createContext<AuthClient | null>(null)

/**
 * The client of the nearest `<AuthProvider>`.
 *
 * @throws {Error} outside an `<AuthProvider>`, saying how to fix it.
 */
export function useAuthClient(): AuthClient {
  const client = useContext(AuthContext)
  if (!client) {
    throw new Error(
      'spa-auth: this component is not inside <AuthProvider client={auth}>. ' +
        'Create the client once with createAuthClient() and wrap your app in <AuthProvider client={auth}>.',
    )
  }
  return client
}
