import type { StoreApi } from 'zustand/vanilla'
import { abortable } from '../clock.js'
import { AuthError } from '../errors.js'
import { type AuthEventListener, createEmitter } from '../events.js'
import type { TokenJson } from '../token-json.js'
import type { AuthState, User } from '../types.js'
import { createAuthFetch } from './fetch.js'
import type { Flows } from './flows.js'
import { createLine } from './line.js'
import { type AuthClientOptions, resolveOptions } from './options.js'
import { watchPage } from './page.js'
import { createSessionStore, toSnapshot, toUnauthenticated } from './session.js'
/** Options of `auth.login()`. */
export interface LoginOptions {
  /**
   * Where the app should go after the callback, on this page's origin (`/orders`); handed back,
   * as a path, by `handleCallback()`.
   */
  returnTo?: string
  /** OpenID `prompt`: `login`, `consent`, `select_account`, `none`. */
  prompt?: string
  /** A hint of who signs in (an email, a username). */
  loginHint?: string
  /** Authentication context classes, space-separated. */
  acrValues?: string
  /** Seconds since the user's last authentication beyond which the provider must ask again. */
  maxAge?: number
  /** Preferred languages of the provider's pages, space-separated BCP 47 tags. */
  uiLocales?: string
  /** Any other authorization request parameters. They cannot override the ones spa-auth sets. */
  extraParams?: Record<string, string>
}

/** Options of `auth.logout()`. */
export interface LogoutOptions {
  /** Where the provider should send the user afterwards (resolved against the page). */
  returnTo?: string
  /** Forget the session without a request or a visit to the provider (every tab's, with a shared token worker). */
  localOnly?: boolean
  /**
   * Send the ID token as `id_token_hint` to the end-session endpoint, for providers that insist
   * on it. Off by default: it puts a token in a URL, and so in the browser's history.
   */
  idTokenHint?: boolean
}

/** What `handleCallback()` resolves to. */
export interface CallbackResult {
  /** The `returnTo` given to `login()`, as a path of this origin, when one was. */
  returnTo: string | undefined
}

/** The public state as a read-only store (what `@spa-auth/react` subscribes to). */
export type AuthStore = Pick<StoreApi<AuthState>, 'getState' | 'getInitialState' | 'subscribe'>

/**
 * A signed-in session for a single-page app. Create one per app, outside any component.
 */
export interface AuthClient {
  /**
   * Sends the browser to the provider's sign-in page (authorization code + PKCE). Does nothing
   * while a sign-out is under way: the sign-out wins.
   *
   * @throws {AuthError} `invalid_options` (a `returnTo` off this origin, a token source),
   *   `discovery_failed`, `configuration`.
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
   * A valid access token, refreshed first when it is about to expire. Called while the session
   * is still loading, it waits for {@link AuthClient.ready}. For requests `auth.fetch` cannot
   * make (a WebSocket, an EventSource); prefer `auth.fetch`.
   *
   * @throws {AuthError} `login_required`, `session_expired`, `network`, `timeout`.
   */
  getAccessToken(options?: { signal?: AbortSignal }): Promise<string>
  /**
   * `fetch`, with the access token attached for the `apiOrigins` only. It refreshes first when
   * the token is due, and after a 401 refreshes once and replays the request once. Requests to
   * other origins go out untouched. Called while the session is still loading, it waits for
   * {@link AuthClient.ready}.
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
   * Signs out: forgets the tokens (in every tab), revokes the refresh token at the provider
   * (RFC 7009), then ends the provider's session when it offers RP-initiated logout. Never
   * rejects for a failed revocation.
   */
  logout(options?: LogoutOptions): Promise<void>
  /**
   * Starts a session from tokens your backend gave (with a custom `tokenSource`).
   *
   * @throws {AuthError} `invalid_response` when `tokens` has no access token; `invalid_options`
   *   without a `tokenSource` (an OAuth provider's tokens come from the provider only).
   */
  setTokens(tokens: TokenJson, user?: User): void
  /**
   * Settles the first status: handles the callback when the page is one, else takes the token
   * worker's session, else tries the provider's silently (when `restore.silent` allows), else
   * signed out. Idempotent: every call returns the same promise.
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
  const { clock, engine: config } = options
  const store = createSessionStore()
  const emitter = createEmitter()
  const line = createLine(options, store, emitter)
  // On its way to the provider (a sign-out, a silent redirect): no login starts meanwhile.
  const leaving = { now: false }
  let flowsLoaded: Promise<Flows> | undefined
  let adopting: Promise<unknown> | undefined
  let ready: Promise<CallbackResult | undefined> | undefined
  let watchers = 0
  let unwatch: (() => void) | undefined

  function requireOAuth(what: string): void {
    if (!config) {
      throw new AuthError(
        'invalid_options',
        `${what} needs \`issuer\`, \`clientId\` and \`redirectUri\``,
      )
    }
  }

  /** The sign-in flows, loaded when one first runs. */
  function flows(): Promise<Flows> {
    flowsLoaded ??= import('./flows.js').then(({ createFlows }) =>
      createFlows({ options, emitter, line, leaving }),
    )
    return flowsLoaded
  }

