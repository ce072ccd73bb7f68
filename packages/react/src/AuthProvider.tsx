import type { AuthClient } from '@spa-auth/core'
import { type ReactNode, useEffect, useRef } from 'react'
import { AuthContext } from './context.js'

/** Props of {@link AuthProvider}. */
export interface AuthProviderProps {
  /** The client, created once outside React with `createAuthClient()`. */
  client: AuthClient
  /**
   * Called once after a successful sign-in callback, with the `returnTo` given to `login()`.
   * Navigate with your router here. Default: `history.replaceState` to `returnTo`.
   */
  onRedirectCallback?: (returnTo: string | undefined) => void
  children?: ReactNode
}

// A callback's outcome is delivered once per client, however often providers mount.
const delivered = new WeakSet<AuthClient>()

function replaceUrl(returnTo: string | undefined): void {
  if (returnTo) globalThis.history?.replaceState(globalThis.history.state, '', returnTo)
}

/**
 * Puts an auth client into the tree: starts it on mount (handling the sign-in callback when the
 * page is one), stops it on unmount. Safe under StrictMode's double mount.
 *
 * @example
 * ```tsx
 * const auth = createAuthClient({ issuer, clientId, redirectUri: `${location.origin}/callback` })
 * createRoot(el).render(<AuthProvider client={auth}><App /></AuthProvider>)
 * ```
 */
export function AuthProvider({ client, onRedirectCallback, children }: AuthProviderProps) {
  const onRedirect = useRef(onRedirectCallback)
  onRedirect.current = onRedirectCallback

  useEffect(() => {
    let mounted = true
    const stop = client.start()
    client.ready().then((result) => {
      if (!mounted || !result || delivered.has(client)) return
      delivered.add(client)
      ;(onRedirect.current ?? replaceUrl)(result.returnTo)
    })
    return () => {
      mounted = false
      stop()
    }
  }, [client])

  return <AuthContext.Provider value={client}>{children}</AuthContext.Provider>
}
