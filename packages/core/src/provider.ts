import * as oauth from 'oauth4webapi'
import { withTimeout } from './abort.js'
import { AuthError, type AuthErrorCode } from './errors.js'
import type { ResolvedOptions } from './options.js'

/**
 * The OAuth provider as oauth4webapi sees it: metadata (discovered once), the client, and the
 * options every request carries.
 */
export function createProvider(options: ResolvedOptions) {
  const config = options.oauth!
  const client: oauth.Client = {
    client_id: config.clientId,
    [oauth.clockTolerance]: options.clockTolerance,
  }
  let metadata: Promise<oauth.AuthorizationServer> | undefined = options.metadata
    ? Promise.resolve(options.metadata)
    : undefined

  /** Options for one oauth4webapi request: our transport, our timeout, the caller's signal. */
  function requestOptions(signal: AbortSignal) {
    return {
      signal,
      [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
        options.fetch(url, init as RequestInit),
      [oauth.allowInsecureRequests]: options.allowInsecure,
    }
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
    return withTimeout(options.clock, options.requestTimeout, run, signal, label).catch(
      (error: unknown) => Promise.reject(toAuthError(error, step, endpoint)),
    )
  }

  async function discover(signal: AbortSignal): Promise<oauth.AuthorizationServer> {
    const issuer = config.issuer
    const attempt = async (algorithm: 'oidc' | 'oauth2') =>
      oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { ...requestOptions(signal), algorithm }),
      )
    try {
      return await attempt('oidc')
    } catch (error) {
      if (signal.aborted) throw error
      // Not an OpenID provider: try RFC 8414 authorization server metadata.
      return await attempt('oauth2').catch(() => Promise.reject(error))
    }
  }

  return {
    client,
    config,
    requestOptions,
    /**
     * The provider's metadata, fetched at most once; a failure is forgotten so a later call
     * tries again.
     *
     * @throws {AuthError} `discovery_failed`, `timeout`.
     */
    metadata(): Promise<oauth.AuthorizationServer> {
      metadata ??= request('Discovery', `GET ${config.issuer.href}`, undefined, discover).catch(
        (failure: AuthError) => {
          metadata = undefined
          throw failure.code === 'timeout'
            ? failure
            : new AuthError('discovery_failed', failure.message, { cause: failure.cause })
        },
      )
      return metadata
    },
    request,
  }
}

/** The provider as the client uses it. */
export type Provider = ReturnType<typeof createProvider>

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
  if (error instanceof TypeError && !(error as { code?: string }).code) return 'network'
  const status = responseOf(error)?.status
  if (status !== undefined && isTransientStatus(status)) return 'network'
  if (error instanceof oauth.AuthorizationResponseError) return 'authorization_error'
  if (error instanceof oauth.WWWAuthenticateChallengeError) return 'configuration'
  if (error instanceof oauth.ResponseBodyError) {
    if (error.error === 'invalid_client' || error.error === 'unauthorized_client')
      return 'configuration'
    return 'token_error'
  }
  // The authorization response's `iss` (RFC 9207) only; an ID token's `iss` is a bad response.
  if (error instanceof Error && /"iss" \(issuer\) (missing|response parameter)/.test(error.message))
    return 'issuer_mismatch'
  return 'invalid_response'
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
  const response = responseOf(error)
  const detail =
    typeof oauthError === 'string'
      ? oauthError
      : response
        ? `HTTP ${response.status}`
        : error instanceof Error
          ? error.message
          : String(error)
  return new AuthError(codeFor(error), `${step} failed: ${endpoint}: ${detail}`, {
    cause: error,
    retryAfter: retryAfterOf(response),
    oauthError: typeof oauthError === 'string' ? oauthError : undefined,
    description: typeof description === 'string' ? description : undefined,
  })
}

/** Failures worth another try later: the network, the provider's 5xx and 429, timeouts. */
export function isTransient(error: AuthError): boolean {
  return error.code === 'network' || error.code === 'timeout'
}