  /** A valid token, once the first status has settled and tokens given by the app are taken. */
  async function token(signal?: AbortSignal) {
    if (store.getState().status === 'loading') await abortable(client.ready(), signal)
    if (adopting) await abortable(adopting, signal)
    return line.token(signal)
  }

  /**
   * The first status of a page: the callback when it is one; else the token worker's session;
   * else the provider's, silently; else signed out.
   */
  async function restore(): Promise<CallbackResult | undefined> {
    // A silent sign-in frame: the parent reads its URL and handles the callback.
    const { top, self, window } = globalThis
    if (window?.name === options.restore.frameName && top !== self) return undefined
    await line.link().catch(() => undefined)
    const href = globalThis.location?.href
    const callback = href !== undefined && options.isCallback(new URL(href))
    let result: CallbackResult | undefined
    if (config && (callback || !line.current())) {
      result = await (await flows())
        .restore(href)
        .then((r) => r as CallbackResult | undefined)
        .catch(() => undefined)
    }
    if (store.getState().status === 'loading') toUnauthenticated(store)
    return result
  }

  const client: AuthClient = {
    store,
    fetch: createAuthFetch({
      transport: options.fetch,
      apiOrigins: options.apiOrigins,
      current: line.current,
      token,
      rejected: line.rejected,
      emitter,
    }),
    async login(login = {}) {
      requireOAuth('login()')
      // A sign-out is on its way to the provider: starting a login now would undo it.
      if (!leaving.now) await (await flows()).login(login)
    },
    async handleCallback(href) {
      requireOAuth('handleCallback()')
      return (await flows()).handleCallback(href)
    },
    async getAccessToken(opts) {
      await token(opts?.signal)
      const now = line.current()?.accessToken
      if (!now) throw new AuthError('login_required', 'Signed out while waiting')
      return now
    },
    getState: store.getState,
    subscribe: (listener) => store.subscribe(listener),
    on: emitter.on,
    setTokens(json, user) {
      if (!options.tokenSource) {
        throw new AuthError('invalid_options', 'setTokens() is for a custom `tokenSource`')
      }
      // Said at once, as the engine will say it once it has read the tokens.
      const { access_token: accessToken, expires_in: lifetime, scope } = json ?? {}
      if (typeof accessToken !== 'string' || !accessToken) {
        throw new AuthError('invalid_response', 'setTokens(): the answer has no access_token')
      }
      const at = clock.now()
      const seconds = Number(lifetime)
      toSnapshot(store, {
        status: 'authenticated',
        generation: 0,
        ...(lifetime !== undefined && seconds >= 0 ? { expiresAt: at + seconds * 1000 } : {}),
        ...(typeof scope === 'string' ? { scope } : {}),
        ...(user ? { user } : {}),
      })
      const adopted = line.adopt(json, user, at)
      adopting = adopted.finally(() => {
        if (adopting === adopted) adopting = undefined
      })
    },
    async logout(logout = {}) {
      leaving.now = !logout.localOnly && Boolean(config)
      // This page first and at once; then every other, and the provider.
      line.forget()
      line.announceLogout()
      try {
        // On its way to the provider's end-session: nothing may navigate it elsewhere any more.
        leaving.now = await (await flows()).logout(logout)
      } catch (error) {
        leaving.now = false
        throw error
      }
    },
    ready() {
      ready ??= restore()
      return ready
    },
    start() {
      watchers += 1
      if (watchers === 1) {
        unwatch = watchPage(() => {
          if (line.current()) line.request({ type: 'check' }).catch(() => {})
        })
      }
      client.ready()
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        watchers -= 1
        if (watchers === 0) {
          unwatch?.()
          unwatch = undefined
        }
      }
    },
    dispose() {
      watchers = 0
      unwatch?.()
      unwatch = undefined
      line.close()
    },
  }
  return Object.assign(client, { toJSON: () => store.getState() })
}
