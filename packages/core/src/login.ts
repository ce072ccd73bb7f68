import * as oauth from 'oauth4webapi'
import { AuthError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { type Provider, toAuthError } from './provider.js'
import type { User } from './session.js'
import { checkedTokens, userFromClaims } from './source.js'
import type { TokenResponse } from './tokens.js'
import {
  clearTransactions,
  saveTransaction,
  TRANSACTION_LIFETIME_MS,
  takeTransaction,
} from './transaction.js'

/** Options of `auth.login()`. */
export interface LoginOptions {
  /** Where the app should go after the callback; handed back by `handleCallback()`. */
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

/** What `handleCallback()` resolves to. */
export interface CallbackResult {
  /** The `returnTo` given to `login()`, when one was. */
  returnTo: string | undefined
}

/**
 * Builds the authorization URL (PKCE S256, state, nonce) and stores the transaction.
 *
 * @throws {AuthError} `configuration` when the provider does not offer S256 PKCE.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export async function authorizationUrl(
  provider: Provider,
  options: ResolvedOptions,
  login: LoginOptions,
): Promise<string> {
  const as = await provider.metadata()
  const methods = as.code_challenge_methods_supported
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new AuthError(
      'configuration',
      `The provider ${as.issuer} does not offer PKCE with S256 (it lists ${methods.join(', ') || 'none'})`,
    )
  }
  if (!as.authorization_endpoint) {
    throw new AuthError('configuration', `The provider ${as.issuer} has no authorization_endpoint`)
  }
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const openid = options.scope.split(' ').includes('openid')
  const nonce = openid ? oauth.generateRandomNonce() : undefined
  const url = new URL(as.authorization_endpoint)
  // The parameters spa-auth sets: the extra ones cannot override them, nor add a nonce left out.
  const own: Record<string, string | undefined> = {
    client_id: provider.config.clientId,
    redirect_uri: provider.config.redirectUri,
    response_type: 'code',
    scope: options.scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }
  for (const [key, value] of Object.entries(login.extraParams ?? {})) {
    if (!Object.hasOwn(own, key)) url.searchParams.set(key, value)
  }
  const params = {
    ...own,
    prompt: login.prompt,
    login_hint: login.loginHint,
    acr_values: login.acrValues,
    max_age: login.maxAge === undefined ? undefined : String(login.maxAge),
    ui_locales: login.uiLocales,
  }
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, value)
  }
  const now = options.clock.now()
  saveTransaction(
    options.storage(),
    {
      state,
      verifier,
      nonce,
      returnTo: login.returnTo,
      issuer: as.issuer,
      clientId: provider.config.clientId,
      redirectUri: provider.config.redirectUri,
      maxAge: login.maxAge,
      createdAt: now,
    },
    now,
  )
  return url.href
}

/** The signed-in session a callback yields. */
export interface CallbackSession {
  tokens: TokenResponse
  user: User | undefined
  returnTo: string | undefined
}

// Authorization response parameters in a fragment: the implicit flow, or someone's forgery.
const FRAGMENT_RESPONSE = /(^|[#&])(access_token|id_token|token|code|state)=/
const CODE = /^[\x20-\x7e]{1,8192}$/

function invalid(message: string): AuthError {
  return new AuthError('callback_invalid', `Callback rejected: ${message}`)
}

/**
 * Checks a callback URL against its transaction and exchanges the code, once.
 *
 * @throws {AuthError} `callback_invalid`, `issuer_mismatch`, `authorization_error`, `token_error`,
 *   `invalid_response`, `network`, `timeout`.
 * @see https://www.rfc-editor.org/rfc/rfc9207 (issuer identification)
 */
export async function exchangeCallback(
  provider: Provider,
  options: ResolvedOptions,
  url: URL,
): Promise<CallbackSession> {
  const params = url.searchParams
  const states = params.getAll('state')
  const storage = options.storage()
  // Delete the transaction before anything else can fail: it is single-use, whatever happens.
  const tx = states.length === 1 && states[0] ? takeTransaction(storage, states[0]) : undefined
  // This tab left for the provider and came back with a response it cannot match (forged,
  // replayed or stray): the logins it was waiting for cannot return any more; end them all.
  if (!tx) clearTransactions(storage)
  if (states.length === 0 || !states[0]) throw invalid('the URL has no state parameter')
  for (const name of new Set(params.keys())) {
    if (params.getAll(name).length > 1)
      throw invalid(`the ${name} parameter is given more than once`)
  }
  if (!tx)
    throw invalid('no login is waiting for this state (already used, expired, or from another tab)')
  if (options.clock.now() - tx.createdAt > TRANSACTION_LIFETIME_MS)
    throw invalid('the login has expired')
  if (tx.clientId !== provider.config.clientId || tx.redirectUri !== provider.config.redirectUri) {
    throw invalid('the login was started by another client')
  }
  if (FRAGMENT_RESPONSE.test(url.hash)) {
    throw invalid('the URL fragment carries authorization response parameters')
  }
  if (params.has('access_token')) throw invalid('the URL carries an access token')

  const as = await provider.metadata()
  let validated: URLSearchParams
  try {
    validated = oauth.validateAuthResponse(as, provider.client, params, tx.state)
  } catch (error) {
    const failure = toAuthError(error, 'Callback', url.origin + url.pathname)
    if (failure.code === 'authorization_error' || failure.code === 'issuer_mismatch') throw failure
    throw new AuthError('callback_invalid', failure.message, { cause: error })
  }
  const code = validated.get('code')
  if (!code) throw invalid('the URL has no authorization code')
  // Not worth a request: a code is 1*VSCHAR (RFC 6749 A.11), and no real one is this long.
  if (!CODE.test(code)) throw invalid('the authorization code is malformed')

  const endpoint = `POST ${as.token_endpoint}`
  const result = await provider.request('Code exchange', endpoint, undefined, async (signal) =>
    oauth.processAuthorizationCodeResponse(
      as,
      provider.client,
      await oauth.authorizationCodeGrantRequest(
        as,
        provider.client,
        oauth.None(),
        validated,
        tx.redirectUri,
        tx.verifier,
        provider.requestOptions(signal),
      ),
      {
        expectedNonce: tx.nonce ?? oauth.expectNoNonce,
        requireIdToken: tx.nonce !== undefined,
        maxAge: tx.maxAge ?? oauth.skipAuthTimeCheck,
      },
    ),
  )
  const claims = oauth.getValidatedIdTokenClaims(result)
  return {
    tokens: checkedTokens(result, `Code exchange failed: ${endpoint}`),
    user: claims ? userFromClaims(claims) : undefined,
    returnTo: tx.returnTo,
  }
}

// With the tokens a forged or implicit-flow response may carry: none may stay in the history.
const CALLBACK_PARAMS = [
  'access_token',
  'id_token',
  'token',
  'refresh_token',
  'code',
  'state',
  'iss',
  'session_state',
  'error',
  'error_description',
  'error_uri',
]

/**
 * Takes the callback's parameters out of the address bar, keeping the rest of the URL.
 * Returns the cleaned URL when it changed the address bar.
 */
export function cleanAddressBar(callback: URL): string | undefined {
  const { location, history } = globalThis
  if (!location?.href || typeof history?.replaceState !== 'function') return undefined
  const current = new URL(location.href)
  if (current.origin !== callback.origin || current.pathname !== callback.pathname) return undefined
  const before = current.href
  for (const name of CALLBACK_PARAMS) current.searchParams.delete(name)
  if (FRAGMENT_RESPONSE.test(current.hash)) current.hash = ''
  if (current.href === before) return undefined
  history.replaceState(history.state, '', current.href)
  return current.href
}

/** Whether a URL looks like a callback to `redirectUri`: same path, with a state or an error. */
export function isCallbackUrl(url: URL, redirectUri: string): boolean {
  const redirect = new URL(redirectUri)
  return (
    url.origin === redirect.origin &&
    url.pathname === redirect.pathname &&
    (url.searchParams.has('state') || url.searchParams.has('code') || url.searchParams.has('error'))
  )
}
