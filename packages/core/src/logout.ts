import * as oauth from 'oauth4webapi'
import type { AuthError } from './errors.js'
import type { Provider } from './provider.js'
import type { TokenSet } from './tokens.js'

/** Options of `auth.logout()`. */
export interface LogoutOptions {
  /** Where the provider should send the user afterwards (resolved against the page). */
  returnTo?: string
  /** Forget the session in this page only: no revocation, no visit to the provider. */
  localOnly?: boolean
  /**
   * Send the ID token as `id_token_hint` to the end-session endpoint, for providers that insist
   * on it. Off by default: it puts a token in a URL, and so in the browser's history.
   */
  idTokenHint?: boolean
}

/**
 * Revokes the refresh token, then the access token, at the provider's revocation endpoint.
 * Resolves to whether every revocation succeeded; never rejects.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeTokens(provider: Provider, tokens: TokenSet): Promise<boolean> {
  try {
    const as = await provider.metadata()
    if (!as.revocation_endpoint) return false
    const revoke = (token: string) =>
      provider.request('Revocation', `POST ${as.revocation_endpoint}`, undefined, async (signal) =>
        oauth.processRevocationResponse(
          await oauth.revocationRequest(as, provider.client, oauth.None(), token, {
            ...provider.requestOptions(signal),
            additionalParameters: {
              token_type_hint: token === tokens.refreshToken ? 'refresh_token' : 'access_token',
            },
          }),
        ),
      )
    // A provider that cannot revoke self-contained (JWT) access tokens says so (RFC 7009
    // §2.2.1): that token simply lives out its short lifetime.
    const cannotRevoke = (error: AuthError, token: string) =>
      token === tokens.accessToken && error.oauthError === 'unsupported_token_type'
    // The refresh token first: it is the one that outlives this page.
    let revoked = true
    for (const token of [tokens.refreshToken, tokens.accessToken]) {
      if (!token) continue
      const done = await revoke(token).then(
        () => true,
        (error: AuthError) => cannotRevoke(error, token),
      )
      revoked &&= done
    }
    return revoked
  } catch {
    return false
  }
}

/**
 * The provider's end-session URL (RP-initiated logout), or undefined when it has none.
 *
 * @see https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout
 */
export async function endSessionUrl(
  provider: Provider,
  idToken: string | undefined,
  postLogoutRedirectUri: string | undefined,
): Promise<string | undefined> {
  const as = await provider.metadata().catch(() => undefined)
  if (!as?.end_session_endpoint) return undefined
  const url = new URL(as.end_session_endpoint)
  url.searchParams.set('client_id', provider.config.clientId)
  if (idToken) url.searchParams.set('id_token_hint', idToken)
  if (postLogoutRedirectUri) url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri)
  return url.href
}
