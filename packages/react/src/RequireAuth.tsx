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
  /**
   * Shown once the user signed out (in this tab or another), instead of sending them straight
   * back to the provider. Default: "You signed out." and a button to sign in again.
   */
  signedOut?: ReactNode
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

function SignedOut({ onSignIn }: { onSignIn: () => void }) {
  return (
    <p role="status">
      You signed out.{' '}
      <button type="button" onClick={onSignIn}>
        Sign in again
      </button>
    </p>
  )
}

/**
 * Renders its children for a signed-in user. A user who is not signed in is sent to sign in,
 * once; so is one whose session ended (the provider no longer takes the refresh token). A failed
 * sign-in renders the error, never another redirect; a sign-out renders `signedOut`, never a
 * sign-in the user did not ask for.
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
  signedOut,
  loginOptions,
}: RequireAuthProps) {
  const client = useAuthClient()
  const { status, error } = useAuth()
  const wasSignedOut = useAuth((s) => s.signedOut === true)
  const redirected = useRef(false)
  const [loginError, setLoginError] = useState<AuthError>()
  const ended = error?.code === 'session_expired'
  const unauthenticated = status === 'unauthenticated'
  const wantsLogin = unauthenticated && !wasSignedOut && (!error || ended)

  /** A sign-in that comes back here; its failure is shown, never thrown. */
  const startLogin = () => {
    const returnTo = currentUrl()
    client
      .login({ ...(returnTo ? { returnTo } : {}), ...loginOptions })
      .catch((failure: AuthError) => setLoginError(failure))
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: startLogin reads only these
  useEffect(() => {
    if (status === 'authenticated') redirected.current = false
    if (!wantsLogin || redirected.current) return
    redirected.current = true
    startLogin()
  }, [client, status, wantsLogin, loginOptions])

  if (status === 'authenticated') return <>{children}</>
  if (loginError) return <>{onError(loginError)}</>
  if (unauthenticated && wasSignedOut)
    return <>{signedOut ?? <SignedOut onSignIn={startLogin} />}</>
  if (unauthenticated && error && !ended) return <>{onError(error)}</>
  return <>{fallback}</>
}
