import type { StoreApi } from 'zustand/vanilla'
import { AuthError } from './errors.js'
import { type AuthEventListener, createEmitter } from './events.js'
import { createAuthFetch } from './fetch.js'
import {
  authorizationUrl,
  type CallbackResult,
  cleanAddressBar,
  exchangeCallback,
  isCallbackUrl,
  type LoginOptions,
} from './login.js'
import { endSessionUrl, type LogoutOptions, revokeTokens } from './logout.js'
import { type AuthClientOptions, resolveOptions } from './options.js'
import { createProvider, type Provider } from './provider.js'
import { createLifecycle } from './refresh.js'
import {
  type AuthState,
  createSessionStore,
  toAuthenticated,
  toUnauthenticated,
  type User,
  withError,
} from './session.js'
import { customRefresher, oauthRefresher, type TokenJson, tokensFromJson } from './source.js'
import { createTokenHolder } from './tokens.js'

/** The public state as a read-only store (what `@spa-auth/react` subscribes to). */
export type AuthStore = Pick<StoreApi<AuthState>, 'getState' | 'getInitialState' | 'subscribe'>

/**
 * A signed-in session for a single-page app. Create one per app, outside any component.
 */
export interface AuthClient {
  /**
   * Sends the browser to the provider's sign-in page (authorization code + PKCE).
   *
   * @throws {AuthError} `discovery_failed`, `configuration`, `invalid_options` (a token source).
   */
  login(options?: LoginOptions): Promise<void>
  /**
   * Finishes the sign-in on the redirect page: checks the response, exchanges the code once, and
   * removes `code` and `state` from the address bar whatever the outcome.
   *
   * @param url The callback URL; default `location.href`.
   * @throws {AuthError} `callback_invalid`, `issuer_mismatch`, `authorization_error`,
   *   `token_error`, `invalid_response`, `network`, `timeout`.
   */
  handleCallback(url?: string): Promise<CallbackResult>
  /**
   * A valid access token, refreshed first when it is about to expire. For headers of requests
   * `auth.fetch` cannot make; prefer `auth.fetch`.
   *
   * @throws {AuthError} `login_required`, `session_expired`, `network`, `timeout`.
   */
  getAccessToken(options?: { signal?: AbortSignal }): Promise<string>
  /**
   * `fetch`, with the access token attached for the `apiOrigins` only. It refreshes first when
   * the token is due, and after a 401 refreshes once and replays the request once. Requests to
   * other origins go out untouched.
   *
   * @throws {AuthError} `login_required` (without sending anything) when there is no session,
   *   or the refresh's error when a 401 could not be cured; else whatever `fetch` throws.
   */
  fetch: typeof fetch
  /** The public state: status, user, expiry, last error. Never a token. */
  getState(): AuthState
  /** Calls `listener` on every change of the public state. Returns the unsubscribe. */
  subscribe(listener: (state: AuthState, previous: AuthState) => void): () => void
  /** The public state as a store, for bindings such as `@spa-auth/react`. */
  readonly store: AuthStore
  /** Calls `listener` on every lifecycle event (no event carries a token). Returns the unsubscribe. */
  on(listener: AuthEventListener): () => void
  /**
   * Signs out: forgets the tokens, revokes them at the provider (RFC 7009), then ends the
   * provider's session when it offers RP-initiated logout. Never rejects for a failed revocation.
   */
  logout(options?: LogoutOptions): Promise<void>
  /**
   * Starts a session from tokens your backend gave (with a custom `tokenSource`).
   *
   * @throws {AuthError} `invalid_response` when `tokens` has no access token.
   */
  setTokens(tokens: TokenJson, user?: User): void
  /**
   * Settles the first status: handles the callback when the page is one, else signed out.
   * Idempotent: every call returns the same promise.
   */
  ready(): Promise<CallbackResult | undefined>
  /**
   * Watches the page (focus, visibility, network, bfcache) to refresh on wake, and settles the
   * first status. Returns the stop; call both any number of times.
   */
  start(): () => void
  /** Stops every timer, listener and refresh in flight. The client keeps its state. */
  dispose(): void
}

function requireOAuth(provider: Provider | undefined, what: string): Provider {
  if (!provider) {
    throw new AuthError(
      'invalid_options',
      `${what} needs \`issuer\`, \`clientId\` and \`redirectUri\``,
    )
  }
  return provider
}

/**
 * Creates the auth client.
 *
 * @throws {AuthError} `invalid_options`, naming the option to fix.
 * @example
 * ```ts
 * const auth = createAuthClient({
 *   issuer: 'https://idp.example.com',
 *   clientId: 'my-spa',
 *   redirectUri: `${location.origin}/callback`,
 *   apiOrigins: ['https://api.example.com'],
 * })
 * ```
 */
