import * as oauth from 'oauth4webapi'
import type { Clock } from '../clock.js'
import { AuthError } from '../errors.js'
import type { Authorization, AuthorizeParams, Transaction } from '../protocol.js'
import type { TokenResponse } from '../token-json.js'
import type { User } from '../types.js'
import { bearerByDefault, type DpopBinding, type Provider, toAuthError } from './provider.js'
import { type Refresher, userFromClaims } from './source.js'

/**
 * Builds the authorization request (PKCE S256, state, nonce) and the transaction the page keeps
 * across the redirect.
 *
 * @throws {AuthError} `configuration` when the provider does not offer S256 PKCE.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export async function authorize(
  provider: Provider,
  clock: Clock,
  params: AuthorizeParams,
): Promise<Authorization & { dpop?: DpopBinding | undefined }> {
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
  const { config } = provider
  const redirectUri = (params.silent && config.silentRedirectUri) || config.redirectUri
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  // A new key for every sign-in (a step-up too), made here: nothing stored is read for it.
  const dpop = provider.dpop && (await dpopKey(as, provider.dpop, state))
  const nonce = config.scope.split(' ').includes('openid') ? oauth.generateRandomNonce() : undefined
  const url = new URL(as.authorization_endpoint)
  // The parameters spa-auth sets: the extra ones cannot override them, nor add a nonce left out.
  const own: Record<string, string | undefined> = {
    client_id: config.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: config.scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    dpop_jkt: dpop?.jkt,
  }
  for (const [key, value] of Object.entries(params.extraParams ?? {})) {
    if (!Object.hasOwn(own, key)) url.searchParams.set(key, value)
  }
  const chosen = {
    ...own,
    prompt: params.prompt,
    login_hint: params.loginHint,
    acr_values: params.acrValues,
    max_age: params.maxAge === undefined ? undefined : String(params.maxAge),
    ui_locales: params.uiLocales,
  }
  for (const [key, value] of Object.entries(chosen)) {
    if (value !== undefined) url.searchParams.set(key, value)
  }
  const transaction: Transaction = {
    state,
    verifier,
    nonce,
    redirectUri,
    issuer: as.issuer,
    clientId: config.clientId,
    maxAge: params.maxAge,
    createdAt: clock.now(),
    ...(dpop ? { dpopJkt: dpop.jkt } : {}),
  }
  return { url: url.href, transaction, dpop }
}

/**
 * A new DPoP key for the sign-in of `state`; its thumbprint goes in `dpop_jkt`: the code can then
 * be redeemed with this key only (RFC 9449 §10).
 *
 * @throws {AuthError} `configuration` when the provider does not say it takes ES256 proofs:
 *   better said now than after the user signed in, and never a silent fall back to Bearer.
 */
async function dpopKey(
  as: oauth.AuthorizationServer,
  keys: NonNullable<Provider['dpop']>,
  state: string,
): Promise<DpopBinding> {
  const algs = as.dpop_signing_alg_values_supported
  if (!algs?.includes('ES256')) {
    throw new AuthError(
      'configuration',
      `The provider ${as.issuer} does not support DPoP, or not with ES256 (dpop_signing_alg_values_supported: ${algs?.join(', ') || 'none'}). Turn \`dpop\` off, or turn it on at the provider`,
    )
  }
  return keys.fresh(state)
}

/** The signed-in session a callback yields. */
export interface CallbackSession {
  tokens: TokenResponse
  user: User | undefined
  /** With DPoP, the key the code was redeemed with: the tokens are bound to it. */
  dpop?: DpopBinding | undefined
}

