import type { Clock } from '../clock.js'
import { AuthError } from '../errors.js'
import type { AuthEvent, RefreshReason } from '../events.js'
import type {
  ApiToken,
  Authorization,
  AuthorizeParams,
  Broadcast,
  EngineConfig,
  LogoutRequest,
  LogoutResult,
  Snapshot,
  Transaction,
} from '../protocol.js'
import type { TokenResponse } from '../token-json.js'
import type { User } from '../types.js'
import {
  apiRefresher,
  authorize,
  exchangeCode,
  noLogin,
  oauthRefresher,
  type SessionAccess,
} from './grants.js'
import { createLifecycle, type Lifecycle, type LifecycleHooks } from './lifecycle.js'
import { createProvider, type DpopBinding, type DpopKeyStore, type Provider } from './provider.js'
import { createRecent, type Recent } from './recent.js'
import { endSessionUrl, revokeTokens } from './revoke.js'
import type { Refresher } from './source.js'
import { createTokenHolder, type TokenHolder } from './tokens.js'

/** Where the engine runs and what it talks to. */
export interface EngineOptions {
  /** The OAuth provider; absent when tokens come from a custom token source. */
  config?: EngineConfig | undefined
  /** Where new tokens come from instead of the provider's refresh grant (a custom token source). */
  refresher?: Refresher | undefined
  /** Seconds before expiry to refresh. */
  refreshLeeway: number
  /** Milliseconds a request to the provider may take. */
  requestTimeout: number
  fetch: typeof fetch
  clock: Clock
  random?: () => number
  /** Where DPoP keys wait across a redirect; default IndexedDB. */
  keys?: DpopKeyStore | undefined
}

// The sign-ins the engine remembers, and for how long: as many as a user starts in a while, and
// as long as a page keeps their transactions.
const SIGN_INS = 16
const SIGN_IN_MS = 30 * 60_000

function requireProvider(provider: Provider | undefined): Provider {
  if (!provider) {
    throw new AuthError('invalid_options', 'This needs `issuer`, `clientId` and `redirectUri`')
  }
  return provider
}

/** The session's state: what the engine's steps share. */
interface State {
  clock: Clock
  provider: Provider | undefined
  tokens: TokenHolder
  lifecycle: Lifecycle
  listeners: Set<(message: Broadcast) => void>
  user: User | undefined
  error: AuthError | undefined
  signedOut: boolean
  /** The DPoP key the tokens are bound to, once a grant used it. */
  dpop: DpopBinding | undefined
  /** The sign-ins started here, by state, until their callback: the ones it completes, once. */
  started: Recent<Started>
  /** Whether a sign-in was started here, or a page's transaction taken: then only its own. */
  begun: boolean
  /** Sign-outs so far: an exchange that began before one is discarded when it answers. */
  outs: number
  /** The APIs with a token of their own, by name. */
  lanes: Map<string, Lane>
}

/** One API's own token: where it is kept, its refreshes, and a refusal that stands. */
interface Lane {
  tokens: TokenHolder
  lifecycle: Lifecycle
  /** A `configuration` failure (the provider ignored the resource): said once, then repeated. */
  refused: AuthError | undefined
}

/** A sign-in the engine started: its transaction, and with DPoP the key made for it. */
interface Started {
  tx: Transaction
  dpop?: DpopBinding | undefined
}

function send(s: State, message: Broadcast): void {
  for (const listener of [...s.listeners]) listener(message)
}

const emit = (s: State, event: AuthEvent) => send(s, { type: 'event', event })

/** The session as pages see it: the access token, never the refresh token. */
function snapshot(s: State): Snapshot {
  const set = s.tokens.get()
  const base = { generation: s.tokens.generation(), ...(s.error ? { error: s.error } : {}) }
  if (!set)
    return { status: 'unauthenticated', ...base, ...(s.signedOut ? { signedOut: true } : {}) }
  const view: Snapshot = { status: 'authenticated', ...base, accessToken: set.accessToken }
  if (set.expiresAt !== undefined) view.expiresAt = set.expiresAt
  const due = s.lifecycle.dueIn(set)
  if (due !== undefined) view.refreshIn = due
  if (set.scope !== undefined) view.scope = set.scope
  if (s.user) view.user = s.user
  // The pair and its thumbprint: the handle (its nonces) stays with the engine.
  if (s.dpop) view.dpop = { keys: s.dpop.keys, jkt: s.dpop.jkt }
  for (const [name, lane] of s.lanes) {
    const token = lane.tokens.get()
    if (!token) continue
    const api: ApiToken = { accessToken: token.accessToken, generation: token.generation }
    if (view.dpop) api.dpop = view.dpop
    if (token.expiresAt !== undefined) api.expiresAt = token.expiresAt
    const due = lane.lifecycle.dueIn(token)
    if (due !== undefined) api.refreshIn = due
    view.apis = { ...view.apis, [name]: api }
  }
  return view
}

