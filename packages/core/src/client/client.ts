import type { StoreApi } from 'zustand/vanilla'
import { abortable } from '../clock.js'
import { AuthError, type StepUpChallenge } from '../errors.js'
import { type AuthEventListener, createEmitter } from '../events.js'
import type { Snapshot } from '../protocol.js'
import type { TokenJson } from '../token-json.js'
import type {
  AuthState,
  CallbackResult,
  LoginOptions,
  LogoutOptions,
  PopupOptions,
  User,
} from '../types.js'
import { createAuthFetch, type Sign } from './fetch.js'
import type { Flows } from './flows.js'
import { createLine, type Line } from './line.js'
import { type AuthClientOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { watchPage } from './page.js'
import { openPopup } from './popup-open.js'
import { createSessionStore, type SessionStore, toSnapshot, toUnauthenticated } from './session.js'
/** Options of `auth.stepUp()`: a login's, and `popup` to sign in again in a popup. */
export type StepUpOptions = Omit<LoginOptions, 'acrValues' | 'maxAge'> & {
  popup?: boolean | PopupOptions
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
   * @throws {AuthError} `invalid_options` (a `returnTo` off this origin, a token source, a
   *   parameter too long, a `maxAge` that is not whole seconds), `discovery_failed`,
   *   `configuration`.
   */
  login(options?: LoginOptions): Promise<void>
  /**
   * Signs the user in again as an API asked (step-up, RFC 9470): with the `acr_values` and
   * `max_age` of a `step_up_required` error's `challenge`. The new tokens replace the old ones
   * for every caller.
   *
   * @example
   * ```ts
   * try { await auth.fetch('/api/transfer', { method: 'POST' }) } catch (e) {
   *   if (isAuthError(e, 'step_up_required')) await auth.stepUp(e.challenge!, { returnTo: '/transfer' })
   * }
   * ```
   * @throws {AuthError} as {@link AuthClient.login}.
   * @see https://www.rfc-editor.org/rfc/rfc9470#section-4
   */
  stepUp(challenge: StepUpChallenge, options?: StepUpOptions): Promise<void>
  /**
   * Signs in without leaving the page: a popup goes to the provider and back to the redirect URI,
   * whose page hands the answer to this one and closes. Resolves once the session is there (in
   * every tab); this page's URL and history are untouched. Call it in the click handler itself,
   * before any `await`: browsers open popups only during a user gesture.
   *
   * @throws {AuthError} `popup_blocked`, `popup_closed`, `timeout`, and what
   *   {@link AuthClient.handleCallback} throws.
   */
  loginWithPopup(options?: Omit<LoginOptions, 'returnTo'> & { popup?: PopupOptions }): Promise<void>
  /**
   * Finishes the sign-in on the redirect page: checks the response, exchanges the code once, and
   * removes `code` and `state` from the address bar whatever the outcome.
   *
   * @param url The callback URL; default `location.href`.
   * @throws {AuthError} `callback_invalid`, `issuer_mismatch`, `authorization_error`,
   *   `token_error`, `invalid_response`, `network`, `timeout`; `login_required` when a sign-out
   *   came while the code was exchanged (the sign-out stands).
   */
  handleCallback(url?: string): Promise<CallbackResult>
  /**
   * A valid access token, refreshed first when it is about to expire. Called while the session
   * is still loading, it waits for {@link AuthClient.ready}. For requests `auth.fetch` cannot
   * make (a WebSocket, an EventSource); prefer `auth.fetch`.
   *
   * With `api`, the token of that API of the `apis` option.
   *
   * @throws {AuthError} `login_required`, `session_expired`, `network`, `timeout`;
   *   `invalid_options` for an `api` the client does not have; `configuration` when the provider
   *   gave that API a token for another audience.
   */
  getAccessToken(options?: { signal?: AbortSignal; api?: string }): Promise<string>
  /**
   * `fetch`, with the access token attached for the `apiOrigins` only (an API of `apis` gets its
   * own token, at its URL only). It refreshes first when
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
   *
   * @throws {AuthError} `invalid_options` for an `idTokenHint` here: it is a client option.
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

function requireOAuth(options: ResolvedOptions, what: string): void {
  if (!options.engine) {
    throw new AuthError(
      'invalid_options',
      `${what} needs \`issuer\`, \`clientId\` and \`redirectUri\``,
    )
  }
}

/**
 * The first status of a page: the callback when it is one; else the token worker's session;
 * else the provider's, silently; else signed out.
 */
async function restore(
  options: ResolvedOptions,
  store: SessionStore,
  line: Line,
  flows: () => Promise<Flows>,
  landing: string | undefined,
): Promise<CallbackResult | undefined> {
  // A silent sign-in frame: the parent reads its URL and handles the callback.
  const { top, self, window } = globalThis
  if (window?.name === options.restore.frameName && top !== self) return undefined
  await line.link().catch(() => undefined)
  // The page's URL as the client found it, when it was a callback: a router may have moved on
  // since (a redirect in an effect that ran before the client started).
  const isCallback = (href: string | undefined) => !!href && options.isCallback(new URL(href))
  const href = isCallback(landing) ? landing : globalThis.location?.href
  const callback = isCallback(href)
  let result: CallbackResult | undefined
  if (options.engine && (callback || !line.current())) {
    const restored = (await flows()).restore(href)
    result = (await restored.catch(() => undefined)) as CallbackResult | undefined
  }
  if (store.getState().status === 'loading') toUnauthenticated(store)
  return result
}

/** Tokens your backend gave: said at once in the state, taken by the engine as it loads. */
function adoptTokens(
  options: ResolvedOptions,
  store: SessionStore,
  line: Line,
  json: TokenJson,
  user: User | undefined,
): Promise<unknown> {
  if (!options.tokenSource) {
    throw new AuthError('invalid_options', 'setTokens() is for a custom `tokenSource`')
  }
  const { access_token: accessToken, expires_in: lifetime, scope } = json ?? {}
  if (typeof accessToken !== 'string' || !accessToken) {
    throw new AuthError('invalid_response', 'setTokens(): the answer has no access_token')
  }
  const at = options.clock.now()
  const seconds = Number(lifetime)
  toSnapshot(store, {
    status: 'authenticated',
    generation: 0,
    ...(lifetime !== undefined && seconds >= 0 ? { expiresAt: at + seconds * 1000 } : {}),
    ...(typeof scope === 'string' ? { scope } : {}),
    ...(user ? { user } : {}),
  })
  return line.adopt(json, user, at)
}

/** Signs out: this page first and at once; then every other, and the provider. */
async function signOut(
  options: ResolvedOptions,
  line: Line,
  flows: () => Promise<Flows>,
  leaving: { now: boolean },
  logout: LogoutOptions,
): Promise<void> {
  // Whether the ID token goes along is the client's configuration, not a call's.
  if ('idTokenHint' in logout) {
    throw new AuthError(
      'invalid_options',
      'logout(): `idTokenHint` is an option of createAuthClient',
    )
  }
  leaving.now = !logout.localOnly && Boolean(options.engine)
  line.forget()
  line.announceLogout()
  try {
    // On its way to the provider's end-session: nothing may navigate it elsewhere any more.
    leaving.now = await (await flows()).logout(logout)
  } catch (error) {
    leaving.now = false
    throw error
  }
}

/** Calls `onWake` on the page's wake-ups while anyone has started the client. */
function createWatch(onWake: () => void) {
  let watchers = 0
  let unwatch: (() => void) | undefined
  const stopAll = () => {
    watchers = 0
    unwatch?.()
    unwatch = undefined
  }
  return {
    /** Returns this start's stop; the last stop ends the watch. */
    start(): () => void {
      watchers += 1
      if (watchers === 1) unwatch = watchPage(onWake)
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        watchers -= 1
        if (watchers === 0) stopAll()
      }
    },
    stopAll,
  }
}

/**
 * Creates the auth client: the page signs in itself, with the refresh token in a token worker. For
 * a backend-for-frontend (`@spa-auth/bff`), where no token reaches the browser, the same function
 * comes from `@spa-auth/core/bff`.
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
  const store = createSessionStore()
  const emitter = createEmitter()
  const line = createLine(options, store, emitter)
  // On its way to the provider (a sign-out, a silent redirect): no login starts meanwhile.
  const leaving = { now: false }
  let loaded: Promise<Flows> | undefined
  let adopting: Promise<unknown> | undefined
  let ready: Promise<CallbackResult | undefined> | undefined
  const watch = createWatch(() => {
    if (line.current()) line.request({ type: 'check' }).catch(() => {})
  })

  /** The sign-in flows, loaded when one first runs. */
  const flows = () =>
    (loaded ??= import('./flows.js').then(({ createFlows }) =>
      createFlows({ options, emitter, line, leaving }),
    ))
  const landing = globalThis.location?.href
  let dpop: Promise<Sign> | undefined
  /**
   * With DPoP, the proofs' module, loaded at the first call that needs one (again if it failed).
   * Written here rather than with the engine's `kept()`: a module shared with the on-demand
   * engine would become a chunk of its own on the page's first load.
   */
  const proofs = () =>
    (dpop ??= import('./dpop.js')
      .then((m) => m.createDpopSign(emitter))
      .catch((error: unknown) => {
        dpop = undefined
        throw error
      }))
  let signer: Sign | undefined
  /** Once the module is loaded, its signer is called at once: nothing to wait for per call. */
  const sign: Sign | undefined = options.engine?.dpop
    ? (...args) =>
        signer
          ? signer(...args)
          : proofs().then((loaded) => {
              signer = loaded
              return loaded(...args)
            })
    : undefined
  const settle = () => (ready ??= restore(options, store, line, flows, landing))

  /**
   * A valid token, once the first status has settled and tokens given by the app are taken: at
   * once, with no promise, when nothing is to wait for.
   */
  function token(signal?: AbortSignal, api?: string): Snapshot | Promise<Snapshot> {
    if (store.getState().status === 'loading' || adopting) return settledToken(signal, api)
    return line.token(signal, api)
  }

  async function settledToken(signal?: AbortSignal, api?: string) {
    if (store.getState().status === 'loading') await abortable(settle(), signal)
    if (adopting) await abortable(adopting, signal)
    return line.token(signal, api)
  }

  const client: AuthClient = {
    store,
    fetch: createAuthFetch({
      transport: options.fetch,
      apiOrigins: options.apiOrigins,
      apis: options.apis,
      held: line.held,
      token,
      rejected: line.rejected,
      emitter,
      sign,
    }),
    async login(login = {}) {
      requireOAuth(options, 'login()')
      // A sign-out is on its way to the provider: starting a login now would undo it.
      if (!leaving.now) await (await flows()).login(login)
    },
    // signInAgain() of step-up.ts, written out: that module is shared with an on-demand chunk,
    // and importing it here would split it off the page into a chunk of its own.
    stepUp(challenge, { popup, ...login } = {}) {
      const asked = {
        ...(challenge.acrValues || challenge.maxAge !== undefined ? {} : { prompt: 'login' }),
        ...login,
        ...challenge,
      }
      return popup
        ? client.loginWithPopup({ ...asked, popup: popup === true ? {} : popup })
        : client.login(asked)
    },
    loginWithPopup({ popup: shape, ...login } = {}) {
      // Before anything is awaited: later, the user gesture is spent and the browser refuses.
      const popup = options.engine && !leaving.now ? openPopup(shape) : undefined
      return flows().then((f) => f.popup(popup, login, shape?.timeout))
    },
    async handleCallback(href) {
      requireOAuth(options, 'handleCallback()')
      return (await flows()).handleCallback(href)
    },
    async getAccessToken({ signal, api } = {}) {
      await token(signal, api)
      // Whatever the wait, the newest token, and none once signed out.
      return line.held(api).accessToken as string
    },
    getState: store.getState,
    subscribe: store.subscribe,
    on: emitter.on,
    setTokens(json, user) {
      const adopted: Promise<unknown> = adoptTokens(options, store, line, json, user).finally(
        () => {
          // Only the latest: an earlier adoption ending must not clear a later one.
          if (adopting === adopted) adopting = undefined
        },
      )
      adopting = adopted
    },
    logout: (logout = {}) => signOut(options, line, flows, leaving, logout),
    ready: settle,
    start() {
      const stop = watch.start()
      settle()
      return stop
    },
    dispose() {
      watch.stopAll()
      line.close()
    },
  }
  return Object.assign(client, { toJSON: store.getState })
}
