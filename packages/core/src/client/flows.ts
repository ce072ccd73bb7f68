// The sign-in and sign-out flows: the login redirect, the callback hand-over, the silent sign-in,
// the way out through the provider. They run at the edges of a session only, so the page loads
// this module when it first needs one. What it needs of the page comes in through its context,
// not by import, so that no page module is split off into a chunk of its own.
import { AuthError } from '../errors.js'
import type { Emitter } from '../events.js'
import { asAuthError } from '../failure.js'
import { EXTRA_PARAMS_MAX, PARAM_MAX, paramsProblem } from '../params.js'
import type { AuthorizeParams, Transaction } from '../protocol.js'
import type { CallbackResult, LoginOptions, LogoutOptions } from '../types.js'
import { checkedReturnTo, cleanAddressBar, sameOriginPath } from './callback.js'
import type { Line } from './line.js'
import type { ResolvedOptions } from './options.js'
import {
  forgetSilentRedirect,
  inSilentRedirect,
  NO_PROVIDER_SESSION,
  silentFrame,
  silentRedirectTried,
} from './silent.js'
import {
  clearTransactions,
  saveTransaction,
  TRANSACTION_LIFETIME_MS,
  takeTransaction,
} from './transaction.js'

/** What the flows share with the client. */
export interface FlowContext {
  options: ResolvedOptions
  emitter: Emitter
  line: Line
  /** Whether the page is on its way to the provider (to sign out, or to a silent redirect). */
  leaving: { now: boolean }
}

/** What the flows of one client keep: the callbacks handed over, and the context. */
interface State extends FlowContext {
  callbacks: Map<string, Promise<CallbackResult>>
  lastCleaned: { href: string; result: Promise<CallbackResult> } | undefined
}

const storage = (s: State) => s.options.storage()

/** Asks the engine for an authorization request and keeps its transaction for the callback. */
async function authorization(s: State, params: AuthorizeParams, returnTo: string | undefined) {
  const { url, transaction } = await s.line.request({ type: 'authorize', params })
  saveTransaction(storage(s), { ...transaction, returnTo }, s.options.clock.now())
  return url
}

/** Records a failed callback beside the status it falls back to, and rejects with it. */
function rejectCallback(s: State, caught: unknown): Promise<never> {
  const error = asAuthError(caught, 'invalid_response', 'Callback')
  // `prompt=none` found no session at the provider: signed out, and nothing went wrong.
  const quiet =
    error.code === 'authorization_error' && NO_PROVIDER_SESSION.has(error.oauthError ?? '')
  if (!quiet) {
    s.line.failed(error)
    s.emitter.emit({ type: 'error', error })
  } else if (!s.line.current()) s.line.failed()
  return Promise.reject(error)
}

/**
 * A provider that answers `prompt=none` with `error=login_required` and no `state` (some send
 * none) after this tab's silent redirect: signed out, quietly.
 */
function quietNoSession(s: State, url: URL): AuthError | undefined {
  const error = url.searchParams.get('error') ?? ''
  if (url.searchParams.has('state') || !NO_PROVIDER_SESSION.has(error)) return undefined
  if (!inSilentRedirect(storage(s))) return undefined
  return new AuthError('authorization_error', `Silent sign-in: ${error}`, { oauthError: error })
}

/** What the page can refuse of a callback before asking the engine. */
function refusal(s: State, url: URL, tx: Transaction | undefined): AuthError | undefined {
  // Longer than any real callback, and than a token worker reads.
  if (url.href.length > 65_536) {
    return new AuthError('callback_invalid', 'Callback rejected: the URL is too long')
  }
  if (tx && s.options.clock.now() - tx.createdAt > TRANSACTION_LIFETIME_MS) {
    return new AuthError('callback_invalid', 'Callback rejected: the login has expired')
  }
  return quietNoSession(s, url)
}

async function completeCallback(s: State, url: URL): Promise<CallbackResult> {
  const states = url.searchParams.getAll('state')
  // Taken (and so deleted) before anything can fail: a transaction is single-use.
  const tx = states.length === 1 && states[0] ? takeTransaction(storage(s), states[0]) : undefined
  // This tab came back with a response it cannot match (forged, replayed or stray): the
  // logins it was waiting for cannot return any more; end them all.
  if (!tx) clearTransactions(storage(s))
  try {
    const refused = refusal(s, url, tx)
    if (refused) throw refused
    s.line.apply(await s.line.request({ type: 'callback', url: url.href, transaction: tx ?? null }))
    forgetSilentRedirect(storage(s))
    return { returnTo: tx?.returnTo === undefined ? undefined : sameOriginPath(tx.returnTo) }
  } catch (caught) {
    return rejectCallback(s, caught)
  }
}