/** Forgets every API's own token (a sign-out, a new session): their refreshes are abandoned. */
function dropLanes(s: State): void {
  for (const lane of s.lanes.values()) {
    lane.lifecycle.stop()
    lane.tokens.clear()
    lane.refused = undefined
  }
}

const publish = (s: State) => send(s, { type: 'session', session: snapshot(s) })

/** What the lifecycle's news does to the session. */
function hooks(s: State): LifecycleHooks {
  return {
    emit: (event) => emit(s, event),
    refreshed(set, result, reason) {
      // Same claims, same object: a page that compares the user sees no change.
      if (result.user && JSON.stringify(result.user) !== JSON.stringify(s.user))
        s.user = result.user
      s.error = undefined
      publish(s)
      emit(s, { type: 'refresh', expiresAt: set.expiresAt, reason })
    },
    failed(failure) {
      s.error = failure
      publish(s)
    },
    ended(failure) {
      s.tokens.clear()
      dropLanes(s)
      s.user = undefined
      s.error = failure
      publish(s)
    },
  }
}

/** What the news of an API's token does: the session's, but for a refusal that stands. */
function laneHooks(s: State, name: string, lane: () => Lane): LifecycleHooks {
  const session = hooks(s)
  return {
    ...session,
    refreshed(set, _result, reason) {
      s.error = undefined
      publish(s)
      emit(s, { type: 'refresh', expiresAt: set.expiresAt, reason, api: name })
    },
    failed(failure) {
      if (failure.code === 'configuration') lane().refused = failure
      session.failed(failure)
    },
    ended(failure) {
      // The refresh token is the session's: without it every token goes.
      s.lifecycle.stop()
      session.ended(failure)
    },
  }
}

/** Runs each grant after the one before: every grant may rotate the one refresh token. */
function createSerial() {
  let last: Promise<unknown> = Promise.resolve()
  return <T>(grant: () => Promise<T>): Promise<T> => {
    const next = last.then(grant, grant)
    last = next.catch(() => {})
    return next
  }
}

/** A new session from a grant: replaces whatever was there. */
function adopt(s: State, response: TokenResponse, claims: User | undefined, at?: number): Snapshot {
  s.lifecycle.stop()
  dropLanes(s)
  s.tokens.set(response, at)
  s.user = claims
  s.error = undefined
  s.signedOut = false
  s.lifecycle.schedule()
  publish(s)
  emit(s, { type: 'login', sub: typeof claims?.sub === 'string' ? claims.sub : undefined })
  return snapshot(s)
}

/**
 * The sign-in a callback completes: one started here, taken once by its state, whose every field
 * the page's transaction repeats. A port may hand over a transaction of its own (a code for
 * another account: login CSRF), so the page's is taken only by an engine that has no session and
 * has started nothing (a worker restarted, a page's own engine back from the provider), and once.
 */
function signIn(s: State, tx: Transaction | undefined): Started | undefined {
  // None: the URL's checks say what is missing.
  if (!tx) return undefined
  const started = s.started.take(tx.state)
  const own = started?.tx as unknown as Record<string, unknown> | undefined
  const page = tx as unknown as Record<string, unknown>
  // Its own: every field as the engine made it. Else only while nothing was started here.
  if (own ? Object.keys(own).some((k) => page[k] !== own[k]) : s.begun || s.tokens.get())
    throw noLogin()
  s.begun = true
  return started ?? { tx }
}

/**
 * Checks a callback URL against the sign-in it completes and exchanges the code, once per
 * sign-in. A failure changes nothing: the session in place stays.
 */
async function callback(s: State, url: string, transaction: Transaction | undefined) {
  const provider = requireProvider(s.provider)
  const parsed = new URL(url)
  const started = signIn(s, transaction)
  const outs = s.outs
  const session = await exchangeCode(provider, parsed, started?.tx, (tx) =>
    signInKey(s, tx, started?.dpop),
  )
  if (outs !== s.outs) {
    // The sign-out stands: the grant it could not see ends too.
    await revokeTokens(provider, session.tokens)
    throw new AuthError('login_required', 'Signed out while the request waited')
  }
  // The key the code was redeemed with: the page proves with it to the API.
  s.dpop = session.dpop
  return adopt(s, session.tokens, session.user)
}

/**
 * With DPoP, the key of the sign-in of `tx`: the one made here for it, else the one stored for
 * it across the redirect when it passes every check (a new engine: a worker restarted, a page in
 * per-tab or in-page mode).
 */
async function signInKey(
  s: State,
  tx: Transaction,
  made: DpopBinding | undefined,
): Promise<DpopBinding | undefined> {
  const dpop = s.provider?.dpop
  if (!dpop) return undefined
  if (!made) return dpop.stored(tx.state, tx.dpopJkt)
  dpop.drop(tx.state).catch(() => {})
  return made
}

/**
 * Signs out every page: the tokens are forgotten at once, then the long-lived one is revoked
 * (when asked), then the provider's end-session URL is made (when it has one).
 */