export function createAuthClient(input: AuthClientOptions): AuthClient {
  const options = resolveOptions(input)
  const { clock } = options
  const store = createSessionStore()
  const emitter = createEmitter()
  const tokens = createTokenHolder(clock)
  const provider = options.oauth ? createProvider(options) : undefined
  const lifecycle = createLifecycle({
    tokens,
    store,
    emitter,
    clock,
    refresher: options.tokenSource
      ? customRefresher(options.tokenSource)
      : oauthRefresher(provider!, () => store.getState().user),
    leeway: options.refreshLeeway,
    timeout: options.requestTimeout,
  })
  const callbacks = new Map<string, Promise<CallbackResult>>()
  let lastCleaned: { href: string; result: Promise<CallbackResult> } | undefined
  let ready: Promise<CallbackResult | undefined> | undefined
  const stops = new Set<() => void>()

  function signIn(response: Parameters<typeof tokens.set>[0], user: User | undefined): void {
    lifecycle.stop()
    const set = tokens.set(response)
    toAuthenticated(store, { user, expiresAt: set.expiresAt, scope: set.scope })
    lifecycle.schedule()
    emitter.emit({ type: 'login', sub: typeof user?.sub === 'string' ? user.sub : undefined })
  }

  async function completeCallback(url: URL): Promise<CallbackResult> {
    try {
      const session = await exchangeCallback(
        requireOAuth(provider, 'handleCallback()'),
        options,
        url,
      )
      signIn(session.tokens, session.user)
      return { returnTo: session.returnTo }
    } catch (caught) {
      const error =
        caught instanceof AuthError
          ? caught
          : new AuthError('invalid_response', `Callback failed: ${String(caught)}`, {
              cause: caught,
            })
      if (tokens.get()) withError(store, error)
      else toUnauthenticated(store, error)
      emitter.emit({ type: 'error', error })
      throw error
    }
  }

  function handleCallback(href?: string): Promise<CallbackResult> {
    const url = new URL(href ?? globalThis.location?.href ?? '', globalThis.location?.href)
    const state = url.searchParams.get('state')
    const known =
      (state && callbacks.get(state)) || (lastCleaned?.href === url.href && lastCleaned.result)
    if (known) return known
    const result = completeCallback(url)
    if (state) callbacks.set(state, result)
    const cleaned = cleanAddressBar(url)
    if (cleaned) lastCleaned = { href: cleaned, result }
    return result
  }

  function watchPage(): () => void {
    const target = globalThis.window
    if (!target?.addEventListener) return () => {}
    const wake = () => {
      if (globalThis.document?.visibilityState !== 'hidden') lifecycle.check()
    }
    const events = ['focus', 'online', 'pageshow'] as const
    for (const type of events) target.addEventListener(type, wake)
    globalThis.document?.addEventListener('visibilitychange', wake)
    return () => {
      for (const type of events) target.removeEventListener(type, wake)
      globalThis.document?.removeEventListener('visibilitychange', wake)
    }
  }

  const client: AuthClient = {
    store,
    fetch: createAuthFetch({
      transport: options.fetch,
      apiOrigins: options.apiOrigins,
      tokens,
      lifecycle,
      emitter,
    }),
    async login(login = {}) {
      const url = await authorizationUrl(requireOAuth(provider, 'login()'), options, login)
      options.navigate(url)
    },
    handleCallback,
    getAccessToken: (opts) => lifecycle.getAccessToken(opts?.signal),
    getState: store.getState,
    subscribe: (listener) => store.subscribe(listener),
    on: emitter.on,
    setTokens(json, user) {
      signIn(tokensFromJson(json, 'setTokens()'), user)
    },
    async logout({ returnTo, localOnly = false } = {}) {
      const snapshot = tokens.get()
      lifecycle.stop()
      tokens.clear()
      toUnauthenticated(store)
      const revoked =
        !localOnly && provider && snapshot ? await revokeTokens(provider, snapshot) : false
      emitter.emit({ type: 'logout', revoked })
      if (localOnly || !provider) return
      const after = returnTo
        ? new URL(returnTo, globalThis.location?.href).href
        : options.postLogoutRedirectUri
      const url = await endSessionUrl(provider, snapshot?.idToken, after)
      if (url) options.navigate(url)
    },
    ready() {
      ready ??= (async () => {
        const href = globalThis.location?.href
        if (provider && href && isCallbackUrl(new URL(href), provider.config.redirectUri)) {
          return handleCallback(href).catch(() => undefined)
        }
        if (store.getState().status === 'loading') toUnauthenticated(store)
        return undefined
      })()
      return ready
    },
    start() {
      const unwatch = watchPage()
      const stop = () => {
        unwatch()
        stops.delete(stop)
      }
      stops.add(stop)
      client.ready()
      return stop
    },
    dispose() {
      for (const stop of [...stops]) stop()
      lifecycle.stop()
    },
  }
  return Object.assign(client, { toJSON: () => store.getState() })
}
