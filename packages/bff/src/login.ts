import * as oauth from 'oauth4webapi'
import { decodeCookieJson, encodeCookieJson, hash, randomId } from './crypto.js'
import { BffFailure, cookieOf, cookiesStartingWith, failure, redirect, setCookie } from './http.js'
import type { Resolved } from './options.js'
import type { Provider } from './provider.js'
import type { Sessions } from './sessions.js'

/** A sign-in on its way through the provider, kept in the store under its `state`'s hash. */
interface Transaction {
  verifier: string
  nonce: string
  returnTo: string
  /** The hash of the secret in this browser's transaction cookie: only it may complete it. */
  binding: string
  /**
   * The store key of the session this browser had when it started (its cookie is `Strict`, so
   * the provider's cross-site redirect back does not carry it): the new sign-in replaces it.
   */
  previous: string | undefined
}

/** A sign-in that has not come back after this is forgotten. */
const TX_TTL = 10 * 60_000
const TX_COOKIE = '__Host-spa-auth-tx-'
const ERROR_COOKIE = '__Host-spa-auth-error'
// Parameters a page may pass on to the provider, and how long each may be.
const PASSED_ON: Record<string, RegExp> = {
  prompt: /^(none|login|consent|select_account|create)( (login|consent|select_account))*$/,
  login_hint: /^[^\p{Cc}]{1,256}$/u,
  acr_values: /^[!-~]{1,128}( [!-~]{1,128}){0,15}$/,
  max_age: /^\d{1,9}$/,
  ui_locales: /^[\w-]{1,35}( [\w-]{1,35}){0,9}$/,
}

const invalid = (message: string) => new BffFailure(400, 'invalid_request', message)

/** `returnTo` as a path on the app's origin; anything else is refused. */
function checkedReturnTo(o: Resolved, value: string | null): string {
  if (value === null) return '/'
  const resolved = URL.canParse(value, o.origin) ? new URL(value, o.origin) : undefined
  if (!value.startsWith('/') || value.startsWith('//') || resolved?.origin !== o.origin)
    throw invalid('Sign-in: `returnTo` must be a path on this origin, like "/orders"')
  return `${resolved.pathname}${resolved.search}${resolved.hash}`
}

/** The sign-in endpoints: `login` sends the browser to the provider, `callback` brings it back. */
export function createLogin(o: Resolved, provider: Provider, sessions: Sessions) {
  const txCookie = async (state: string) => `${TX_COOKIE}${(await hash(state)).slice(0, 16)}`

  /** GET {prefix}/login: a new transaction, bound to this browser by a cookie of its own. */
  async function login(request: Request, url: URL): Promise<Response> {
    const returnTo = checkedReturnTo(o, url.searchParams.get('returnTo'))
    const passed: Record<string, string> = {}
    for (const [name, shape] of Object.entries(PASSED_ON)) {
      const value = url.searchParams.get(name)
      if (value === null) continue
      if (!shape.test(value)) throw invalid(`Sign-in: \`${name}\` is not valid`)
      passed[name] = value
    }
    const state = oauth.generateRandomState()
    const nonce = oauth.generateRandomNonce()
    const verifier = oauth.generateRandomCodeVerifier()
    const secret = randomId()
    const id = cookieOf(request, o.cookie.name)
    const previous = id ? await hash(id) : undefined
    const tx: Transaction = { verifier, nonce, returnTo, binding: await hash(secret), previous }
    await o.store.set(`tx:${await hash(state)}`, JSON.stringify(tx), TX_TTL)
    const target = await provider.authorizationUrl({
      ...o.authorizationParams,
      ...passed,
      client_id: o.clientId,
      response_type: 'code',
      redirect_uri: o.redirectUri,
      scope: o.scope,
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const headers = new Headers()
    // A page that starts sign-ins in a loop cannot fill the browser's cookie jar.
    const open = cookiesStartingWith(request, TX_COOKIE)
    if (open.length >= 4) for (const name of open) setCookie(headers, name, '', 0, 'Lax')
    // Lax: the provider's redirect back is a cross-site navigation, which Strict would not carry.
    setCookie(headers, await txCookie(state), secret, TX_TTL / 1000, 'Lax')
    return redirect(target.href, headers)
  }

  /** The transaction this callback answers, when this browser started it; used once. */
  async function claimTransaction(request: Request, state: string, headers: Headers) {
    const key = await hash(state)
    const name = await txCookie(state)
    const secret = cookieOf(request, name)
    const [value] = await o.store.get([`tx:${key}`])
    if (!value || !secret) throw invalid('Sign-in: this browser did not start this sign-in')
    const tx = JSON.parse(value) as Transaction
    if (tx.binding !== (await hash(secret)) || !(await o.store.claim(`used:${key}`, '1', TX_TTL)))
      throw invalid('Sign-in: this browser did not start this sign-in')
    await o.store.delete(`tx:${key}`)
    setCookie(headers, name, '', 0, 'Lax')
    return tx
  }

  /** GET {prefix}/callback: the code redeemed for a new session, or the provider's error kept. */
  async function callback(request: Request, url: URL): Promise<Response> {
    const state = url.searchParams.get('state')
    if (!state || state.length > 512) throw invalid('Sign-in: the callback has no valid `state`')
    const headers = new Headers()
    const tx = await claimTransaction(request, state, headers)
    try {
      const grant = await provider.exchange(url, { state, verifier: tx.verifier, nonce: tx.nonce })
      const { id } = await sessions.create(grant)
      await endPrevious(request, tx.previous)
      setCookie(headers, o.cookie.name, id, o.absoluteTimeout / 1000, o.cookie.sameSite)
      setCookie(headers, ERROR_COOKIE, '', 0, 'Strict')
    } catch (error) {
      if (!(error instanceof BffFailure) || error.code === 'invalid_request') throw error
      // Back to the app, which hears of it from `session` (once, then the cookie is gone).
      const { code, message, details } = error
      const kept = encodeCookieJson({ code, message, ...details })
      setCookie(headers, ERROR_COOKIE, kept, 60, 'Strict')
    }
    return redirect(`${o.origin}${tx.returnTo}`, headers)
  }

  /** The browser's previous sessions, replaced by the new sign-in's (a step-up, another user). */
  async function endPrevious(request: Request, previous: string | undefined) {
    const id = cookieOf(request, o.cookie.name)
    const keys = new Set([previous, id ? await hash(id) : undefined])
    for (const key of keys) {
      if (key) await sessions.end(key, await sessions.read(key).catch(() => undefined))
    }
  }

  /** The sign-in failure the callback kept, once; `undefined` when there is none. */
  function keptFailure(request: Request, headers: Headers): Response | undefined {
    const value = cookieOf(request, ERROR_COOKIE)
    if (value === undefined) return undefined
    setCookie(headers, ERROR_COOKIE, '', 0, 'Strict')
    const kept = (decodeCookieJson(value) ?? {}) as Record<string, unknown>
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 500) : undefined)
    const oauthError = text(kept.oauthError)
    const description = text(kept.description)
    return failure(
      new BffFailure(401, 'authorization_error', text(kept.message) ?? 'Sign-in failed', {
        ...(oauthError ? { oauthError } : {}),
        ...(description ? { description } : {}),
      }),
      headers,
    )
  }

  return { login, callback, keptFailure }
}
