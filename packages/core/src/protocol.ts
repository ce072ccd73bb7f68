// The messages between a page and the engine that owns the session (in a token worker or in the
// page). One version, one union each way, one parse function at each end: anything else is
// dropped. Any page script can open a port to the token worker, so a request can ask for nothing
// the page could not get from `auth.getAccessToken()`, and no message ever carries a refresh token.
import type { AuthorizationServer } from 'oauth4webapi'
import { AuthError, type AuthErrorCode } from './errors.js'
import type { AuthEvent, RefreshReason } from './events.js'
import type { User } from './types.js'

/** The protocol's version: a page and a worker of different versions ignore each other. */
export const VERSION = 1

/**
 * What the engine needs to know of the client: plain data, so that it can travel in a token
 * worker's name (which is what makes the worker; see `workerName`).
 */
export interface EngineConfig {
  issuer: string
  clientId: string
  redirectUri: string
  /** A light page for silent sign-in frames, registered at the provider beside `redirectUri`. */
  silentRedirectUri?: string | undefined
  scope: string
  /** Sent with every authorization request, beneath a request's own `extraParams`. */
  authorizationParams?: Record<string, string> | undefined
  refreshLeeway: number
  requestTimeout: number
  clockTolerance: number
  allowInsecure: boolean
  /** Which metadata document to read: both in turn by default. */
  discovery?: 'oidc' | 'oauth2' | undefined
  metadata?: AuthorizationServer | undefined
  /** Bind the tokens to a key of the browser's (DPoP, RFC 9449). */
  dpop?: boolean | undefined
  /** Send the ID token as `id_token_hint` at sign-out: the app's choice, never a message's. */
  idTokenHint?: boolean | undefined
  /**
   * The APIs with a token of their own, by name: the parameters of the refresh-token grant that
   * asks for it (`resource`, `audience` or `scope`). Which URLs each token goes to is the page's.
   */
  apis?: Record<string, ApiGrant> | undefined
}

/** How one API's token is asked for: exactly one of these. */
export interface ApiGrant {
  /** RFC 8707 resource indicator: also sent with every authorization request. */
  resource?: string | undefined
  /** The `audience` parameter some providers take instead. */
  audience?: string | undefined
  /** A scope that names the API (`api://orders/.default`). */
  scope?: string | undefined
}

/** One API's access token, as a page sees it: like the session's, with a generation of its own. */
export interface ApiToken {
  accessToken: string
  /** Bumped on every change of this API's token. */
  generation: number
  expiresAt?: number
  /** As {@link Snapshot.refreshIn}, for this token. */
  refreshIn?: number
  /** Set by the page on receipt, as {@link Snapshot.refreshAt}. */
  refreshAt?: number
  /** Set by the page on receipt, as {@link Snapshot.refreshBy}. */
  refreshBy?: number
  /** The session's key, with DPoP: the token is bound to it too. */
  dpop?: DpopKey
}

/**
 * The DPoP key the session's tokens are bound to, for the page's proofs to the API: a
 * `CryptoKeyPair` whose private half cannot be exported, and its JWK thumbprint.
 */
export interface DpopKey {
  keys: CryptoKeyPair
  jkt: string
}

/**
 * The session as the engine shows it to a page: the access token (to attach to API requests),
 * when to ask for a new one, the user's claims and the last failure. Never a refresh token.
 */
export interface Snapshot {
  status: 'authenticated' | 'unauthenticated'
  /** Bumped on every change of tokens: a page names the token a 401 answered with it. */
  generation: number
  accessToken?: string
  /** When the access token expires (ms since the epoch, on the engine's clock). */
  expiresAt?: number
  /**
   * How long after this snapshot the engine will refresh rather than hand out this token (ms; 0
   * or less once due), measured by the engine. A wait, not a time: a worker's monotonic clock has
   * an origin of its own.
   */
  refreshIn?: number
  /** Set by the page on receipt: when `refreshIn` ends on its wall clock (ms since the epoch). */
  refreshAt?: number
  /** Set by the page on receipt: when `refreshIn` ends on its monotonic clock. */
  refreshBy?: number
  scope?: string
  user?: User
  error?: AuthError
  /** The session ended by a sign-out (not by a failure). */
  signedOut?: true
  /** The key the access token is bound to, with DPoP. */
  dpop?: DpopKey
  /** The tokens of the APIs that have one of their own (see {@link EngineConfig.apis}), by name. */
  apis?: Record<string, ApiToken>
}

/** The login transaction a page keeps across the redirect (the verifier, state and nonce). */
export interface Transaction {
  state: string
  verifier: string
  nonce: string | undefined
  redirectUri: string
  issuer: string
  clientId: string
  maxAge: number | undefined
  createdAt: number
  /** With DPoP, the thumbprint of the sign-in's key (`dpop_jkt`). */
  dpopJkt?: string | undefined
  /** The page's own: where to go afterwards. The engine never reads it. */
  returnTo?: string | undefined
}