/** The callback hand-over: once per state, and once per URL the address bar was cleaned of. */
function handleCallback(s: State, href?: string): Promise<CallbackResult> {
  let url: URL
  try {
    url = new URL(href ?? globalThis.location?.href ?? '', globalThis.location?.href)
  } catch (cause) {
    const error = new AuthError('callback_invalid', 'Callback rejected: the URL cannot be parsed', {
      cause,
    })
    return rejectCallback(s, error)
  }
  const state = url.searchParams.get('state')
  const known =
    (state && s.callbacks.get(state)) || (s.lastCleaned?.href === url.href && s.lastCleaned.result)
  if (known) return known
  const result = completeCallback(s, url)
  if (state) {
    s.callbacks.set(state, result)
    // A rejected callback is not remembered once settled: the same forged state again must
    // still end the logins that wait in this tab (it makes no token request: no transaction).
    result.catch(() => {
      if (s.callbacks.get(state) === result) s.callbacks.delete(state)
    })
  }
  const cleaned = cleanAddressBar(url)
  if (cleaned) s.lastCleaned = { href: cleaned, result }
  return result
}

/** The provider's session, without a prompt: in a hidden frame, or by a redirect (once). */
async function silentSignIn(s: State): Promise<void> {
  const { options, line } = s
  const { silent } = options.restore
  if (silent === 'redirect' && !silentRedirectTried(storage(s))) {
    const { pathname, search, hash } = globalThis.location
    s.leaving.now = true
    options.navigate(await authorization(s, { prompt: 'none' }, pathname + search + hash))
    return
  }
  if (silent !== 'iframe' || !globalThis.document?.body) return
  const { url, transaction } = await line.request({
    type: 'authorize',
    params: { prompt: 'none', silent: true },
  })
  const callback = await silentFrame(url, options)
  line.apply(await line.request({ type: 'callback', url: callback, transaction }))
}

/**
 * After the page forgot the session: revoke, then leave through the provider's end-session.
 * Resolves to whether the page is on its way there.
 */
async function logout(s: State, options: LogoutOptions): Promise<boolean> {
  const { returnTo, localOnly = false } = options
  forgetSilentRedirect(storage(s))
  const after = returnTo
    ? new URL(returnTo, globalThis.location?.href).href
    : s.options.postLogoutRedirectUri
  const result = await s.line.request({
    type: 'logout',
    revoke: !localOnly,
    ...(after ? { postLogoutRedirectUri: after } : {}),
  })
  if (localOnly || !result.endSessionUrl) return false
  s.options.navigate(result.endSessionUrl)
  return true
}

/** The sign-in and sign-out flows of one client. */
export function createFlows(ctx: FlowContext) {
  const s: State = { ...ctx, callbacks: new Map(), lastCleaned: undefined }
  return {
    async login(login: LoginOptions): Promise<void> {
      const { returnTo, ...params } = login
      // Said here, at once: the engine would refuse it too (an API's step-up challenge may ask
      // for more than a sign-in can carry).
      const problem = paramsProblem(params)
      if (problem) {
        throw new AuthError(
          'invalid_options',
          `login(): \`${problem}\` is out of bounds: strings of at most ${PARAM_MAX} characters, at most ${EXTRA_PARAMS_MAX} extra parameters, \`maxAge\` in whole seconds`,
        )
      }
      const url = await authorization(s, params, checkedReturnTo(returnTo))
      // A sign-out set off meanwhile wins.
      if (!s.leaving.now) s.options.navigate(url)
    },
    handleCallback: (href?: string) => handleCallback(s, href),
    silentSignIn: () => silentSignIn(s),
    /** The first status of a page with no session: the callback when it is one, else silent. */
    restore(href: string | undefined): Promise<unknown> {
      if (href && s.options.isCallback(new URL(href))) return handleCallback(s, href)
      return silentSignIn(s)
    },
    logout: (options: LogoutOptions) => logout(s, options),
  }
}

/** The sign-in flows. */
export type Flows = ReturnType<typeof createFlows>
