// `@spa-auth/core/bff`: the client in BFF mode alone, for an app whose session lives in its
// backend-for-frontend (`@spa-auth/bff`): the same API as `@spa-auth/core`, a smaller page.
export { createBffClient as createAuthClient } from './bff/client.js'
export type { BffClientOptions, BffOptions } from './bff/options.js'
export type { AuthClient, AuthStore, StepUpOptions } from './client/client.js'
export type { Clock } from './clock.js'
export type { AuthErrorCode, AuthErrorOptions, StepUpChallenge } from './errors.js'
export { AuthError, isAuthError } from './errors.js'
export type { AuthEvent, AuthEventListener, AuthEventMap, TokenHolderKind } from './events.js'
export type {
  AuthState,
  AuthStatus,
  LoginOptions,
  LogoutOptions,
  PopupOptions,
  User,
} from './types.js'
