import type { AuthError } from './errors.js'

/** Claims about the signed-in user, from the ID token (or what a custom token source gives). */
export interface User {
  sub?: string
  name?: string
  email?: string
  [claim: string]: unknown
}

/** Where the session stands. */
export type AuthStatus = 'loading' | 'unauthenticated' | 'authenticated'

/**
 * The public state: what the UI may read. It never holds a token.
 */
export interface AuthState {
  status: AuthStatus
  /** The user's claims while authenticated. */
  user?: User
  /** When the access token expires (ms since the epoch), when the provider said. */
  expiresAt?: number
  /** The scope the provider granted, when it said. */
  scope?: string
  /** The last failure, beside the status it fell back to. */
  error?: AuthError
  /**
   * True once the user signed out (in this tab or another), until the next sign-in: say "signed
   * out" rather than send them straight back to the provider.
   */
  signedOut?: true
}
