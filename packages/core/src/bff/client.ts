// The page's client in BFF mode: the session lives in the app's backend-for-frontend
// (`@spa-auth/bff`), behind an httpOnly cookie; no token ever reaches the browser. The same public
// API as the token-worker mode, over the BFF's endpoints (its README has them); none of the OAuth
// code is in this page.
import type { AuthClient } from '../client/client.js'
import { watchPage } from '../client/page.js'
import { openPopup } from '../client/popup-open.js'
import {
  createSessionStore,
  type SessionStore,
  toSignedOut,
  toSnapshot,
  toUnauthenticated,
  withError,
} from '../client/session.js'
import { signInAgain, stepUpRequired } from '../client/step-up.js'
import { AuthError, type AuthErrorCode } from '../errors.js'
import { createEmitter, type Emitter } from '../events.js'
import type { User } from '../types.js'
import { type BffClientOptions, type ResolvedBffOptions, resolveBffOptions } from './options.js'

// The BFF's own failures (it names them in `Spa-Auth-Error`), as the client's error codes. Any
// other answer, the API's own 401 and 403 among them, is the caller's to read.
const CODES: Record<string, AuthErrorCode> = {
  login_required: 'login_required',
  session_expired: 'session_expired',
  authorization_error: 'authorization_error',
  network: 'network',
  unavailable: 'network',
  timeout: 'timeout',
  csrf: 'configuration',
  configuration: 'configuration',
}

/** The BFF's own failure in `response`, typed, when it made one; `where` names the request. */
async function failureOf(response: Response, where: string): Promise<AuthError | undefined> {
  const code = CODES[response.headers.get('spa-auth-error') ?? '']
  if (!code) return undefined
  const body = await response
    .clone()
    .json()
    .catch(() => undefined)
  const { message, oauthError, description } = (body?.error ?? {}) as Record<string, unknown>
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return new AuthError(code, `${where}: ${text(message) ?? `HTTP ${response.status}`}`, {
    oauthError: text(oauthError),
    description: text(description),
  })
}

/** The sign-in, loaded when one first starts. */
const signInModule = () => import('./login.js')

/** What a BFF-mode client's steps share. */
interface State extends ResolvedBffOptions {
  store: SessionStore
  emitter: Emitter
  /** A sign-out is on its way to the provider: no sign-in starts meanwhile. */
  leaving: boolean
  /** Another tab said it signed out: the next "no session" is a sign-out, not an ending. */
  heardLogout: boolean
  checking: Promise<void> | undefined
  channel: BroadcastChannel | undefined
}

// Bounded: a BFF that never answers is a failure, never a wait without end.
const csrf = (s: State): RequestInit => ({
  headers: { [s.csrfHeader]: '1' },
  credentials: 'same-origin',
  signal: AbortSignal.timeout(15_000),
})

/** The BFF no longer has the session this page showed (it expired, or ended elsewhere). */
function ended(s: State, error: AuthError): AuthError {
  const ending = new AuthError('session_expired', error.message)
  toUnauthenticated(s.store, ending)
  s.emitter.emit({ type: 'session_expired', error: ending })
  return ending
}

/** A failure that leaves the status as it was, or settles a first status that was loading. */
function failed(s: State, error: AuthError): void {
  if (s.store.getState().status === 'loading') toUnauthenticated(s.store, error)
  else withError(s.store, error)
}

/** The session as the BFF answered: signed in with these claims, or why not. */
async function applySession(s: State, response: Response): Promise<void> {
  const where = `Session check: GET ${s.prefix}/session`
  if (response.ok) {
    const { user, expiresAt } = (await response.json().catch(() => ({}))) as {
      user?: User
      expiresAt?: unknown
    }
    toSnapshot(s.store, {
      status: 'authenticated',
      generation: 0,
      user: typeof user === 'object' && user ? user : {},
      ...(typeof expiresAt === 'number' ? { expiresAt } : {}),
    })
    s.heardLogout = false
    return
  }
  const error = await failureOf(response, where)
  if (!error || response.status !== 401) {
    return failed(
      s,
      error ?? new AuthError('invalid_response', `${where}: HTTP ${response.status}`),
    )
  }
  const state = s.store.getState()
  if (error.code === 'authorization_error') {
    toUnauthenticated(s.store, error)
    s.emitter.emit({ type: 'error', error })
  } else if (s.heardLogout || state.signedOut) toSignedOut(s.store)
  else if (state.status === 'authenticated') ended(s, error)
  else toUnauthenticated(s.store)
}

