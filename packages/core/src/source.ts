import * as oauth from 'oauth4webapi'
import { AuthError } from './errors.js'
import { isTransientStatus, type Provider, retryAfterOf } from './provider.js'
import type { User } from './session.js'
import type { TokenResponse, TokenSet } from './tokens.js'

/** A token endpoint's JSON answer, as OAuth 2.0 shapes it (RFC 6749 §5.1). */
export interface TokenJson {
  access_token: string
  expires_in?: number
  refresh_token?: string
  scope?: string
  token_type?: string
}

/**
 * Where new tokens come from when they are not an OAuth provider's: your backend's own refresh
 * endpoint. `refresh` may return the endpoint's `Response` as it came (a 400, 401 or 403 ends
 * the session, a 5xx or 429 is retried with backoff) or the parsed {@link TokenJson}.
 *
 * @example
 * ```ts
 * const auth = createAuthClient({
 *   tokenSource: {
 *     refresh: ({ refreshToken, signal }) =>
 *       fetch('/auth/refresh', { method: 'POST', body: JSON.stringify({ refreshToken }), signal }),
 *   },
 * })
 * auth.setTokens(await (await fetch('/auth/login', { method: 'POST', body })).json())
 * ```
 */
export interface TokenSource {
  refresh(context: {
    /** The current refresh token, when the last answer had one. */
    refreshToken: string | undefined
    /** Aborts when the client times out, signs out, or is disposed. */
    signal: AbortSignal
  }): Promise<Response | TokenJson>
}

/** New tokens, and the user's claims when an ID token came with them. */
export interface Refreshed {
  tokens: TokenResponse
  user?: User
}

/** How the lifecycle gets new tokens; it knows nothing of OAuth. */
export interface Refresher {
  /** Whether there is anything to refresh with. */
  canRefresh(current: TokenSet): boolean
  refresh(current: TokenSet, signal: AbortSignal): Promise<Refreshed>
}

// Claims about the token rather than the user: they change with every refresh.
const PROTOCOL_CLAIMS = new Set([
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'exp',
  'iat',
  'nbf',
  'jti',
])

/**
 * Claims of an ID token that describe the user, without the ones about the token itself, so a
 * refresh that brings the same user changes nothing a component reads.
 */
export function userFromClaims(claims: Record<string, unknown>): User {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !PROTOCOL_CLAIMS.has(name)))
}

/** Reads a token endpoint's JSON into the SDK's shape. */
export function tokensFromJson(json: unknown, where: string): TokenResponse {
  const body = json as Partial<TokenJson> | null
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AuthError('invalid_response', `${where}: the answer is not a JSON object`)
  }
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new AuthError('invalid_response', `${where}: the answer has no access_token`)
  }
  if (body.token_type !== undefined && String(body.token_type).toLowerCase() !== 'bearer') {
    throw new AuthError(
      'invalid_response',
      `${where}: token_type "${body.token_type}" is not Bearer`,
    )
  }
  const tokens: TokenResponse = { accessToken: body.access_token }
  const expiresIn = Number(body.expires_in)
  if (body.expires_in !== undefined && Number.isFinite(expiresIn)) tokens.expiresIn = expiresIn
  if (typeof body.refresh_token === 'string' && body.refresh_token)
    tokens.refreshToken = body.refresh_token
  if (typeof body.scope === 'string') tokens.scope = body.scope
  return tokens
}

/** The refresher for an OAuth provider: the refresh-token grant through oauth4webapi. */
export function oauthRefresher(provider: Provider, currentUser: () => User | undefined): Refresher {
  return {
    canRefresh: (current) => current.refreshToken !== undefined,
    async refresh(current, signal) {
      const as = await provider.metadata()
      const endpoint = `POST ${as.token_endpoint}`
      const result = await provider
        .request('Token refresh', endpoint, signal, async (s) =>
          oauth.processRefreshTokenResponse(
            as,
            provider.client,
            await oauth.refreshTokenGrantRequest(
              as,
              provider.client,
              oauth.None(),
              current.refreshToken!,
              provider.requestOptions(s),
            ),
          ),
        )
        .catch((failure: AuthError) => {
          // The provider refused the grant itself: this refresh token will never work again.
          if (failure.code !== 'token_error') throw failure
          throw new AuthError('session_expired', failure.message, {
            cause: failure,
            oauthError: failure.oauthError,
          })
        })
      const tokens = checkedTokens(result, `Token refresh failed: ${endpoint}`)
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

/** The tokens of an oauth4webapi result, refusing any type but Bearer. */
export function checkedTokens(result: oauth.TokenEndpointResponse, where: string): TokenResponse {
  return {
    ...tokensFromJson(result, where),
    ...(result.id_token ? { idToken: result.id_token } : {}),
  }
}

/** The refresher for a custom {@link TokenSource}. */
export function customRefresher(source: TokenSource): Refresher {
  return {
    canRefresh: () => true,
    async refresh(current, signal) {
      // A failure to get an answer is the lifecycle's to wrap: a `network` error, retried.
      const answer = await source.refresh({ refreshToken: current.refreshToken, signal })
      if (!(answer instanceof Response))
        return { tokens: tokensFromJson(answer, 'Token refresh failed') }
      return {
        tokens: tokensFromJson(
          await readTokenResponse(answer),
          `Token refresh failed: ${answer.url}`,
        ),
      }
    },
  }
}

async function readTokenResponse(response: Response): Promise<unknown> {
  const where = `Token refresh failed: ${response.url || 'custom token source'}: HTTP ${response.status}`
  if (isTransientStatus(response.status)) {
    throw new AuthError('network', where, { retryAfter: retryAfterOf(response) })
  }
  if (response.status >= 400) throw new AuthError('session_expired', where)
  if (!response.ok) throw new AuthError('invalid_response', where)
  try {
    return await response.json()
  } catch (error) {
    throw new AuthError('invalid_response', `${where}: the body is not JSON`, { cause: error })
  }
}
