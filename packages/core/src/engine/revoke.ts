import * as oauth from 'oauth4webapi'
import type { Provider } from './provider.js'
import type { TokenSet } from './tokens.js'

/** What revocation reads of a session's tokens, or of a grant's answer. */
type Credentials = Pick<TokenSet, 'accessToken'> & { refreshToken?: string | undefined }

// Three base64url parts: a self-contained token, which few providers can revoke (RFC 7009 §2.2.1).
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/

/**
 * What to revoke: the refresh token, whose revocation ends the grant and, where the provider can,
 * the access tokens issued under it (RFC 7009 §2.1); the access token only when it is the one
 * credential and is a reference the provider can look up, not a JWT it would refuse with
 * `unsupported_token_type`.
 */
function revocable(tokens: Credentials): { token: string; hint: string } | undefined {
  if (tokens.refreshToken) return { token: tokens.refreshToken, hint: 'refresh_token' }
  if (!JWT.test(tokens.accessToken)) return { token: tokens.accessToken, hint: 'access_token' }
  return undefined
}

/**
 * Revokes the session's long-lived credential at the provider's revocation endpoint. Resolves to
 * whether it is revoked (or nothing needed revoking); never rejects.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeTokens(provider: Provider, tokens: Credentials): Promise<boolean> {
  try {
    const as = await provider.metadata()
    const target = revocable(tokens)
    if (!target) return true
    if (!as.revocation_endpoint) return false
    await provider.request(
      'Revocation',
      `POST ${as.revocation_endpoint}`,
      undefined,
      async (signal) =>
        oauth.processRevocationResponse(
          await oauth.revocationRequest(as, provider.client, oauth.None(), target.token, {
            ...provider.requestOptions(signal),
            additionalParameters: { token_type_hint: target.hint },
          }),
        ),
    )
    return true
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
