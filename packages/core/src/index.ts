export type { ApiOptions, ApiSet } from './client/apis.js'
export { defineApis } from './client/apis.js'
export type { AuthClient, AuthStore, StepUpOptions } from './client/client.js'
export { createAuthClient } from './client/client.js'
export type { TokenWorkerOption } from './client/link.js'
export type { AuthClientOptions, SilentMode } from './client/options.js'
export type { TransactionStorage } from './client/transaction.js'
export type { Clock } from './clock.js'
export type { AuthErrorCode, AuthErrorOptions, StepUpChallenge } from './errors.js'
export { AuthError, isAuthError } from './errors.js'
export type {
  AuthEvent,
  AuthEventListener,
  AuthEventMap,
  RefreshReason,
  TokenHolderKind,
} from './events.js'
export type { TokenJson, TokenSource } from './token-json.js'
export type {
  AuthState,
  AuthStatus,
  CallbackResult,
  LoginOptions,
  LogoutOptions,
  PopupOptions,
  User,
} from './types.js'
