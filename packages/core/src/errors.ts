/**
 * What went wrong, as a stable code to switch on. Messages may change; codes do not.
 *
 * - `invalid_options`: an option given to `createAuthClient` is missing or malformed.
 * - `configuration`: the provider and the client disagree (no S256 PKCE, `invalid_client`).
 * - `discovery_failed`: the provider's metadata could not be fetched or read.
 * - `callback_invalid`: the redirect back from the provider is not one this client started
 *   (missing or unknown `state`, a parameter twice, a token in the URL, no stored transaction).
 * - `issuer_mismatch`: the callback's `iss` is not the configured issuer (mix-up attack).
 * - `authorization_error`: the provider answered the authorization request with an OAuth error;
 *   see {@link AuthError.oauthError}.
 * - `token_error`: the token endpoint refused a grant with an OAuth error.
 * - `invalid_response`: a response broke the protocol (wrong shape, bad ID token, a redirect).
 * - `session_expired`: the refresh token is no longer accepted; the user must sign in again.
 * - `network`: a transient failure (network, 5xx, 429) that outlasted the retries.
 * - `timeout`: a request to the provider took longer than `requestTimeout`.
 * - `login_required`: no session: the call needs a signed-in user; also a sign-in whose code
 *   exchange a sign-out overtook (the sign-out stands).
 * - `step_up_required`: the API asks for a stronger sign-in (RFC 9470); pass
 *   {@link AuthError.challenge} to `auth.stepUp()`.
 * - `popup_blocked`: the browser did not open the sign-in popup (call it in a click handler,
 *   before any `await`).
 * - `popup_closed`: the user closed the sign-in popup, or a newer popup sign-in replaced it.
 */
export type AuthErrorCode =
  | 'invalid_options'
  | 'configuration'
  | 'discovery_failed'
  | 'callback_invalid'
  | 'issuer_mismatch'
  | 'authorization_error'
  | 'token_error'
  | 'invalid_response'
  | 'session_expired'
  | 'network'
  | 'timeout'
  | 'login_required'
  | 'step_up_required'
  | 'popup_blocked'
  | 'popup_closed'

/** Options of {@link AuthError} beyond its code and message. */
export interface AuthErrorOptions {
  /** The underlying error; redacted of anything that looks like a token before it is kept. */
  cause?: unknown
  /** The OAuth `error` code the provider sent, when it sent one. */
  oauthError?: string | undefined
  /** The provider's `error_description`: text to show as text, never as HTML. */
  description?: string | undefined
  /** Seconds the server asked to wait before trying again (`Retry-After`). */
  retryAfter?: number | undefined
  /** What a `step_up_required` API asked for. */
  challenge?: StepUpChallenge | undefined
}

/**
 * What an API asked for in an `insufficient_user_authentication` challenge (RFC 9470): the
 * authentication context classes, and how recent the sign-in must be, in seconds.
 */
export interface StepUpChallenge {
  /** The authentication context classes the API accepts, space-separated (`acr_values`). */
  acrValues?: string
  /** The most seconds since the user last authenticated that the API accepts (`max_age`). */
  maxAge?: number
}

/**
 * The one error type spa-auth throws. Switch on {@link AuthError.code}.
 *
 * @example
 * ```ts
 * try { await auth.handleCallback() } catch (e) {
 *   if (e instanceof AuthError && e.oauthError === 'access_denied') showNotice('Sign-in cancelled')
 * }
 * ```
 */
export class AuthError extends Error {
  override name = 'AuthError'
  // Declared only: the constructor sets every one of them, in this order, so a field of its own
  // would add nothing but its name to the page's script.
  /** The stable code of this failure. */
  declare readonly code: AuthErrorCode
  /** The OAuth `error` code from the provider, when there was one. */
  declare readonly oauthError: string | undefined
  /** The provider's `error_description`, when there was one. */
  declare readonly description: string | undefined
  /** Seconds the server asked to wait before trying again, when it said. */
  declare readonly retryAfter: number | undefined
  /** With `step_up_required`: what the API asked for; hand it to `auth.stepUp()`. */
  declare readonly challenge: StepUpChallenge | undefined

  constructor(code: AuthErrorCode, message: string, options: AuthErrorOptions = {}) {
    super(redactText(message), options.cause === undefined ? {} : { cause: redact(options.cause) })
    this.code = code
    this.oauthError = options.oauthError
    this.description = options.description && redactText(options.description)
    this.retryAfter = options.retryAfter
    this.challenge = options.challenge
  }
}

/** True when `value` is an {@link AuthError}, optionally with one of the given codes. */
export function isAuthError(value: unknown, ...codes: AuthErrorCode[]): value is AuthError {
  return value instanceof AuthError && (codes.length === 0 || codes.includes(value.code))
}

// A JWT (three base64url parts) or a long opaque string after a token-ish key. After
// `Authorization:` the value starts with its scheme (`Bearer …`): the token is the word after it.
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g
const TOKEN_FIELD =
  /((?:access|refresh|id)_token|code_verifier|authorization|bearer|dpop)(["'\s:=]+(?:(?:bearer|dpop|basic)\s+)?)([^\s"'&,}]+)/gi

// A long run of token characters where a provider echoes an opaque token in prose ("refresh token
// 8f2Kq… is revoked"): with digits, or with capitals for a quarter or more of it among lower-case
// letters (a random token may have no digit; about 40% of its letters are capitals, where an
// option's name, `postLogoutRedirectUri`, has a few and an error code none). Dots and slashes end
// a run, so URLs, hosts and endpoints stay readable.
const OPAQUE = /[\w~+-]{20,}/g
const looksLikeToken = (run: string) =>
  /\d/.test(run) || (/[a-z]/.test(run) && run.replace(/[^A-Z]/g, '').length * 4 >= run.length)

/** Removes tokens from a piece of text. */
export function redactText(text: string): string {
  return text
    .replace(JWT, '[redacted]')
    .replace(TOKEN_FIELD, '$1$2[redacted]')
    .replace(OPAQUE, (run) => (looksLikeToken(run) ? '[redacted]' : run))
}

/**
 * A copy of an error that is safe to hand to callers and loggers: message, name and the OAuth
 * fields are kept (redacted), everything else (response bodies, headers, parsed JSON) is dropped.
 */
export function redact(error: unknown): unknown {
  if (error instanceof AuthError) return error
  if (!(error instanceof Error)) return new Error(redactText(String(error)))
  const safe = new Error(redactText(error.message))
  safe.name = error.name
  for (const key of ['code', 'error', 'error_description', 'status'] as const) {
    const value = (error as unknown as Record<string, unknown>)[key]
    if (typeof value === 'string' || typeof value === 'number') {
      Object.assign(safe, { [key]: typeof value === 'string' ? redactText(value) : value })
    }
  }
  return safe
}

// Not for importers, who import clock.js: every on-demand chunk that reads the clock throws these
// errors too, and this edge lets the bundler put both modules in one shared chunk rather than two
// (one gzip stream and one request fewer on the page's first load, ~75 B).
export { systemClock } from './clock.js'
