/**
 * A fault the token endpoint can be made to show. `lost`: the grant is carried out (a code is
 * used, a refresh token rotated) but the answer is lost on the way back, as a network error.
 */
export type TokenFault =
  | { kind: 'network' }
  | { kind: 'hang' }
  | { kind: 'lost' }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }

/**
 * Faults the mock can be told to show; set and clear them on `provider.faults` (this realm), or
 * with `provider.setFaults()` (every realm sharing the database; no `rewrite` there).
 */
export interface MockFaults {
  /** What the token endpoint does instead of answering. */
  token?: TokenFault
  /** How many token requests `token` applies to before it clears itself; default: all. */
  tokenTimes?: number
  /** Milliseconds every token request waits before it is handled. */
  tokenDelayMs?: number
  /**
   * The sign-in page shows its form even for `prompt=none`, as a provider that ignores it does
   * (see `showProviderPage`).
   */
  promptNone?: 'form'
  /** Rewrites every successful token response (odd `expires_in`, no `refresh_token`, …). */
  rewrite?: (body: Record<string, unknown>) => Record<string, unknown>
  /**
   * The token endpoint and the API each want a DPoP proof carrying a nonce they issued: a proof
   * without the current one gets `use_dpop_nonce` and a `DPoP-Nonce` header, as does every answer
   * of that server. Rotate them with `provider.rotateDpopNonces()`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
   */
  dpopNonce?: boolean
  /**
   * Who does not understand DPoP. `provider`: discovery does not advertise it, the token
   * endpoint ignores `DPoP` headers and `dpop_jkt` and issues Bearer tokens. `api`: the API
   * answers `Authorization: DPoP` with a Bearer challenge, and takes any valid token as Bearer.
   */
  dpopUnsupported?: 'provider' | 'api'
}

/** The faults every realm sees: all but `rewrite`, a function. */
export type SharedFaults = Omit<MockFaults, 'rewrite'>

/** This realm's fault `name` if it set one, else the shared one. */
export function activeFault<K extends keyof SharedFaults>(
  realm: MockFaults,
  shared: SharedFaults,
  name: K,
): SharedFaults[K] {
  return realm[name] ?? shared[name]
}

/** The fault for this token request (this realm's, else the shared one), counted against `tokenTimes`. */
export function takeTokenFault(realm: MockFaults, shared: SharedFaults): TokenFault | undefined {
  const active = realm.token ? realm : shared
  const fault = active.token
  if (fault && active.tokenTimes !== undefined) {
    active.tokenTimes -= 1
    if (active.tokenTimes <= 0) {
      delete active.token
      delete active.tokenTimes
    }
  }
  return fault
}
