import type { AuthClient, AuthError, StepUpChallenge } from '@spa-auth/core'
import { useCallback, useState } from 'react'
import { useAuthClient } from './context.js'

/** What {@link useStepUp} returns. */
export interface UseStepUpResult {
  /** What the API asked for, once a call met a step-up challenge; undefined before. */
  challenge: StepUpChallenge | undefined
  /**
   * Runs `call` (an `auth.fetch`, or anything that makes one). When the API asks for a stronger
   * sign-in, `challenge` is set and `run` resolves to undefined instead of rejecting; any other
   * failure rejects as it would.
   */
  run<T>(call: () => Promise<T>): Promise<T | undefined>
  /**
   * Signs the user in again as the API asked, coming back to this page (its path and query)
   * unless `returnTo` says otherwise, and forgets the challenge. Does nothing without one.
   */
  confirm(options?: Parameters<AuthClient['stepUp']>[1]): Promise<void>
  /** Forgets the challenge (the user declined). */
  dismiss(): void
}

/**
 * Step-up (RFC 9470) for components: render "confirm it's you" when an API asks for a stronger
 * sign-in, and continue where the user was once they did.
 *
 * @example
 * ```tsx
 * const { challenge, run, confirm, dismiss } = useStepUp()
 * const transfer = () => run(() => authFetch('/api/transfer', { method: 'POST' }))
 * return challenge ? (
 *   <p>This needs a second factor. <button onClick={() => confirm()}>Confirm it's you</button>
 *      <button onClick={dismiss}>Cancel</button></p>
 * ) : <button onClick={transfer}>Transfer</button>
 * ```
 * @throws {Error} outside an `<AuthProvider>`.
 */
export function useStepUp(): UseStepUpResult {
  const client = useAuthClient()
  const [challenge, setChallenge] = useState<StepUpChallenge>()
  const run = useCallback(async <T>(call: () => Promise<T>) => {
    try {
      return await call()
    } catch (error) {
      // Told by its code: nothing of the core is imported at run time, so that a page loads only
      // the entry it chose (`@spa-auth/core` or `@spa-auth/core/bff`).
      const failure = error as Partial<AuthError> | null
      if (failure?.code !== 'step_up_required') throw error
      setChallenge(failure.challenge ?? {})
      return undefined
    }
  }, [])
  const confirm = useCallback(
    async (options?: Parameters<AuthClient['stepUp']>[1]) => {
      if (!challenge) return
      const { pathname, search } = globalThis.location
      await client.stepUp(challenge, { returnTo: pathname + search, ...options })
      // Handed over to the sign-in: the challenge is answered, or the page is leaving.
      setChallenge(undefined)
    },
    [client, challenge],
  )
  const dismiss = useCallback(() => setChallenge(undefined), [])
  return { challenge, run, confirm, dismiss }
}
