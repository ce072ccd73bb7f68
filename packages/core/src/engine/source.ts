import { AuthError } from '../errors.js'
import { type TokenResponse, type TokenSource, tokensFromJson } from '../token-json.js'
import type { User } from '../types.js'
import { isTransientStatus, retryAfterOf } from './provider.js'
import type { TokenSet } from './tokens.js'

/** New tokens, and the user's claims when an ID token came with them. */
export interface Refreshed {
  tokens: TokenResponse
  user?: User
}

/** How the lifecycle gets new tokens; it knows nothing of OAuth. */
export interface Refresher {
  /** Whether there is anything to refresh with. */
  canRefresh(current: TokenSet): boolean
  /**
   * One refresh. `spent` is called once the server has taken the refresh token (it answered
   * 2xx): from then on a failure must not lead to sending it again.
   */
  refresh(current: TokenSet, signal: AbortSignal, spent: () => void): Promise<Refreshed>
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

/** The refresher for a custom {@link TokenSource}. */
export function customRefresher(source: TokenSource): Refresher {
  return {
    canRefresh: () => true,
    async refresh(current, signal, spent) {
      // A failure to get an answer is the lifecycle's to wrap: a `network` error, retried.
      const answer = await source.refresh({ refreshToken: current.refreshToken, signal })
      if (!(answer instanceof Response)) {
        spent()
        return { tokens: tokensFromJson(answer, 'Token refresh failed') }
      }
      if (answer.ok) spent()
      const json = await readTokenResponse(answer)
      return { tokens: tokensFromJson(json, `Token refresh failed: ${answer.url}`) }
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