/** Asks the BFF for the session; one question at a time for every caller. */
function check(s: State): Promise<void> {
  s.checking ??= s
    .fetch(`${s.prefix}/session`, csrf(s))
    .then(
      (response) => applySession(s, response),
      (cause: unknown) =>
        failed(
          s,
          new AuthError('network', `Session check: GET ${s.prefix}/session: no response`, {
            cause,
          }),
        ),
    )
    .finally(() => {
      s.checking = undefined
    })
  return s.checking
}

/**
 * Where tabs hear of each other: "signed out" and "signed in", each only a cue to ask the BFF
 * again. A forged message costs one question and changes nothing the BFF does not confirm.
 */
function openChannel(s: State): BroadcastChannel | undefined {
  if (typeof BroadcastChannel !== 'function') return undefined
  const channel = new BroadcastChannel(`spa-auth:bff:${s.prefix}`)
  channel.onmessage = ({ data }) => {
    if (data?.v !== 1 || (data.type !== 'logout' && data.type !== 'session')) return
    if (data.type === 'logout') s.heardLogout = true
    void check(s)
  }
  return channel
}

const announce = (s: State, type: 'logout' | 'session') => s.channel?.postMessage({ v: 1, type })

/** `auth.fetch` in BFF mode: the CSRF header on this origin's requests; the BFF's failures typed. */
function createFetch(s: State, settle: () => Promise<unknown>): typeof fetch {
  return async (input, init) => {
    // Resolved as a browser's `fetch` resolves it (Node's `Request` would not take a path).
    const base = globalThis.document?.baseURI ?? globalThis.location?.href
    const request = new Request(
      input instanceof Request ? input : new URL(String(input), base),
      init,
    )
    // Another origin never sees the BFF's cookie: nothing to add, nothing to read.
    if (new URL(request.url).origin !== globalThis.location?.origin) return s.fetch(request)
    if (s.store.getState().status === 'loading') await settle()
    if (s.store.getState().status !== 'authenticated') {
      throw new AuthError('login_required', 'Not signed in: call login() first')
    }
    if (!request.headers.has(s.csrfHeader)) request.headers.set(s.csrfHeader, '1')
    const response = await s.fetch(request)
    const error = await failureOf(response, `${request.method} ${request.url}`)
    const challenge = response.status === 401 && response.headers.get('www-authenticate')
    const stepUp = challenge && /error="?insufficient_user_authentication/i.test(challenge)
    if (!error && !stepUp) return response
    response.body?.cancel().catch(() => {})
    if (!error) throw stepUpRequired(request.url, challenge as string)
    if (error.code === 'login_required' || error.code === 'session_expired') throw ended(s, error)
    if (error.code === 'network') withError(s.store, error)
    throw error
  }
}

