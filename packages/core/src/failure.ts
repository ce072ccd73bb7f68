// Any failure as an AuthError that names the step: what the engine and the sign-in flows report.
// Apart from errors.ts, which the page's first script needs, so that it does not carry this.
import { AuthError, type AuthErrorCode } from './errors.js'

/**
 * `error` itself when it is an {@link AuthError}, else one with `code` whose message names the step
 * that failed and whose cause is `error`.
 */
export function asAuthError(error: unknown, code: AuthErrorCode, step: string): AuthError {
  if (error instanceof AuthError) return error
  const detail = error instanceof Error ? error.message : String(error)
  return new AuthError(code, `${step} failed: ${detail}`, { cause: error })
}
