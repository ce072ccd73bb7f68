import type { MockProvider } from './provider.js'

/** What {@link mockBrowser} needs of an auth client (`AuthClient` of `@spa-auth/core`). */
export interface SignInClient {
  login(options?: { returnTo?: string; acrValues?: string; maxAge?: number }): Promise<void>
  handleCallback(): Promise<unknown>
}

/** How the person at the mock provider's sign-in page answers. */
export interface MockUserOptions {
  /** Who signs in. Default: the provider's session's user, else its first user. */
  user?: string
  /** Passes the second factor when the app asks for one (`MOCK_MFA_ACR`). Default: true. */
  mfa?: boolean
}

/** Options of `signIn()`: the person's answer, and what `login()` is given. */
export interface MockSignInOptions extends MockUserOptions {
  returnTo?: string
  /** `acr_values` of the sign-in: `MOCK_MFA_ACR` for a second factor. */
  acrValues?: string
  /** `max_age` of the sign-in, in seconds. */
  maxAge?: number
}

/**
 * A browser for component tests (Vitest with jsdom, Node), where nothing navigates: give its
 * `navigate` to `createAuthClient`, and `signIn()` plays the sign-in redirects in place, through
 * the mock provider's handlers (which the test's MSW server must serve). The authorization
 * request reaches the provider whole (`acr_values`, `max_age`, `dpop_jkt`, …).
 *
 * @example
 * ```ts
 * const browser = mockBrowser(idp)
 * const auth = createAuthClient({ ...options, navigate: browser.navigate })
 * await browser.signIn(auth, { user: 'bob' })
 * await browser.signIn(auth, { acrValues: MOCK_MFA_ACR }) // a step-up; the second factor passes
 * ```
 */
export function mockBrowser(provider: MockProvider) {
  const visited: string[] = []

  /** Answers the client's last navigation to the provider, then handles the callback. */
  async function completeSignIn(client: SignInClient, { user, mfa = true }: MockUserOptions = {}) {
    const url = visited.at(-1)
    if (!url?.startsWith(`${provider.metadata.authorization_endpoint}?`)) {
      throw new Error(
        'mockBrowser: the client did not go to the mock provider; create the client with this navigate and the provider issuer',
      )
    }
    const callback = await provider.authorize(url, { ...(user ? { sub: user } : {}), mfa })
    history.replaceState(history.state, '', callback)
    return client.handleCallback()
  }

  return {
    /** The client's `navigate` option: notes where the client went. */
    navigate(url: string): void {
      visited.push(url)
    },
    /** Every address the client navigated to, in order. */
    visited,
    /**
     * Signs `user` in (default: the provider's first user): `login()`, the provider's answer, and
     * the callback, handled. Resolves with what `handleCallback()` resolves with.
     */
    async signIn(client: SignInClient, options: MockSignInOptions = {}) {
      const { returnTo, acrValues, maxAge } = options
      await client.login({
        ...(returnTo ? { returnTo } : {}),
        ...(acrValues ? { acrValues } : {}),
        ...(maxAge !== undefined ? { maxAge } : {}),
      })
      return completeSignIn(client, options)
    },
    /**
     * Completes a sign-in the client started itself (a step-up after the API asked for a second
     * factor, say): the provider's answer to its last navigation, and the callback.
     */
    completeSignIn,
  }
}