/** Signs out at the BFF (every tab, every instance that shares its store), then at the provider. */
async function signOut(s: State, localOnly: boolean): Promise<void> {
  const where = `Sign-out: POST ${s.prefix}/logout`
  s.leaving = !localOnly
  toSignedOut(s.store)
  try {
    const response = await s.fetch(`${s.prefix}/logout`, { ...csrf(s), method: 'POST' })
    const error = await failureOf(response, where)
    if (error || !response.ok)
      throw error ?? new AuthError('network', `${where}: HTTP ${response.status}`)
    const { endSessionUrl: to } = (await response.json().catch(() => ({}))) as {
      endSessionUrl?: unknown
    }
    // Only now: a tab that asks the BFF on this cue must find the session gone.
    announce(s, 'logout')
    s.emitter.emit({ type: 'logout', revoked: true })
    if (!localOnly && typeof to === 'string' && /^https?:\/\//.test(to)) s.navigate(to)
    else s.leaving = false
  } catch (caught) {
    s.leaving = false
    throw caught instanceof AuthError
      ? caught
      : new AuthError('network', `${where}: no response`, { cause: caught })
  }
}

const noToken = (what: string) =>
  new AuthError(
    'invalid_options',
    `${what}: in BFF mode no token reaches the browser; call the API with auth.fetch through the BFF`,
  )

/**
 * Creates the auth client in BFF mode: the session is the BFF's (`@spa-auth/bff`), kept behind
 * an httpOnly cookie, and the page holds no token at all. The same API and React hooks as the
 * token-worker mode; `getAccessToken()` says there is no token here.
 *
 * @throws {AuthError} `invalid_options`, naming the option.
 * @example
 * ```ts
 * import { createAuthClient } from '@spa-auth/core/bff'
 * const auth = createAuthClient({ bff: '/bff' })
 * const orders = await (await auth.fetch('/api/orders')).json()
 * ```
 */
export function createBffClient(options: BffClientOptions): AuthClient {
  const s: State = {
    ...resolveBffOptions(options),
    store: createSessionStore(),
    emitter: createEmitter(),
    leaving: false,
    heardLogout: false,
    checking: undefined,
    channel: undefined,
  }
  const { store, emitter } = s
  let ready: Promise<undefined> | undefined
  let watchers = 0
  let unwatch: (() => void) | undefined
  let lastWake = 0
  const settle = () =>
    (ready ??= (async () => {
      s.channel ??= openChannel(s)
      await check(s)
      emitter.emit({ type: 'connected', holder: 'bff' })
      if (store.getState().status === 'authenticated') announce(s, 'session')
      return undefined
    })())
  // A wake-up (focus, visibility, network) asks again, so that a session ended elsewhere shows.
  const onWake = () => {
    if (Date.now() - lastWake < 5_000 || !ready) return
    lastWake = Date.now()
    void check(s)
  }
  const host = {
    prefix: s.prefix,
    store,
    navigate: s.navigate,
    check: () => settle().then(() => check(s)),
    announce: () => announce(s, 'session'),
    AuthError,
  }
  const client: AuthClient = {
    store,
    fetch: createFetch(s, settle),
    async login(login = {}) {
      if (!s.leaving) (await signInModule()).signIn(host, login)
    },
    stepUp: (challenge, login) => signInAgain(client, challenge, login),
    async loginWithPopup({ popup: shape, ...login } = {}) {
      if (s.leaving) return
      // Before anything is awaited: later, the user gesture is spent and the browser refuses.
      const popup = openPopup(shape)
      const module = await signInModule().catch((error: unknown) => {
        popup?.close()
        throw error
      })
      await module.popupSignIn(host, popup, login, shape?.timeout)
    },
    handleCallback: async () => {
      throw new AuthError('invalid_options', 'handleCallback(): the BFF handles the callback')
    },
    getAccessToken: async () => {
      throw noToken('getAccessToken()')
    },
    getState: store.getState,
    subscribe: (listener) => store.subscribe(listener),
    on: emitter.on,
    setTokens() {
      throw noToken('setTokens()')
    },
    async logout(logout = {}) {
      if ('idTokenHint' in logout) throw noToken('logout({ idTokenHint })')
      await signOut(s, logout.localOnly === true)
    },
    ready: settle,
    start() {
      if (++watchers === 1) unwatch = watchPage(onWake)
      void settle()
      let stopped = false
      return () => {
        if (!stopped && --watchers === 0) unwatch?.()
        stopped = true
      }
    },
    dispose() {
      watchers = 0
      unwatch?.()
      s.channel?.close()
      s.channel = undefined
    },
  }
  return Object.assign(client, { toJSON: () => store.getState() })
}
