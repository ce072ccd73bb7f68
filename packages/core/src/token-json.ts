import { AuthError } from './errors.js'

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

/** What a grant or a refresh yields, in the SDK's words. */
export interface TokenResponse {
  accessToken: string
  /** Seconds until the access token expires; absent when the provider did not say. */
  expiresIn?: number
  refreshToken?: string
  idToken?: string
  scope?: string
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
