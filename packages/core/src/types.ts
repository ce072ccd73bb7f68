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

/** Options of `auth.login()`. */
export interface LoginOptions {
  /**
   * Where the app should go after the callback, on this page's origin (`/orders`); handed back,
   * as a path, by `handleCallback()`.
   */
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

/** The popup of `auth.loginWithPopup()` and of a step-up in a popup. */
export interface PopupOptions {
  /** CSS pixels. Default 500 × 650, centred on the page's window. */
  width?: number
  height?: number
  /**
   * Milliseconds to wait for the popup's answer. Default 5 minutes. A provider whose pages send
   * `Cross-Origin-Opener-Policy` hides the popup from the page: closing it is then seen only as
   * this timeout.
   */
  timeout?: number
}

/** Options of `auth.logout()`. */
export interface LogoutOptions {
  /** Where the provider should send the user afterwards (resolved against the page). */
  returnTo?: string
  /** Forget the session without a request or a visit to the provider (every tab's, with a shared token worker). */
  localOnly?: boolean
}

/** What `handleCallback()` resolves to. */
export interface CallbackResult {
  /** The `returnTo` given to `login()`, as a path of this origin, when one was. */
  returnTo: string | undefined
}
