import * as React from 'react'
import { useAuthClient } from './context.js'
import { type UseAuthResult, useAuth } from './useAuth.js'

/** What {@link useAuthSuspense} returns: the session once it is known. */
export type UseAuthSuspenseResult = UseAuthResult & {
  status: 'authenticated' | 'unauthenticated'
  isLoading: false
}

// React 19's `use`; React 18 suspends on a thrown promise instead.
const use = (React as { use?: <T>(promise: Promise<T>) => T }).use

/** Thrown on the server, where the session cannot be known: the boundary's fallback is sent. */
class ClientOnly extends Error {
  override name = 'AuthSuspense'
  /** The digest React sends to the browser in place of the message. */
  readonly digest = 'spa-auth:client-only'
  constructor() {
    super('spa-auth: the session is known in the browser only; the <Suspense> fallback is rendered')
  }
}

/**
 * The session for components under a `<Suspense>` boundary: suspends while it is being restored
 * (the callback, the token worker, a silent sign-in), then returns what {@link useAuth} returns,
 * signed in or not, never `loading`. Every suspended component waits on the same `auth.ready()`.
 * On the server the session is unknown: the boundary's fallback is rendered there, and the
 * browser renders the rest (React's way for content that is rendered on the client only).
 *
 * @example
 * ```tsx
 * function Greeting() {
 *   const { user, isAuthenticated } = useAuthSuspense()
 *   return isAuthenticated ? <p>Hello {user?.name}</p> : <SignIn />
 * }
 * <Suspense fallback={<Spinner />}><Greeting /></Suspense>
 * ```
 * @throws {Error} outside an `<AuthProvider>`.
 */
export function useAuthSuspense(): UseAuthSuspenseResult {
  const client = useAuthClient()
  const auth = useAuth()
  if (auth.status === 'loading') {
    if (typeof window === 'undefined') throw new ClientOnly()
    const ready = client.ready()
    if (use) use(ready)
    else throw ready
  }
  return auth as UseAuthSuspenseResult
}