/** Authorization request parameters a page may choose. */
export interface AuthorizeParams {
  prompt?: string | undefined
  loginHint?: string | undefined
  acrValues?: string | undefined
  maxAge?: number | undefined
  uiLocales?: string | undefined
  extraParams?: Record<string, string> | undefined
  /** Use the configured silent redirect URI (a silent sign-in frame). */
  silent?: boolean | undefined
}

/** What the engine answers `authorize` with. */
export interface Authorization {
  url: string
  transaction: Transaction
}

/** What the engine answers `logout` with. */
export interface LogoutResult {
  revoked: boolean
  /** The provider's end-session URL, when it has one. */
  endSessionUrl?: string
}

/**
 * Options of a sign-out, as a page asks for it. Whether the ID token goes along as a hint is the
 * configuration's (`idTokenHint`), not the request's: any page script could ask.
 */
export interface LogoutRequest {
  revoke: boolean
  postLogoutRedirectUri?: string | undefined
}

/** A request from a page; every one carries `v` and, when it wants an answer, an `id`. */
export type Request =
  | { type: 'hello' }
  | { type: 'token'; reason: RefreshReason; stale?: number | undefined; api?: string | undefined }
  | { type: 'check' }
  | { type: 'authorize'; params: AuthorizeParams }
  | { type: 'callback'; url: string; transaction: Transaction | null }
  | ({ type: 'logout' } & LogoutRequest)

/** What each request answers with. */
export interface Answers {
  hello: Snapshot
  token: Snapshot
  check: undefined
  authorize: Authorization
  callback: Snapshot
  logout: LogoutResult
}

/** What the engine tells every page: a new snapshot of the session, or an event. */
export type Broadcast = { type: 'session'; session: Snapshot } | { type: 'event'; event: AuthEvent }

/** A failure as it crosses a port: the fields of an {@link AuthError}, redacted already. */
export interface ErrorData {
  code: AuthErrorCode
  message: string
  oauthError?: string
  description?: string
  retryAfter?: number
  /** What the cause said (redacted already): its name and message, for whoever debugs. */
  cause?: { name: string; message: string }
}

/** A snapshot as it crosses a port. */
export type SnapshotData = Omit<Snapshot, 'error'> & { error?: ErrorData }

/** What the engine sends a page: answers, and news for every page. */
export type Message =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: ErrorData }
  | { type: 'session'; session: SnapshotData }
  | { type: 'event'; event: EventData }

/** An event as it crosses a port: errors as data. */
export type EventData = AuthEvent extends infer E
  ? E extends { error: AuthError }
    ? Omit<E, 'error'> & { error: ErrorData }
    : E
  : never

/** The wire form of a request. */
export type Wire<T> = T & { v: typeof VERSION; id?: number }

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isString = (v: unknown, max = 16_384): v is string => typeof v === 'string' && v.length <= max
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v)
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v)
const isId = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0
const REASONS = new Set(['scheduled', 'expired', 'unauthorized', 'resumed'])

function isTransaction(t: unknown): t is Transaction {
  return (
    isObject(t) &&
    ['state', 'verifier', 'redirectUri', 'issuer', 'clientId'].every((k) =>
      isString(t[k], 2_048),
    ) &&
    optional(t.nonce, (v) => isString(v, 2_048)) &&
    optional(t.maxAge, isNumber) &&
    optional(t.dpopJkt, (v) => isString(v, 128)) &&
    isNumber(t.createdAt)
  )
}

/**
 * Reads a page's request, or undefined when it is not one this engine speaks: wrong version,
 * unknown type, a field of the wrong type or size. The engine refuses those with an error when
 * they carry an id ({@link requestId}), and drops the rest.
 */
export function parseRequest(data: unknown): Wire<Request> | undefined {
  if (!isObject(data) || data.v !== VERSION || !optional(data.id, isId)) return undefined
  const valid = (() => {
    switch (data.type) {
      case 'hello':
      case 'check':
        return true
      case 'token':
        return (
          REASONS.has(data.reason as string) &&
          optional(data.stale, isId) &&
          optional(data.api, (v) => isString(v, 256))
        )
      case 'authorize':
        // Their bounds are params.ts's (`paramsProblem`), which the engine checks too.
        return isObject(data.params)
      case 'callback':
        return (
          isString(data.url, 65_536) &&
          (data.transaction === null || isTransaction(data.transaction))
        )
      case 'logout':
        // A request that asks for the ID token as a hint is refused: that is the worker's
        // configuration (its name), not any port's to choose.
        return (
          typeof data.revoke === 'boolean' &&
          !('idTokenHint' in data) &&
          optional(data.postLogoutRedirectUri, (v) => isString(v, 2_048))
        )
      default:
        return false
    }
  })()
  return valid ? (data as Wire<Request>) : undefined
}

