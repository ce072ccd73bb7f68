import type { MockProvider } from './provider.js'

/** What {@link mockBrowser} needs of an auth client (`AuthClient` of `@spa-auth/core`). */
export interface SignInClient {
  login(options?: { returnTo?: string }): Promise<void>
  handleCallback(): Promise<unknown>
}

/**
 * A browser for component tests (Vitest with jsdom, Node), where nothing navigates: give its
 * `navigate` to `createAuthClient`, and `signIn()` plays the sign-in redirects in place, through
 * the mock provider's handlers (which the test's MSW server must serve).
 *
 * @example
 * ```ts
 * const browser = mockBrowser(idp)
 * const auth = createAuthClient({ ...options, navigate: browser.navigate })
 * await browser.signIn(auth, { user: 'bob' })
 * ```
 */
export function mockBrowser(provider: MockProvider) {
  const visited: string[] = []
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
    async signIn(client: SignInClient, options: { user?: string; returnTo?: string } = {}) {
      await client.login(options.returnTo ? { returnTo: options.returnTo } : {})
      const url = visited.at(-1)
      if (!url?.startsWith(`${provider.metadata.authorization_endpoint}?`)) {
        throw new Error(
          'mockBrowser: login() did not go to the mock provider; create the client with this navigate and the provider issuer',
        )
      }
      const callback = await provider.authorize(url, options.user ? { sub: options.user } : {})
      history.replaceState(history.state, '', callback)
      return client.handleCallback()
    },
  }
}
