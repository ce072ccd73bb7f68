// The sign-in and sign-out flows: the login redirect, the callback hand-over, the silent sign-in,
// the way out through the provider. They run at the edges of a session only, so the page loads
// this module when it first needs one. What it needs of the page comes in through its context,
// not by import, so that no page module is split off into a chunk of its own.
import { AuthError, asAuthError } from '../errors.js'
import type { Emitter } from '../events.js'
import type { AuthorizeParams } from '../protocol.js'
import { checkedReturnTo, cleanAddressBar, sameOriginPath } from './callback.js'
import type { CallbackResult, LoginOptions, LogoutOptions } from './client.js'
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

/** The sign-in and sign-out flows of one client. */
export function createFlows(ctx: FlowContext) {
  const { options, emitter, line, leaving } = ctx
  const storage = () => options.storage()
  const callbacks = new Map<string, Promise<CallbackResult>>()
  let lastCleaned: { href: string; result: Promise<CallbackResult> } | undefined

  /** Asks the engine for an authorization request and keeps its transaction for the callback. */
  async function authorization(params: AuthorizeParams, returnTo: string | undefined) {
    const { url, transaction } = await line.request({ type: 'authorize', params })
    saveTransaction(storage(), { ...transaction, returnTo }, options.clock.now())
    return url
  }

  /** Records a failed callback beside the status it falls back to, and rejects with it. */
  function rejectCallback(caught: unknown): Promise<never> {
    const error = asAuthError(caught, 'invalid_response', 'Callback')
    // `prompt=none` found no session at the provider: signed out, and nothing went wrong.
    const quiet =
      error.code === 'authorization_error' && NO_PROVIDER_SESSION.has(error.oauthError ?? '')
    if (!quiet) {
      line.failed(error)
      emitter.emit({ type: 'error', error })
    } else if (!line.current()) line.failed()
    return Promise.reject(error)
  }

  /**
   * A provider that answers `prompt=none` with `error=login_required` and no `state` (some send
   * none) after this tab's silent redirect: signed out, quietly.
   */
  function quietNoSession(url: URL): AuthError | undefined {
    const error = url.searchParams.get('error') ?? ''
    if (url.searchParams.has('state') || !NO_PROVIDER_SESSION.has(error)) return undefined
    if (!inSilentRedirect(storage())) return undefined
    return new AuthError('authorization_error', `Silent sign-in: ${error}`, { oauthError: error })
  }

  async function completeCallback(url: URL): Promise<CallbackResult> {
    const states = url.searchParams.getAll('state')
    // Taken (and so deleted) before anything can fail: a transaction is single-use.
    const tx = states.length === 1 && states[0] ? takeTransaction(storage(), states[0]) : undefined
    // This tab came back with a response it cannot match (forged, replayed or stray): the
    // logins it was waiting for cannot return any more; end them all.
    if (!tx) clearTransactions(storage())
    try {
      // Longer than any real callback, and than a token worker reads: refused here, in the page.
      if (url.href.length > 65_536)
        throw new AuthError('callback_invalid', 'Callback rejected: the URL is too long')
      const quiet = quietNoSession(url)
      if (quiet) throw quiet
      if (tx && options.clock.now() - tx.createdAt > TRANSACTION_LIFETIME_MS) {
        throw new AuthError('callback_invalid', 'Callback rejected: the login has expired')
      }
      line.apply(await line.request({ type: 'callback', url: url.href, transaction: tx ?? null }))
      forgetSilentRedirect(storage())
      return { returnTo: tx?.returnTo === undefined ? undefined : sameOriginPath(tx.returnTo) }
    } catch (caught) {
      return rejectCallback(caught)
    }
  }

  return {
    async login(login: LoginOptions): Promise<void> {
      const { returnTo, ...params } = login
      const url = await authorization(params, checkedReturnTo(returnTo))
      // A sign-out set off meanwhile wins.
      if (!leaving.now) options.navigate(url)
    },

    handleCallback(href?: string): Promise<CallbackResult> {
      let url: URL
      try {
        url = new URL(href ?? globalThis.location?.href ?? '', globalThis.location?.href)
      } catch (cause) {
        const error = new AuthError(
          'callback_invalid',
          'Callback rejected: the URL cannot be parsed',
          {
            cause,
          },
        )
        return rejectCallback(error)
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
    },

    /** The provider's session, without a prompt: in a hidden frame, or by a redirect (once). */
    async silentSignIn(): Promise<void> {
      const { silent } = options.restore
      if (silent === 'redirect' && !silentRedirectTried(storage())) {
        const { pathname, search, hash } = globalThis.location
        leaving.now = true
        options.navigate(await authorization({ prompt: 'none' }, pathname + search + hash))
        return
      }
      if (silent !== 'iframe' || !globalThis.document?.body) return
      const { url, transaction } = await line.request({
        type: 'authorize',
        params: { prompt: 'none', silent: true },
      })
      const callback = await silentFrame(url, options)
      line.apply(await line.request({ type: 'callback', url: callback, transaction }))
    },

    /** The first status of a page with no session: the callback when it is one, else silent. */
    restore(href: string | undefined): Promise<unknown> {
      if (href && options.isCallback(new URL(href))) return this.handleCallback(href)
      return this.silentSignIn()
    },

    /**
     * After the page forgot the session: revoke, then leave through the provider's end-session.
     * Resolves to whether the page is on its way there.
     */
    async logout({ returnTo, localOnly = false, idTokenHint = false }: LogoutOptions) {
      forgetSilentRedirect(storage())
      const after = returnTo
        ? new URL(returnTo, globalThis.location?.href).href
        : options.postLogoutRedirectUri
      const result = await line.request({
        type: 'logout',
        revoke: !localOnly,
        idTokenHint,
        ...(after ? { postLogoutRedirectUri: after } : {}),
      })
      if (localOnly || !result.endSessionUrl) return false
      options.navigate(result.endSessionUrl)
      return true
    },
  }
}

/** The sign-in flows. */
export type Flows = ReturnType<typeof createFlows>
