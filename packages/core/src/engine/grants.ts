import * as oauth from 'oauth4webapi'
import type { Clock } from '../clock.js'
import { AuthError } from '../errors.js'
import type { ApiGrant, Authorization, AuthorizeParams, Transaction } from '../protocol.js'
import type { TokenResponse } from '../token-json.js'
import type { User } from '../types.js'
import { bearerByDefault, type DpopBinding, type Provider, toAuthError } from './provider.js'
import { type Refresher, userFromClaims } from './source.js'

/** The authorization request parameters spa-auth sets: no other parameter may override them. */
const OWN = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'dpop_jkt',
] as const

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
  // The app's parameters, checked here for every page: strings, none of spa-auth's own (said,
  // where a request's are just dropped).
  const given = config.authorizationParams ?? {}
  const taken =
    typeof given !== 'object' || Array.isArray(given)
      ? ''
      : Object.entries(given).find(
          ([key, value]) => typeof value !== 'string' || (OWN as readonly string[]).includes(key),
        )?.[0]
  if (taken !== undefined) {
    throw new AuthError(
      'invalid_options',
      typeof given[taken as never] === 'string'
        ? `authorizationParams: \`${taken}\` is set by spa-auth itself`
        : '`authorizationParams` must be an object of strings',
    )
  }
  const redirectUri = (params.silent && config.silentRedirectUri) || config.redirectUri
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  // A new key for every sign-in (a step-up too), made here: nothing stored is read for it.
  const dpop = provider.dpop && (await dpopKey(as, provider.dpop, state))
  const nonce = config.scope.split(' ').includes('openid') ? oauth.generateRandomNonce() : undefined
  const url = new URL(as.authorization_endpoint)
  // The parameters spa-auth sets: the extra ones (the client's for every request, then this
  // request's) cannot override them, nor add a nonce left out.
  const own: Record<(typeof OWN)[number], string | undefined> = {
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
  const extra = { ...config.authorizationParams, ...params.extraParams }
  for (const [key, value] of Object.entries(extra)) {
    if (!(OWN as readonly string[]).includes(key)) url.searchParams.set(key, value)
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
  // Each API asked for by resource is named at sign-in, so that the grant covers it (RFC 8707).
  for (const { resource } of Object.values(config.apis ?? {})) {
    if (resource && !url.searchParams.getAll('resource').includes(resource))
      url.searchParams.append('resource', resource)
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

/** What a refresher reads of the session and does to it, beside its own token. */
export interface SessionAccess {
  /** The session's refresh token now: an API's grant may have rotated it since `current`. */
  refreshToken(): string | undefined
  /** The key the session is bound to, with DPoP. */
  key(): DpopBinding | undefined
  /** Runs one grant after every other: each may rotate the one refresh token. */
  serial<T>(grant: () => Promise<T>): Promise<T>
  /** A grant's new refresh token: the session's from now on. */
  rotate(refreshToken: string): void
}

/**
 * One refresh-token grant through oauth4webapi, with `params` for an API's token (RFC 8707
 * §2.2), after every other grant; `accept` checks the answer, and only then is the refresh token
 * rotated, before the next grant reads it. `spent` is called when the provider took the refresh
 * token but its answer was refused: it must never be sent again.
 *
 * @throws {AuthError} `session_expired` when the provider refused the grant itself.
 */
async function refreshGrant<T extends TokenResponse>(
  provider: Provider,
  session: SessionAccess,
  signal: AbortSignal,
  spent: () => void,
  accept: (result: oauth.TokenEndpointResponse, where: string) => T,
  params?: Record<string, string>,
): Promise<T> {
  const as = await provider.metadata()
  const endpoint = `POST ${as.token_endpoint}`
  const where = `Token refresh failed: ${endpoint}`
  return session
    .serial(async () => {
      const refreshToken = session.refreshToken()
      if (!refreshToken) throw new AuthError('session_expired', 'Token refresh: no refresh token')
      let taken = false
      try {
        const result = await provider.request('Token refresh', endpoint, signal, async (s) => {
          const response = await oauth.refreshTokenGrantRequest(
            as,
            provider.client,
            oauth.None(),
            refreshToken,
            {
              ...(await provider.grantOptions(s, session.key())),
              ...(params && { additionalParameters: params }),
            },
          )
          taken = response.ok
          return oauth.processRefreshTokenResponse(
            as,
            provider.client,
            await bearerByDefault(response),
          )
        })
        const tokens = accept(result, where)
        if (tokens.refreshToken) session.rotate(tokens.refreshToken)
        taken = false
        return tokens
      } finally {
        if (taken) spent()
      }
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
}

/**
 * The refresher for an OAuth provider: the refresh-token grant through oauth4webapi, proving the
 * key the session is bound to when it is.
 */
export function oauthRefresher(
  provider: Provider,
  currentUser: () => User | undefined,
  session: SessionAccess,
): Refresher {
  return {
    canRefresh: () => session.refreshToken() !== undefined,
    async refresh(_current, signal, spent) {
      let user: User | undefined
      const tokens = await refreshGrant(provider, session, signal, spent, (result, where) => {
        const tokens = checkedTokens(result, where, provider)
        const claims = oauth.getValidatedIdTokenClaims(result)
        const now = currentUser()
        if (claims && now && (claims.sub !== now.sub || claims.iss !== now.iss)) {
          throw new AuthError(
            'invalid_response',
            `${where}: the new ID token names another user (sub or iss changed)`,
          )
        }
        if (claims) user = userFromClaims(claims)
        return tokens
      })
      return user ? { tokens, user } : { tokens }
    },
  }
}

/** The audiences of a JWT access token; undefined for an opaque one (nothing to check). */
function audienceOf(token: string): string[] | undefined {
  const [, payload, , extra] = token.split('.')
  if (!payload || extra !== undefined) return undefined
  try {
    const { aud } = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')))
    return typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.map(String) : []
  } catch {
    return undefined
  }
}

/**
 * The refresher of one API's own token: a refresh-token grant for its resource, audience or
 * scope. The rotated refresh token is the session's; the grant's ID token is not this token's to
 * read. A token whose `aud` does not name the resource or audience asked for (the provider
 * ignored the parameter) is refused with `configuration`, never sent on.
 */
export function apiRefresher(
  provider: Provider,
  name: string,
  grant: ApiGrant,
  session: SessionAccess & {
    /** The provider took the session's refresh token, and its answer was refused. */
    spend(): void
  },
): Refresher {
  const params = Object.fromEntries(Object.entries(grant).filter(([, v]) => v !== undefined))
  const expected = grant.resource ?? grant.audience
  let where = ''
  return {
    canRefresh: () => session.refreshToken() !== undefined,
    async refresh(_current, signal) {
      const tokens = await refreshGrant(
        provider,
        session,
        signal,
        session.spend,
        (result, at) => {
          where = at
          return checkedTokens(result, at, provider)
        },
        params as Record<string, string>,
      )
      // After the rotation: the new refresh token is good whatever this token's audience.
      const audiences = expected === undefined ? undefined : audienceOf(tokens.accessToken)
      if (audiences && !audiences.includes(expected!)) {
        throw new AuthError(
          'configuration',
          `${where}: the token for the API "${name}" is for ${audiences.join(', ') || 'no audience'}, not ${expected}: does the provider take \`${grant.resource ? 'resource' : 'audience'}\` for this client?`,
        )
      }
      // The API's access token alone: the refresh token is the session's, the ID token its too.
      const { accessToken, expiresIn, scope } = tokens
      return { tokens: { accessToken, expiresIn, scope } as TokenResponse }
    },
  }
}
