import type { Clock } from '../clock.js'
import { AuthError } from '../errors.js'
import type { AuthEvent, RefreshReason } from '../events.js'
import type {
  Authorization,
  AuthorizeParams,
  Broadcast,
  EngineConfig,
  LogoutRequest,
  LogoutResult,
  Snapshot,
  Transaction,
} from '../protocol.js'
import { type TokenJson, type TokenResponse, tokensFromJson } from '../token-json.js'
import type { User } from '../types.js'
import { authorize, exchangeCode, oauthRefresher } from './grants.js'
import { createLifecycle } from './lifecycle.js'
import { createProvider, type Provider } from './provider.js'
import { endSessionUrl, revokeTokens } from './revoke.js'
import type { Refresher } from './source.js'
import { createTokenHolder } from './tokens.js'

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
}

function requireProvider(provider: Provider | undefined): Provider {
  if (!provider) {
    throw new AuthError('invalid_options', 'This needs `issuer`, `clientId` and `redirectUri`')
  }
  return provider
}

/**
 * The engine: the one owner of a session's tokens. It makes every token request (code exchange,
 * refresh, revocation), keeps the refresh token to itself, and shows pages snapshots that carry
 * the access token and never the refresh token. It has no DOM: it runs unchanged in a token
 * worker or in the page.
 */
export function createEngine(options: EngineOptions) {
  const { clock, config } = options
  const provider = config ? createProvider(config, options) : undefined
  const tokens = createTokenHolder(clock)
  const listeners = new Set<(message: Broadcast) => void>()
  // States whose callback was handed over: a code is exchanged once, whoever asks again.
  const exchanged = new Set<string>()
  let user: User | undefined
  let error: AuthError | undefined
  let signedOut = false

  const send = (message: Broadcast) => {
    for (const listener of [...listeners]) listener(message)
  }
  const emit = (event: AuthEvent) => send({ type: 'event', event })

  function snapshot(): Snapshot {
    const set = tokens.get()
    const base = { generation: tokens.generation(), ...(error ? { error } : {}) }
    if (!set) return { status: 'unauthenticated', ...base, ...(signedOut ? { signedOut } : {}) }
    const view: Snapshot = { status: 'authenticated', ...base, accessToken: set.accessToken }
    if (set.expiresAt !== undefined) view.expiresAt = set.expiresAt
    const due = lifecycle.dueAt(set)
    if (due !== undefined) view.refreshAt = due
    if (set.scope !== undefined) view.scope = set.scope
    if (user) view.user = user
    return view
  }

  const publish = () => send({ type: 'session', session: snapshot() })

  const lifecycle = createLifecycle({
    tokens,
    clock,
    refresher: options.refresher ?? oauthRefresher(requireProvider(provider), () => user),
    leeway: options.refreshLeeway,
    timeout: options.requestTimeout,
    ...(options.random ? { random: options.random } : {}),
    emit,
    refreshed(set, result, reason) {
      // Same claims, same object: a page that compares the user sees no change.
      if (result.user && JSON.stringify(result.user) !== JSON.stringify(user)) user = result.user
      error = undefined
      publish()
      emit({ type: 'refresh', expiresAt: set.expiresAt, reason })
    },
    failed(failure) {
      error = failure
      publish()
    },
    ended(failure) {
      tokens.clear()
      user = undefined
      error = failure
      publish()
    },
  })

  /** A new session from a grant: replaces whatever was there. */
  function adopt(response: TokenResponse, claims: User | undefined, at?: number): Snapshot {
    lifecycle.stop()
    tokens.set(response, at)
    user = claims
    error = undefined
    signedOut = false
    lifecycle.schedule()
    publish()
    emit({ type: 'login', sub: typeof claims?.sub === 'string' ? claims.sub : undefined })
    return snapshot()
  }

  async function afterToken(work: Promise<unknown>): Promise<Snapshot> {
    await work
    return snapshot()
  }

  return {
    /** The session now. */
    hello: snapshot,
    /**
     * A valid access token for a page: the current one unless it is due; after a 401 with the
     * token of generation `stale` (`reason: 'unauthorized'`), a newer one or one refresh.
     */
    token(reason: RefreshReason, stale?: number): Promise<Snapshot> {
      return afterToken(
        reason === 'unauthorized' ? lifecycle.rejected(stale) : lifecycle.current(reason),
      )
    },
    /** A page woke up (focus, visibility, network): refresh if due, else re-arm the timer. */
    check: lifecycle.check,
    /** The authorization URL to send the browser to, and the transaction to keep meanwhile. */
    authorize(params: AuthorizeParams): Promise<Authorization> {
      return authorize(requireProvider(provider), clock, params)
    },
    /**
     * Checks a callback URL against its transaction and exchanges the code, once per state. A
     * failure changes nothing: the session in place stays.
     */
    async callback(url: string, transaction: Transaction | undefined): Promise<Snapshot> {
      const p = requireProvider(provider)
      const parsed = new URL(url)
      const state = parsed.searchParams.get('state')
      if (state && transaction?.state === state) {
        if (exchanged.has(state)) {
          throw new AuthError(
            'callback_invalid',
            'Callback rejected: this login was already handled',
          )
        }
        exchanged.add(state)
      }
      const session = await exchangeCode(p, parsed, transaction)
      return adopt(session.tokens, session.user)
    },
    /**
     * Signs out every page: the tokens are forgotten at once, then the long-lived one is revoked
     * (when asked), then the provider's end-session URL is made (when it has one).
     */
    async logout(request: LogoutRequest): Promise<LogoutResult> {
      const held = tokens.get()
      lifecycle.stop()
      tokens.clear()
      user = undefined
      error = undefined
      signedOut = true
      publish()
      const revoked =
        request.revoke && provider && held ? await revokeTokens(provider, held) : false
      emit({ type: 'logout', revoked })
      const idToken = request.idTokenHint ? held?.idToken : undefined
      const url =
        provider && (await endSessionUrl(provider, idToken, request.postLogoutRedirectUri))
      return url ? { revoked, endSessionUrl: url } : { revoked }
    },
    /**
     * Starts a session from tokens the app's backend gave (a custom token source, in the page).
     *
     * @throws {AuthError} `invalid_response` when `json` has no access token.
     */
    adopt: (json: TokenJson, claims: User | undefined, at: number) =>
      adopt(tokensFromJson(json, 'setTokens()'), claims, at),
    /** Calls `listener` with every snapshot and event. Returns the unsubscribe. */
    subscribe(listener: (message: Broadcast) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
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
