import type { StoreApi } from 'zustand/vanilla'
import { AuthError, asAuthError } from './errors.js'
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
import { watchPage } from './page.js'
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
import { forgetSilentRedirect, isSilentFrame, NO_PROVIDER_SESSION, silentSignIn } from './silent.js'
import { customRefresher, oauthRefresher, type TokenJson, tokensFromJson } from './source.js'
import { createTabs, type SharedSession, type Tabs, toShared } from './tabs.js'
import { createTokenHolder, type TokenResponse, type TokenSet } from './tokens.js'

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
   * A request that carries its own `Authorization` header goes out untouched, even with no
   * session.
   *
   * @throws {AuthError} `login_required` (without sending anything) when there is no session or
   *   a sign-out happens while the call waits; the refresh's error when a 401 could not be
   *   cured; else whatever `fetch` throws.
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

let warned = false

/** Says once per page that tabs cannot cooperate here. */
function warnPerTab(): void {
  if (warned) return
  warned = true
  console.info(
    'spa-auth: Web Locks or BroadcastChannel is missing: each tab keeps its own session.',
  )
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
    tabs: () => tabs,
    onRefreshed: (user) => share(user),
  })
  let tabs: Tabs | undefined
  let watchers = 0
  let unwatch: (() => void) | undefined
  const callbacks = new Map<string, Promise<CallbackResult>>()
  let lastCleaned: { href: string; result: Promise<CallbackResult> } | undefined
  let ready: Promise<CallbackResult | undefined> | undefined

  /** Takes a new session: from a grant in this tab (`shared` false) or from a sibling tab. */
  function adopt(response: TokenResponse, user: User | undefined, fromSibling = false): void {
    lifecycle.stop()
    const set = tokens.set(response)
    toAuthenticated(store, { user, expiresAt: set.expiresAt, scope: set.scope })
    lifecycle.schedule()
    if (fromSibling) return
    share(user)
    emitter.emit({ type: 'login', sub: typeof user?.sub === 'string' ? user.sub : undefined })
  }

  function currentSession(): SharedSession | undefined {
    const set = tokens.get()
    return set && toShared(set, store.getState().user, clock.now())
  }

  function share(user: User | undefined): void {
    const session = currentSession()
    if (tabs && session) tabs.publish({ ...session, user })
  }

  /** Signs out this tab only: tokens, timers and refreshes gone; nothing sent anywhere. */
  function forget(): TokenSet | undefined {
    const snapshot = tokens.get()
    lifecycle.stop()
    tokens.clear()
    toUnauthenticated(store)
    return snapshot
  }

  async function completeCallback(url: URL): Promise<CallbackResult> {
    try {
      const session = await exchangeCallback(
        requireOAuth(provider, 'handleCallback()'),
        options,
        url,
      )
      adopt(session.tokens, session.user)
      forgetSilentRedirect(options.storage())
      return { returnTo: session.returnTo }
    } catch (caught) {
      return rejectCallback(caught)
    }
  }

  /** Records a failed callback beside the status it falls back to, and rejects with it. */
  function rejectCallback(caught: unknown): Promise<never> {
    const error = asAuthError(caught, 'invalid_response', 'Callback')
    // `prompt=none` found no session at the provider: signed out, and nothing went wrong.
    const quiet =
      error.code === 'authorization_error' && NO_PROVIDER_SESSION.has(error.oauthError ?? '')
    if (tokens.get()) withError(store, error)
    else toUnauthenticated(store, quiet ? undefined : error)
    if (!quiet) emitter.emit({ type: 'error', error })
    return Promise.reject(error)
  }

  function handleCallback(href?: string): Promise<CallbackResult> {
    let url: URL
    try {
      url = new URL(href ?? globalThis.location?.href ?? '', globalThis.location?.href)
    } catch (cause) {
      return rejectCallback(
        new AuthError('callback_invalid', 'Callback rejected: the URL cannot be parsed', { cause }),
      )
    }

    const state = url.searchParams.get('state')
    const known =
      (state && callbacks.get(state)) || (lastCleaned?.href === url.href && lastCleaned.result)
    if (known) return known
    const result = completeCallback(url)
    if (state) {
      callbacks.set(state, result)
      // A rejected callback is not remembered once settled: the same forged state again must
      // still end the logins that wait in this tab (it makes no token request: no transaction).
      result.catch(() => {
        if (callbacks.get(state) === result) callbacks.delete(state)
      })
    }
    const cleaned = cleanAddressBar(url)
    if (cleaned) lastCleaned = { href: cleaned, result }
    return result
  }

  function stopWatching(): void {
    unwatch?.()
    unwatch = undefined
    // StrictMode stops and starts again at once: keep the channel (and the questions it has
    // asked) unless nobody starts again before the next task.
    queueMicrotask(() => {
      if (watchers > 0) return
      tabs?.close()
      tabs = undefined
    })
  }

  function connectTabs(): Tabs | undefined {
    const name = `spa-auth:${options.oauth ? `${options.oauth.issuer.href}|${options.oauth.clientId}` : 'custom'}`
    const created = createTabs(name, {
      current: currentSession,
      adopt: (session) => adopt(session.tokens, session.user, true),
      signOut: () => {
        if (!tokens.get()) return
        forget()
        emitter.emit({ type: 'logout', revoked: false })
      },
    })
    if (created.shared) return created
    created.close()
    warnPerTab()
    return undefined
  }

  /**
   * The first status of a page: the callback when it is one; else the session of another tab;
   * else the provider's session, silently; else signed out.
   */
  async function restore(): Promise<CallbackResult | undefined> {
    // A silent sign-in frame: the parent reads its URL and handles the callback.
    if (isSilentFrame()) return undefined
    const href = globalThis.location?.href
    if (provider && href && isCallbackUrl(new URL(href), provider.config.redirectUri)) {
      return handleCallback(href).catch(() => undefined)
    }
    if (!tokens.get() && tabs) await tabs.ask(options.restore.siblingWait)
    if (!tokens.get() && provider) {
      const session = await silentSignIn(provider, options).catch(() => undefined)
      if (session) adopt(session.tokens, session.user)
    }
    if (store.getState().status === 'loading') toUnauthenticated(store)
    return undefined
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
      adopt(tokensFromJson(json, 'setTokens()'), user)
    },
    async logout({ returnTo, localOnly = false, idTokenHint = false } = {}) {
      const snapshot = forget()
      tabs?.publishLogout()
      forgetSilentRedirect(options.storage())
      const revoked =
        !localOnly && provider && snapshot ? await revokeTokens(provider, snapshot) : false
      emitter.emit({ type: 'logout', revoked })
      if (localOnly || !provider) return
      const after = returnTo
        ? new URL(returnTo, globalThis.location?.href).href
        : options.postLogoutRedirectUri
      const url = await endSessionUrl(provider, idTokenHint ? snapshot?.idToken : undefined, after)
      if (url) options.navigate(url)
    },
    ready() {
      ready ??= restore()
      return ready
    },
    start() {
      watchers += 1
      if (watchers === 1) {
        unwatch = watchPage(lifecycle.check)
        if (options.crossTab) tabs ??= connectTabs()
      }
      client.ready()
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        watchers -= 1
        if (watchers === 0) stopWatching()
      }
    },
    dispose() {
      watchers = 0
      stopWatching()
      tabs?.close()
      tabs = undefined
      lifecycle.stop()
    },
  }
  return Object.assign(client, { toJSON: () => store.getState() })
}
