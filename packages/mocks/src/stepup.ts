import type { JWTPayload } from 'jose'
import type { Session } from './store.js'

/**
 * The authentication context class of a sign-in that passed a second factor: ask for it with
 * `acr_values`, and the sensitive API route (`POST {apiOrigin}/api/transfer`) wants it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9470
 */
export const MOCK_MFA_ACR = 'urn:spa-auth:mfa'

/** The authentication context class of a sign-in with a password only. */
export const MOCK_PWD_ACR = 'urn:spa-auth:pwd'

/** Seconds since the second factor within which the sensitive API route takes a token. */
export const MOCK_STEP_UP_MAX_AGE = 300

/** What an authorization request asks of the sign-in: a second factor, a recent one. */
export interface AuthRequest {
  mfa: boolean
  /** `max_age`: seconds since the last active sign-in beyond which the user must sign in again. */
  maxAge?: number
}

/** The `acr_values` and `max_age` of an authorization request. */
export function requestedAuth(params: URLSearchParams): AuthRequest {
  const mfa = (params.get('acr_values') ?? '').split(' ').includes(MOCK_MFA_ACR)
  const maxAge = params.get('max_age') ?? ''
  return /^\d+$/.test(maxAge) ? { mfa, maxAge: Number(maxAge) } : { mfa }
}

/**
 * Whether the provider's session answers the request without the user: strong enough, and
 * recent enough (`max_age=0` never is).
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 */
export function sessionSatisfies(
  session: Session | undefined,
  wanted: AuthRequest,
  now: number,
): session is Session {
  if (!session) return false
  if (wanted.mfa && session.acr !== MOCK_MFA_ACR) return false
  const { maxAge } = wanted
  return maxAge === undefined || (maxAge > 0 && now - session.authTime <= maxAge)
}

/**
 * The challenge's parameters when an access token is not enough for the sensitive route: no
 * second factor, or one older than {@link MOCK_STEP_UP_MAX_AGE}. Undefined when it is enough.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function stepUpChallenge(claims: JWTPayload, now: number) {
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : 0
  if (claims.acr === MOCK_MFA_ACR && now - authTime <= MOCK_STEP_UP_MAX_AGE) return undefined
  return {
    error: 'insufficient_user_authentication',
    error_description:
      claims.acr === MOCK_MFA_ACR
        ? 'A more recent second factor is required'
        : 'A second factor is required',
    acr_values: MOCK_MFA_ACR,
    max_age: MOCK_STEP_UP_MAX_AGE,
  }
}
