import * as oauth from 'oauth4webapi'
import type { Clock } from '../clock.js'
import { AuthError, type AuthErrorCode } from '../errors.js'
import type { AuthEvent } from '../events.js'
import { readProof } from '../proof.js'
import type { DpopKey, EngineConfig } from '../protocol.js'
import { kept } from './kept.js'
import { withTimeout } from './timeout.js'

/** What the engine's requests run on: the transport and the clock; where its news goes. */
export interface EngineIo {
  fetch: typeof fetch
  clock: Clock
  emit?: ((event: AuthEvent) => void) | undefined
  /** Where DPoP keys wait across a redirect; default IndexedDB. */
  keys?: DpopKeyStore | undefined
}

/**
 * The OAuth provider as oauth4webapi sees it: metadata (discovered once), the client, and the
 * options every request carries.
 */
export function createProvider(config: EngineConfig, io: EngineIo) {
  const issuer = new URL(config.issuer)
  const client: oauth.Client = {
    client_id: config.clientId,
    [oauth.clockTolerance]: config.clockTolerance,
  }
  // Fetched at most once; a failure is forgotten so a later call tries again.
  const metadata = kept(() =>
    config.metadata
      ? Promise.resolve(config.metadata)
      : discover().catch((failure: AuthError) =>
          Promise.reject(
            failure.code === 'timeout'
              ? failure
              : new AuthError('discovery_failed', failure.message, { cause: failure.cause }),
          ),
        ),
  )

  const dpop = config.dpop ? createDpop(config, io.keys) : undefined

  /** Options for one oauth4webapi request: our transport, our timeout, the caller's signal. */
  function requestOptions(signal: AbortSignal) {
    return {
      signal,
      [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => {
        const proof = (init.headers as Record<string, string>).dpop
        if (proof) io.emit?.({ type: 'dpop_proof', ...readProof(proof) })
        return io.fetch(url, init as RequestInit)
      },
      [oauth.allowInsecureRequests]: config.allowInsecure,
    }
  }

  /** Options for a token request: with DPoP, a proof of `key` (the sign-in's or the session's). */
  function grantOptions(signal: AbortSignal, key: DpopBinding | undefined) {
    const options = requestOptions(signal)
    if (!dpop) return options
    if (!key) throw new AuthError('configuration', 'No DPoP key to prove with')
    return { ...options, DPoP: key.handle }
  }

  /**
   * Runs one request to the provider under the client's timeout, aborting with `signal`; a
   * failure becomes an {@link AuthError} that names `step` and `endpoint`.
   */
  function request<T>(
    step: string,
    endpoint: string,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const label = `${step}: ${endpoint}`
    // A server that wants a DPoP nonce says which in its refusal; the handle keeps it for the
    // one more try RFC 9449 §8 allows. Never twice: a loop of nonces would be the server's bug.
    const once = (s: AbortSignal) =>
      run(s).catch((error: unknown) => {
        if (!oauth.isDPoPNonceError(error)) throw error
        io.emit?.({ type: 'dpop_nonce', url: endpoint.replace(/^\S+ /, '') })
        return run(s)
      })
    return withTimeout(io.clock, config.requestTimeout, once, signal, label).catch(
      (error: unknown) => Promise.reject(toAuthError(error, step, endpoint)),
    )
  }

  /** One metadata document: `GET` its well-known URL, named in the error when it fails. */
  async function read(algorithm: 'oidc' | 'oauth2'): Promise<oauth.AuthorizationServer> {
    const url = wellKnown(issuer, algorithm)
    return request('Discovery', `GET ${url}`, undefined, async (signal) =>
      oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { ...requestOptions(signal), algorithm }),
      ),
    )
  }

  async function discover(): Promise<oauth.AuthorizationServer> {
    if (config.discovery) return read(config.discovery)
    try {
      return await read('oidc')
    } catch (oidc) {
      // Not an OpenID provider: RFC 8414 authorization server metadata. Say why both failed.
      return read('oauth2').catch((oauth2: AuthError) => {
        const both = `${(oidc as AuthError).message}; ${oauth2.message.replace(/^Discovery failed: /, '')}`
        return Promise.reject(new AuthError((oidc as AuthError).code, both, { cause: oidc }))
      })
    }
  }

  return {
    client,
    config,
    requestOptions,
    grantOptions,
    /** The DPoP key, when the client binds its tokens to one. */
    dpop,
    /**
     * The provider's metadata, fetched at most once; a failure is forgotten so a later call
     * tries again.
     *
     * @throws {AuthError} `discovery_failed`, `timeout`.
     */
    metadata: (): Promise<oauth.AuthorizationServer> => metadata(),
    request,
  }
}