/** The id of a message of this version, when it has one: a refusal is answered to it. */
export function requestId(data: unknown): number | undefined {
  return isObject(data) && data.v === VERSION && isId(data.id) ? (data.id as number) : undefined
}

/** An error as data, for a port. */
export function toErrorData(error: AuthError): ErrorData {
  const data: ErrorData = { code: error.code, message: error.message }
  if (error.oauthError !== undefined) data.oauthError = error.oauthError
  if (error.description !== undefined) data.description = error.description
  if (error.retryAfter !== undefined) data.retryAfter = error.retryAfter
  const { cause } = error
  if (cause instanceof Error) data.cause = { name: cause.name, message: cause.message }
  return data
}

/** The error again, on the page's side of a port. */
export function fromErrorData({ cause, ...data }: ErrorData): AuthError {
  const error = cause && Object.assign(new Error(cause.message), { name: cause.name })
  return new AuthError(data.code, data.message, error ? { ...data, cause: error } : data)
}

function isErrorData(e: unknown): e is ErrorData {
  return (
    isObject(e) &&
    isString(e.code, 64) &&
    isString(e.message) &&
    optional(e.cause, (c) => isObject(c) && isString(c.name, 256) && isString(c.message))
  )
}

function isSnapshot(s: unknown): s is SnapshotData {
  return (
    isObject(s) &&
    (s.status === 'authenticated' || s.status === 'unauthenticated') &&
    isId(s.generation) &&
    optional(s.accessToken, isString) &&
    optional(s.expiresAt, isNumber) &&
    optional(s.refreshIn, isNumber) &&
    optional(s.scope, isString) &&
    optional(s.user, isObject) &&
    optional(s.error, isErrorData) &&
    optional(s.signedOut, (v) => v === true) &&
    optional(s.dpop, (d) => isObject(d) && isString(d.jkt, 128) && isObject(d.keys)) &&
    optional(s.apis, isObject)
  )
}

/** A snapshot as data, for a port. */
export function toSnapshotData({ error, ...rest }: Snapshot): SnapshotData {
  return error ? { ...rest, error: toErrorData(error) } : rest
}

/** The snapshot (or an event) again, on the page's side: its error an {@link AuthError} again. */
export function fromSnapshotData(data: SnapshotData): Snapshot
export function fromSnapshotData(data: EventData): AuthEvent
export function fromSnapshotData(data: SnapshotData | EventData): Snapshot | AuthEvent {
  const { error, ...rest } = data as { error?: ErrorData }
  return (error ? { ...rest, error: fromErrorData(error) } : rest) as Snapshot | AuthEvent
}

/** Reads what the engine sent, or undefined when it is not a message of this version. */
export function parseMessage(data: unknown): Message | undefined {
  if (!isObject(data) || data.v !== VERSION) return undefined
  if (data.type === 'reply' && isId(data.id)) {
    return data.ok === true || (data.ok === false && isErrorData(data.error))
      ? (data as Message)
      : undefined
  }
  if (data.type === 'session') return isSnapshot(data.session) ? (data as Message) : undefined
  if (data.type === 'event') {
    const event = data.event
    return isObject(event) && isString(event.type, 64) && optional(event.error, isErrorData)
      ? (data as Message)
      : undefined
  }
  return undefined
}

const NAME_PREFIX = 'spa-auth:'

/**
 * The token worker's name: the configuration itself. A SharedWorker is found by its script URL
 * and name, so every page of one client reaches the same worker, and a page script that names
 * another configuration starts a worker of its own: no message can reconfigure ours.
 */
export function workerName(config: EngineConfig): string {
  return NAME_PREFIX + JSON.stringify(config)
}

function isConfig(c: unknown): c is EngineConfig {
  return (
    isObject(c) &&
    ['issuer', 'clientId', 'redirectUri', 'scope'].every((k) => isString(c[k], 2_048)) &&
    optional(c.silentRedirectUri, (v) => isString(v, 2_048)) &&
    ['refreshLeeway', 'requestTimeout', 'clockTolerance'].every((k) => isNumber(c[k])) &&
    typeof c.allowInsecure === 'boolean' &&
    optional(c.discovery, (v) => v === 'oidc' || v === 'oauth2') &&
    optional(c.dpop, (v) => typeof v === 'boolean') &&
    optional(c.idTokenHint, (v) => typeof v === 'boolean') &&
    optional(c.metadata, isObject) &&
    // Any value: the engine says what is wrong with it at the first sign-in.
    optional(c.authorizationParams, () => true) &&
    optional(c.apis, isObject)
  )
}

/** The configuration a token worker's name carries, or undefined when it carries none. */
export function parseWorkerName(name: string): EngineConfig | undefined {
  if (!name.startsWith(NAME_PREFIX)) return undefined
  try {
    const config: unknown = JSON.parse(name.slice(NAME_PREFIX.length))
    return isConfig(config) ? config : undefined
  } catch {
    return undefined
  }
}
