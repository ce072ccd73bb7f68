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
import { BLOCKED, POPUP_MARK, popupChannel, watchPopup } from './popup.js'
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
  /** Ends the popup sign-in under way, when one is. */
  cancelPopup: ((error: AuthError) => void) | undefined
}

const storage = (s: State) => s.options.storage()
const popupKey = (s: State) => `${s.options.engine?.issuer}|${s.options.engine?.clientId}`

/**
 * On a callback page with no transaction of its own (a popup's): offers the answer to the page
 * that opened the popup, which claims it only for the `state` it is waiting for. Resolves to
 * whether it was claimed. The channel works whatever the provider's opener policy.
 */
function handedToOpener(s: State, url: URL): Promise<boolean> {
  if (typeof BroadcastChannel !== 'function') return Promise.resolve(false)
  const channel = popupChannel(popupKey(s))
  const id = Math.random().toString(36).slice(2)
  const { clock } = s.options
  return new Promise((resolve) => {
    const done = (claimed: boolean) => {
      clock.clearTimeout(timer)
      channel.close()
      resolve(claimed)
    }
    channel.onmessage = ({ data }) => {
      if (data?.v === 1 && data.type === 'popup-claimed' && data.id === id) done(true)
    }
    // Long enough for an opener in the background of a busy machine to answer (over a second seen
    // in Chromium); a popup whose opener is gone waits this long before it says so.
    const timer = clock.setTimeout(() => done(false), 5_000)
    channel.postMessage({ v: 1, type: 'popup-callback', url: url.href, id })
  })
}

/** Whether this window is a sign-in popup (once: the mark is taken). */
function inPopup(): boolean {
  try {
    const marked = globalThis.sessionStorage?.getItem(POPUP_MARK) !== null
    globalThis.sessionStorage?.removeItem(POPUP_MARK)
    return marked && globalThis.sessionStorage !== undefined
  } catch {
    return false
  }
}

/** The callback URL in a popup's message, when it answers `state` on this origin; else undefined. */
function popupAnswer(data: unknown, state: string | null): string | undefined {
  const { v, type, url, id } = (data ?? {}) as Record<string, unknown>
  if (v !== 1 || type !== 'popup-callback' || typeof url !== 'string' || typeof id !== 'string')
    return undefined
  if (!state || url.length > 65_536 || !URL.canParse(url)) return undefined
  const answer = new URL(url)
  const states = answer.searchParams.getAll('state')
  const here = globalThis.location?.origin
  return answer.origin === here && states.length === 1 && states[0] === state ? url : undefined
}

/**
 * Signs in through `popup` (opened already, in the user's gesture): the authorization request
 * there, then the answer its callback page hands back, completed here. A newer popup sign-in
 * ends this one.
 */
async function popupSignIn(s: State, popup: Window | undefined, login: LoginOptions, ms = 300_000) {
  if (!s.options.engine) {
    throw new AuthError(
      'invalid_options',
      'loginWithPopup() needs `issuer`, `clientId` and `redirectUri`',
    )
  }
  if (s.leaving.now) {
    popup?.close() // a sign-out is on its way to the provider: it wins
    return
  }
  if (!popup) throw new AuthError('popup_blocked', BLOCKED)
  s.cancelPopup?.(new AuthError('popup_closed', 'Popup sign-in: a newer popup sign-in replaced it'))
  const channel = popupChannel(popupKey(s))
  const watch = watchPopup(popup, ms, s.options.clock)
  let cancel: (error: AuthError) => void = () => {}
  const ended = Promise.race([
    new Promise<never>((_, reject) => {
      cancel = reject
    }),
    watch.ended.then(({ code, message }) => Promise.reject(new AuthError(code, message))),
  ])
  s.cancelPopup = cancel
  try {
    const { returnTo: _, ...params } = checkedParams(login, 'loginWithPopup()')
    const url = await Promise.race([authorization(s, params, undefined), ended])
    const state = new URL(url).searchParams.get('state')
    const answered = new Promise<string>((resolve) => {
      channel.onmessage = ({ data }) => {
        const href = popupAnswer(data, state)
        if (!href) return
        channel.postMessage({ v: 1, type: 'popup-claimed', id: (data as { id: string }).id })
        resolve(href)
      }
    })
    popup.location.href = url
    const href = await Promise.race([answered, ended])
    watch.stop()
    await handleCallback(s, href)
  } catch (error) {
    // Replaced by a newer popup sign-in: the window is the newer one's now (one name for both).
    if (s.cancelPopup === cancel && !popup.closed) popup.close()
    throw error
  } finally {
    watch.stop()
    channel.close()
    if (s.cancelPopup === cancel) s.cancelPopup = undefined
  }
}

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
  // A popup's callback page: the page that opened it completes the sign-in. Asked before this
  // page's transactions are read: a browser copies the opener's session storage into a window it
  // opens, at a time of its own, and the copy may hold the opener's transaction for this sign-in.
  if (states.length === 1 && inPopup() && (await handedToOpener(s, url))) {
    globalThis.close?.()
    return { returnTo: undefined }
  }
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

/**
 * `login`, its parameters checked: said here, at once, since the engine would refuse them too
 * (an API's step-up challenge may ask for more than a sign-in can carry).
 *
 * @throws {AuthError} `invalid_options` naming the parameter.
 */
function checkedParams(login: LoginOptions, what: string): LoginOptions {
  const { returnTo: _, ...params } = login
  const problem = paramsProblem(params)
  if (problem) {
    throw new AuthError(
      'invalid_options',
      `${what}: \`${problem}\` is out of bounds: strings of at most ${PARAM_MAX} characters, at most ${EXTRA_PARAMS_MAX} extra parameters, \`maxAge\` in whole seconds`,
    )
  }
  return login
}

/** The sign-in and sign-out flows of one client. */
export function createFlows(ctx: FlowContext) {
  const s: State = { ...ctx, callbacks: new Map(), lastCleaned: undefined, cancelPopup: undefined }
  return {
    async login(login: LoginOptions): Promise<void> {
      const { returnTo, ...params } = checkedParams(login, 'login()')
      const url = await authorization(s, params, checkedReturnTo(returnTo))
      // A sign-out set off meanwhile wins.
      if (!s.leaving.now) s.options.navigate(url)
    },
    handleCallback: (href?: string) => handleCallback(s, href),
    popup: (popup: Window | undefined, login: LoginOptions, ms?: number) =>
      popupSignIn(s, popup, login, ms),
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