async function logout(s: State, request: LogoutRequest): Promise<LogoutResult> {
  const held = s.tokens.get()
  // The key goes with the tokens bound to it, and the sign-ins under way end (their keys with
  // them), before anything else can start a sign-in.
  s.dpop = undefined
  s.started.clear()
  const forgotten = s.provider?.dpop?.forget().catch(() => undefined)
  s.lifecycle.stop()
  s.tokens.clear()
  dropLanes(s)
  s.user = undefined
  s.error = undefined
  s.signedOut = true
  s.outs++
  publish(s)
  const { provider } = s
  const revoked = request.revoke && provider && held ? await revokeTokens(provider, held) : false
  await forgotten
  emit(s, { type: 'logout', revoked })
  const idToken = provider?.config.idTokenHint ? held?.idToken : undefined
  const url = provider && (await endSessionUrl(provider, idToken, request.postLogoutRedirectUri))
  return url ? { revoked, endSessionUrl: url } : { revoked }
}

/**
 * The engine: the one owner of a session's tokens. It makes every token request (code exchange,
 * refresh, revocation), keeps the refresh token to itself, and shows pages snapshots that carry
 * the access token and never the refresh token. It has no DOM: it runs unchanged in a token
 * worker or in the page.
 */
export function createEngine(options: EngineOptions) {
  const { clock, config } = options
  const tokens = createTokenHolder(clock)
  const s = {
    clock,
    tokens,
    listeners: new Set(),
    started: createRecent(clock, SIGN_INS, SIGN_IN_MS),
    outs: 0,
    lanes: new Map(),
  } as State
  const provider = config
    ? createProvider(config, { ...options, emit: (event) => emit(s, event) })
    : undefined
  s.provider = provider
  const session: SessionAccess = {
    refreshToken: () => tokens.get()?.refreshToken,
    key: () => s.dpop,
    serial: createSerial(),
    rotate: (refreshToken) => tokens.rotate(refreshToken),
  }
  const common = {
    clock,
    leeway: options.refreshLeeway,
    timeout: options.requestTimeout,
    ...(options.random ? { random: options.random } : {}),
  }
  s.lifecycle = createLifecycle({
    ...common,
    tokens,
    refresher:
      options.refresher ?? oauthRefresher(requireProvider(provider), () => s.user, session),
    ...hooks(s),
  })
  for (const [name, grant] of Object.entries(config?.apis ?? {})) {
    const lane = { tokens: createTokenHolder(clock), refused: undefined } as Lane
    lane.lifecycle = createLifecycle({
      ...common,
      tokens: lane.tokens,
      lazy: true,
      refresher: apiRefresher(requireProvider(provider), name, grant, {
        ...session,
        spend: () => tokens.spend(tokens.generation()),
      }),
      ...laneHooks(s, name, () => lane),
    })
    s.lanes.set(name, lane)
  }
  const { lifecycle } = s
  return {
    /** The session now. */
    hello: () => snapshot(s),
    /**
     * A valid access token for a page: the current one unless it is due; after a 401 with the
     * token of generation `stale` (`reason: 'unauthorized'`), a newer one or one refresh. With
     * `api`, that API's own token (its generations are its own).
     *
     * @throws {AuthError} `invalid_options` for an API this client does not have.
     */
    async token(reason: RefreshReason, stale?: number, api?: string): Promise<Snapshot> {
      const lane = api === undefined ? undefined : s.lanes.get(api)
      if (api !== undefined && !lane) {
        throw new AuthError('invalid_options', `No API is named "${api}" in \`apis\``)
      }
      if (lane && !tokens.get())
        throw new AuthError('login_required', 'Not signed in: call login() first')
      if (lane?.refused) throw lane.refused
      const life = lane?.lifecycle ?? lifecycle
      await (reason === 'unauthorized' ? life.rejected(stale) : life.current(reason))
      return snapshot(s)
    },
    /** A page woke up (focus, visibility, network): refresh if due, else re-arm the timer. */
    check: lifecycle.check,
    /** The authorization URL to send the browser to, and the transaction to keep meanwhile. */
    async authorize(params: AuthorizeParams): Promise<Authorization> {
      const { dpop, ...authorization } = await authorize(requireProvider(provider), clock, params)
      s.begun = true
      s.started.set(authorization.transaction.state, { tx: authorization.transaction, dpop })
      return authorization
    },
    callback: (url: string, transaction: Transaction | undefined) => callback(s, url, transaction),
    logout: (request: LogoutRequest) => logout(s, request),
    /** Starts a session from tokens the app's backend gave (a custom token source, in the page). */
    adopt: (tokens: TokenResponse, claims: User | undefined, at: number) =>
      adopt(s, tokens, claims, at),
    /** Calls `listener` with every snapshot and event. Returns the unsubscribe. */
    subscribe(listener: (message: Broadcast) => void): () => void {
      s.listeners.add(listener)
      return () => s.listeners.delete(listener)
    },
    /** Stops every timer and refresh in flight. */
    stop: lifecycle.stop,
    /** Whether a refresh timer is armed (for leak checks). */
    get timerArmed() {
      return lifecycle.timerArmed
    },
  }
}

/** The engine. */
export type Engine = ReturnType<typeof createEngine>
