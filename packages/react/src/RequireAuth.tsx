import type { AuthError, LoginOptions } from '@spa-auth/core'
import { type ReactNode, useEffect, useRef, useState } from 'react'
import { useAuthClient } from './context.js'
import { useAuth } from './useAuth.js'

/** Props of {@link RequireAuth}. */
export interface RequireAuthProps {
  children?: ReactNode
  /** Shown while the session is loading or the sign-in redirect is on its way. */
  fallback?: ReactNode
  /** Shown instead of another redirect when signing in failed. Default: the error's message. */
  onError?: (error: AuthError) => ReactNode
  /** Options of the `login()` it starts; `returnTo` defaults to the current URL. */
  loginOptions?: LoginOptions
}

function defaultError(error: AuthError): ReactNode {
  return <p role="alert">Sign-in failed: {error.description ?? error.message}</p>
}

function currentUrl(): string | undefined {
  const location = globalThis.location
  return location ? location.pathname + location.search + location.hash : undefined
}

/**
 * Renders its children for a signed-in user. A signed-out user is sent to sign in, once: after a
 * failed sign-in it renders the error, never another redirect.
 *
 * @example
 * ```tsx
 * <RequireAuth fallback={<Spinner />}><Orders /></RequireAuth>
 * ```
 */
export function RequireAuth({
  children,
  fallback = null,
  onError = defaultError,
  loginOptions,
}: RequireAuthProps) {
  const client = useAuthClient()
  const { status, error } = useAuth()
  const redirected = useRef(false)
  const [loginError, setLoginError] = useState<AuthError>()

  useEffect(() => {
    if (status === 'authenticated') redirected.current = false
    if (status !== 'unauthenticated' || error || redirected.current) return
    redirected.current = true
    const returnTo = currentUrl()
    client
      .login({ ...(returnTo ? { returnTo } : {}), ...loginOptions })
      .catch((failure: AuthError) => setLoginError(failure))
  }, [client, status, error, loginOptions])

  if (status === 'authenticated') return <>{children}</>
  const failure = loginError ?? (status === 'unauthenticated' ? error : undefined)
  return <>{failure ? onError(failure) : fallback}</>
}
