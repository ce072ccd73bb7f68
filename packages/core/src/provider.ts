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
      metadata ??= withTimeout(
        options.clock,
        options.requestTimeout,
        discover,
        undefined,
        `Discovery: GET ${config.issuer.href}`,
      ).catch((error: unknown) => {
        metadata = undefined
        const cause = toAuthError(error, 'Discovery', `GET ${config.issuer.href}`)
        throw cause.code === 'timeout'
          ? cause
          : new AuthError('discovery_failed', cause.message, { cause: error })
      })
      return metadata
    },
    /** Runs one request to the provider under the client's timeout, aborting with `signal`. */
    request<T>(
      label: string,
      signal: AbortSignal | undefined,
      run: (signal: AbortSignal) => Promise<T>,
    ): Promise<T> {
      return withTimeout(options.clock, options.requestTimeout, run, signal, label)
    },
  }
}

/** The provider as the client uses it. */
export type Provider = ReturnType<typeof createProvider>

function statusOf(error: unknown): number | undefined {
  if (
    error instanceof oauth.ResponseBodyError ||
    error instanceof oauth.WWWAuthenticateChallengeError
  ) {
    return error.status
  }
  const cause = (error as { cause?: unknown })?.cause
  return cause instanceof Response ? cause.status : undefined
}

function codeFor(error: unknown): AuthErrorCode {
  if (error instanceof AuthError) return error.code
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'timeout'
  if (error instanceof TypeError && !(error as { code?: string }).code) return 'network'
  const status = statusOf(error)
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return 'network'
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
  const code = codeFor(error)
  const oauthError = (error as { error?: unknown })?.error
  const description = (error as { error_description?: unknown })?.error_description
  const status = statusOf(error)
  const detail =
    typeof oauthError === 'string'
      ? oauthError
      : status !== undefined
        ? `HTTP ${status}`
        : error instanceof Error
          ? error.message
          : String(error)
  const wait = retryAfterOf(error)
  return new AuthError(code, `${step} failed: ${endpoint}: ${detail}`, {
    cause: error,
    ...(wait === undefined ? {} : { retryAfter: wait }),
    ...(typeof oauthError === 'string' ? { oauthError } : {}),
    ...(typeof description === 'string' ? { description } : {}),
  })
}

/** Failures worth another try later: the network, the provider's 5xx and 429, timeouts. */
export function isTransient(error: AuthError): boolean {
  return error.code === 'network' || error.code === 'timeout'
}

function retryAfterOf(error: unknown): number | undefined {
  const cause =
    (error as { cause?: unknown; response?: unknown })?.response ??
    (error as { cause?: unknown })?.cause
  const header = cause instanceof Response ? cause.headers.get('retry-after') : null
  const seconds = header === null ? Number.NaN : Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined
}