// Authorization response parameters in a fragment: the implicit flow, or someone's forgery.
const FRAGMENT_RESPONSE = /(^|[#&])(access_token|id_token|token|code|state)=/
const CODE = /^[\x20-\x7e]{1,8192}$/

function invalid(message: string): AuthError {
  return new AuthError('callback_invalid', `Callback rejected: ${message}`)
}

/** The `callback_invalid` refusal of a callback that no sign-in of this engine waits for. */
export const noLogin = () =>
  invalid('no login is waiting for this state (already used, expired, or not started here)')

/** The checks that need no provider: the transaction, the URL's shape. */
function checkShape(provider: Provider, url: URL, tx: Transaction | undefined) {
  const params = url.searchParams
  const states = params.getAll('state')
  if (states.length === 0 || !states[0]) throw invalid('the URL has no state parameter')
  for (const name of new Set(params.keys())) {
    if (params.getAll(name).length > 1)
      throw invalid(`the ${name} parameter is given more than once`)
  }
  if (!tx || tx.state !== states[0]) throw noLogin()
  const { clientId, redirectUri, silentRedirectUri } = provider.config
  if (
    tx.clientId !== clientId ||
    (tx.redirectUri !== redirectUri && tx.redirectUri !== silentRedirectUri)
  ) {
    throw invalid('the login was started by another client')
  }
  if (FRAGMENT_RESPONSE.test(url.hash)) {
    throw invalid('the URL fragment carries authorization response parameters')
  }
  if (params.has('access_token')) throw invalid('the URL carries an access token')
}

/** RFC 9207: the `iss` the provider sent must be its issuer, and present when it says so. */
function checkIssuer(as: oauth.AuthorizationServer, params: URLSearchParams): void {
  const iss = params.get('iss')
  if (iss === null && as.authorization_response_iss_parameter_supported) {
    throw new AuthError(
      'issuer_mismatch',
      `Callback rejected: the provider ${as.issuer} sends "iss", but the URL has none`,
    )
  }
  if (iss !== null && iss !== as.issuer) {
    throw new AuthError(
      'issuer_mismatch',
      `Callback rejected: "iss" is "${iss}", but the issuer is "${as.issuer}"`,
    )
  }
}

/**
 * Checks a callback URL against its transaction and exchanges the code, once.
 *
 * @throws {AuthError} `callback_invalid`, `issuer_mismatch`, `authorization_error`, `token_error`,
 *   `invalid_response`, `network`, `timeout`.
 * @see https://www.rfc-editor.org/rfc/rfc9207 (issuer identification)
 */
export async function exchangeCode(
  provider: Provider,
  url: URL,
  tx: Transaction | undefined,
  key: (tx: Transaction) => Promise<DpopBinding | undefined>,
): Promise<CallbackSession> {
  checkShape(provider, url, tx)
  const transaction = tx as Transaction
  const as = await provider.metadata()
  checkIssuer(as, url.searchParams)
  let validated: URLSearchParams
  try {
    validated = oauth.validateAuthResponse(as, provider.client, url.searchParams, transaction.state)
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
  const dpop = await key(transaction)
  const result = await provider.request('Code exchange', endpoint, undefined, async (signal) =>
    oauth.processAuthorizationCodeResponse(
      as,
      provider.client,
      await bearerByDefault(
        await oauth.authorizationCodeGrantRequest(
          as,
          provider.client,
          oauth.None(),
          validated,
          transaction.redirectUri,
          transaction.verifier,
          await provider.grantOptions(signal, dpop),
        ),
      ),
      {
        expectedNonce: transaction.nonce ?? oauth.expectNoNonce,
        requireIdToken: transaction.nonce !== undefined,
        maxAge: transaction.maxAge ?? oauth.skipAuthTimeCheck,
      },
    ),
  )
  const claims = oauth.getValidatedIdTokenClaims(result)
  return {
    tokens: checkedTokens(result, `Code exchange failed: ${endpoint}`, provider),
    user: claims ? userFromClaims(claims) : undefined,
    dpop,
  }
}

/**
 * The tokens of a response oauth4webapi has checked (it lowercases `token_type`), refusing any
 * type but the one asked for: Bearer, or DPoP with `dpop` on.
 */
function checkedTokens(
  result: oauth.TokenEndpointResponse,
  where: string,
  provider: Provider,
): TokenResponse {
  const { access_token, token_type, expires_in, refresh_token, id_token, scope } = result
  const wanted = provider.dpop ? 'dpop' : 'bearer'
  if (token_type !== wanted) {
    // Asked for DPoP and given Bearer: the provider ignored the proof. Never used as Bearer.
    throw new AuthError(
      wanted === 'dpop' && token_type === 'bearer' ? 'configuration' : 'invalid_response',
      wanted === 'dpop'
        ? `${where}: token_type "${token_type}", not DPoP-bound: the provider ignored the proof. Is this client set up for DPoP-bound tokens there?`
        : `${where}: token_type "${token_type}" is not Bearer`,
    )
  }
  return Object.fromEntries(
    Object.entries({
      accessToken: access_token,
      expiresIn: expires_in,
      refreshToken: refresh_token || undefined,
      idToken: id_token,
      scope,
    }).filter(([, value]) => value !== undefined),
  ) as unknown as TokenResponse
}

/**
 * The refresher for an OAuth provider: the refresh-token grant through oauth4webapi, proving the
 * key the session is bound to when it is.
 */
export function oauthRefresher(
  provider: Provider,
  currentUser: () => User | undefined,
  currentKey: () => DpopBinding | undefined,
): Refresher {
  return {
    canRefresh: (current) => current.refreshToken !== undefined,
    async refresh(current, signal, spent) {
      const as = await provider.metadata()
      const endpoint = `POST ${as.token_endpoint}`
      const result = await provider
        .request('Token refresh', endpoint, signal, async (s) => {
          const response = await oauth.refreshTokenGrantRequest(
            as,
            provider.client,
            oauth.None(),
            current.refreshToken!,
            await provider.grantOptions(s, currentKey()),
          )
          if (response.ok) spent()
          return oauth.processRefreshTokenResponse(
            as,
            provider.client,
            await bearerByDefault(response),
          )
        })
        .catch((failure: AuthError) => {
          // The provider refused the grant itself: this refresh token will never work again.
          if (failure.code !== 'token_error') throw failure
          throw new AuthError('session_expired', failure.message, {
            cause: failure,
            oauthError: failure.oauthError,
            description: failure.description,
          })
        })
      const tokens = checkedTokens(result, `Token refresh failed: ${endpoint}`, provider)
      const claims = oauth.getValidatedIdTokenClaims(result)
      if (!claims) return { tokens }
      const user = currentUser()
      if (user && (claims.sub !== user.sub || claims.iss !== user.iss)) {
        throw new AuthError(
          'invalid_response',
          `Token refresh failed: ${endpoint}: the new ID token names another user (sub or iss changed)`,
        )
      }
      return { tokens, user: userFromClaims(claims) }
    },
  }
}