/** A DPoP key with oauth4webapi's handle for it, which signs proofs and keeps each server's nonce. */
export type DpopBinding = DpopKey & { handle: oauth.DPoPHandle }

/** Where a sign-in's DPoP key waits across the redirect (IndexedDB by default; tests bring one). */
export interface DpopKeyStore {
  put(state: string, keys: CryptoKeyPair): Promise<unknown>
  /** The stored value of `state`'s sign-in, whatever it is, deleted as it is read. */
  take(state: string): Promise<unknown>
  clear(): Promise<unknown>
}

async function bind(keys: CryptoKeyPair): Promise<DpopBinding> {
  const handle = oauth.DPoP({}, keys)
  return { keys, handle, jkt: await handle.calculateThumbprint() }
}

/**
 * The client's DPoP keys: a new pair for every sign-in, made by the engine itself; kept across
 * the redirect under the sign-in's state, and read back only when it is one the engine could have
 * made and the one the sign-in named in `dpop_jkt`.
 */
function createDpop(config: EngineConfig, keys: DpopKeyStore | undefined) {
  const module = kept(() => import('./dpop.js'))
  const store = kept(async () => keys ?? (await module()).createKeyStore(config))
  return {
    /** A new pair for the sign-in of `state`, stored for its callback. */
    async fresh(state: string): Promise<DpopBinding> {
      const binding = await bind(await (await module()).generate())
      await (await store()).put(state, binding.keys)
      return binding
    },
    /**
     * The stored pair of `state`'s sign-in; whatever else lies there is deleted all the same.
     *
     * @throws {AuthError} `callback_invalid` when it is gone, not a pair the engine makes, or not
     *   the one `jkt` names: the provider bound the code to that key, so the sign-in cannot go on.
     */
    async stored(state: string, jkt: string | undefined): Promise<DpopBinding> {
      const pair = await (await module()).checkedPair(await (await store()).take(state))
      const binding = pair && (await bind(pair))
      if (!binding || binding.jkt !== jkt) {
        throw new AuthError(
          'callback_invalid',
          'Callback rejected: the key this sign-in named for its proofs (DPoP) is gone, or is not one spa-auth made; sign in again',
        )
      }
      return binding
    },
    /** Deletes the stored pair of `state`'s sign-in (the engine had it in memory). */
    drop: (state: string) => store().then((s) => s.take(state)),
    /** Deletes every stored pair of this client. */
    forget: (): Promise<unknown> => store().then((s) => s.clear()),
  }
}

/** The provider as the engine uses it. */
export type Provider = ReturnType<typeof createProvider>

/** The metadata document's URL: OpenID's appended to the issuer, RFC 8414's inserted before it. */
function wellKnown(issuer: URL, algorithm: 'oidc' | 'oauth2'): string {
  const path = issuer.pathname.replace(/\/$/, '')
  return algorithm === 'oidc'
    ? `${issuer.origin}${path}/.well-known/openid-configuration`
    : `${issuer.origin}/.well-known/oauth-authorization-server${path}`
}

/** The HTTP response behind an oauth4webapi error, when there was one. */
function responseOf(error: unknown): Response | undefined {
  const { response, cause } = (error ?? {}) as { response?: unknown; cause?: unknown }
  if (response instanceof Response) return response
  return cause instanceof Response ? cause : undefined
}

/** Statuses worth another try later: the server's 5xx, 429 (too many requests), 408 (timeout). */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}

/** The seconds a response's `Retry-After` asks to wait, when it says in seconds. */
export function retryAfterOf(response: Response | undefined): number | undefined {
  const header = response?.headers.get('retry-after')
  const seconds = header == null ? Number.NaN : Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined
}

function codeFor(error: unknown): AuthErrorCode {
  if (error instanceof AuthError) return error.code
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'timeout'
  // A nonce refused again after the retry: the server's state, not the grant's; try later.
  if (oauth.isDPoPNonceError(error)) return 'network'
  if (error instanceof TypeError && !(error as { code?: string }).code) return 'network'
  const status = responseOf(error)?.status
  if (status !== undefined && (status === 0 || isTransientStatus(status))) return 'network'
  if (error instanceof oauth.AuthorizationResponseError) return 'authorization_error'
  if (error instanceof oauth.WWWAuthenticateChallengeError) return 'configuration'
  if (error instanceof oauth.ResponseBodyError) {
    // A proof refused is this client's doing (a clock far off, a key the provider will not
    // take), not the grant's: the refresh token stays, unspent.
    if (['invalid_client', 'unauthorized_client', 'invalid_dpop_proof'].includes(error.error))
      return 'configuration'
    return 'token_error'
  }
  // The authorization response's `iss` (RFC 9207) only; an ID token's `iss` is a bad response.
  if (error instanceof Error && /"iss" \(issuer\) (missing|response parameter)/.test(error.message))
    return 'issuer_mismatch'
  return 'invalid_response'
}

/** What went wrong, in a few words: the OAuth error, the content type, the status, or the message. */
function detailOf(error: unknown, oauthError: unknown): string {
  if (typeof oauthError === 'string') return oauthError
  const response = responseOf(error)
  const code = (error as { code?: unknown } | undefined)?.code
  if (response && code === oauth.RESPONSE_IS_NOT_JSON) {
    const type = response.headers.get('content-type')
    return `HTTP ${response.status}, not JSON (${type ? `content-type ${type}` : 'no content-type'})`
  }
  // A request that got no answer at all: the browser says no more, for privacy.
  if (response?.status === 0 || (error instanceof TypeError && !code)) {
    return 'no response (offline, or blocked by CORS)'
  }
  // A metadata document of another issuer: both values, so that the one to fix can be seen.
  const { attribute, body, expected } = ((error as { cause?: unknown })?.cause ?? {}) as {
    attribute?: unknown
    body?: { issuer?: unknown }
    expected?: unknown
  }
  if (code === oauth.JSON_ATTRIBUTE_COMPARISON && attribute === 'issuer') {
    return `the document's issuer is ${JSON.stringify(body?.issuer)}, but the client's is ${JSON.stringify(expected)}`
  }
  if (response) return `HTTP ${response.status}`
  return error instanceof Error ? error.message : String(error)
}

/**
 * Turns whatever an oauth4webapi call threw into an {@link AuthError} whose message names the step
 * and the endpoint, and whose cause is redacted.
 */
export function toAuthError(error: unknown, step: string, endpoint: string): AuthError {
  if (error instanceof AuthError) return error
  const { error: oauthError, error_description: description } = (error ?? {}) as {
    error?: unknown
    error_description?: unknown
  }
  return new AuthError(
    codeFor(error),
    `${step} failed: ${endpoint}: ${detailOf(error, oauthError)}`,
    {
      cause: error,
      retryAfter: retryAfterOf(responseOf(error)),
      oauthError: typeof oauthError === 'string' ? oauthError : undefined,
      description: typeof description === 'string' ? description : undefined,
    },
  )
}

/** Failures worth another try later: the network, the provider's 5xx and 429, timeouts. */
export function isTransient(error: AuthError): boolean {
  return error.code === 'network' || error.code === 'timeout'
}

/**
 * A token response without `token_type` read as `Bearer`: some providers leave it out, though
 * RFC 6749 §5.1 requires it. Only that field is added; oauth4webapi checks everything else, and
 * any type but the one asked for is refused (with DPoP, a response without one is refused too:
 * a DPoP-bound token says so).
 */
export async function bearerByDefault(response: Response): Promise<Response> {
  if (!response.ok || !/[/+]json\b/i.test(response.headers.get('content-type') ?? ''))
    return response
  const body = await response
    .clone()
    .json()
    .catch(() => undefined)
  if (typeof body !== 'object' || body === null || Array.isArray(body) || 'token_type' in body)
    return response
  return new Response(JSON.stringify({ ...body, token_type: 'Bearer' }), response)
}
