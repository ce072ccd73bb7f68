import * as oauth from 'oauth4webapi'
import { BffFailure } from './http.js'
import type { Resolved } from './options.js'

/** The tokens of one grant, as a session keeps them. */
export interface Grant {
  accessToken: string
  /** Milliseconds since the epoch, on the BFF's clock. */
  expiresAt: number
  refreshToken: string | undefined
  scope: string | undefined
  /** The validated ID token's claims, on a code exchange and when a refresh returns one. */
  claims: oauth.IDToken | undefined
}

/** What the handler asks of the provider; every request bounded by `requestTimeout`. */
export type Provider = ReturnType<typeof createProvider>

/**
 * The provider as oauth4webapi sees it, for a confidential client: metadata (discovered once, a
 * failure forgotten), the client's authentication, and the grants.
 */
export function createProvider(o: Resolved) {
  const client: oauth.Client = { client_id: o.clientId }
  const auth =
    o.clientAuth.method === 'private_key_jwt'
      ? oauth.PrivateKeyJwt({
          key: o.clientAuth.key,
          ...(o.clientAuth.kid ? { kid: o.clientAuth.kid } : {}),
        })
      : o.clientAuth.method === 'client_secret_post'
        ? oauth.ClientSecretPost(o.clientAuth.secret)
        : oauth.ClientSecretBasic(o.clientAuth.secret)
  let discovered: Promise<oauth.AuthorizationServer> | undefined

  const options = () => ({
    signal: AbortSignal.timeout(o.requestTimeout),
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
      o.fetch(url, init as RequestInit),
    [oauth.allowInsecureRequests]: o.allowInsecureRequests,
  })

  /** Runs one provider request; its failure as a {@link BffFailure} that names `step`. */
  async function request<T>(step: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      throw toFailure(error, step)
    }
  }

  function metadata(): Promise<oauth.AuthorizationServer> {
    if (o.metadata) return Promise.resolve(o.metadata)
    discovered ??= request('Discovery', async () =>
      oauth.processDiscoveryResponse(o.issuer, await oauth.discoveryRequest(o.issuer, options())),
    ).catch((error: unknown) => {
      discovered = undefined
      throw error
    })
    return discovered
  }

  function toGrant(result: oauth.TokenEndpointResponse, now: number): Grant {
    return {
      accessToken: result.access_token,
      expiresAt: now + (result.expires_in ?? 300) * 1000,
      refreshToken: result.refresh_token,
      scope: result.scope,
      claims: oauth.getValidatedIdTokenClaims(result),
    }
  }

  return {
    metadata,
    /** The authorization request's URL for one sign-in. */
    async authorizationUrl(params: Record<string, string>): Promise<URL> {
      const as = await metadata()
      if (!as.authorization_endpoint)
        throw new BffFailure(503, 'unavailable', 'The provider has no authorization endpoint')
      const url = new URL(as.authorization_endpoint)
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
      // RFC 8707: every API with a resource of its own, so that its token can be asked for later.
      for (const route of o.routes)
        if (route.token?.resource) url.searchParams.append('resource', route.token.resource)
      return url
    },
    /** Checks the callback (`state`, RFC 9207 `iss`, the provider's error) and redeems its code. */
    async exchange(callback: URL, tx: { state: string; verifier: string; nonce: string }) {
      const as = await metadata()
      let checked: URLSearchParams
      try {
        checked = oauth.validateAuthResponse(as, client, callback, tx.state)
      } catch (error) {
        if (error instanceof oauth.AuthorizationResponseError) throw toFailure(error, 'Sign-in')
        // A callback that is not this sign-in's answer (another issuer, a mixed-up state).
        throw new BffFailure(400, 'invalid_request', `Sign-in: ${(error as Error).message}`)
      }
      const now = o.clock()
      return request('Code exchange: POST token endpoint', async () => {
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth,
          checked,
          o.redirectUri,
          tx.verifier,
          options(),
        )
        const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
          expectedNonce: tx.nonce,
          requireIdToken: true,
        })
        return toGrant(result, now)
      })
    },
    /**
     * A refresh-token grant, with `params` for one API's token (`resource`, `audience`, `scope`);
     * the provider may rotate the refresh token.
     */
    async refresh(refreshToken: string, params?: Record<string, string>): Promise<Grant> {
      const as = await metadata()
      const now = o.clock()
      return request('Token refresh: POST token endpoint', async () => {
        const response = await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, {
          ...options(),
          ...(params ? { additionalParameters: params } : {}),
        })
        return toGrant(await oauth.processRefreshTokenResponse(as, client, response), now)
      })
    },
    /** RFC 7009, best effort: a provider without the endpoint, or down, is not a failed sign-out. */
    async revoke(token: string): Promise<void> {
      const as = await metadata().catch(() => undefined)
      if (!as?.revocation_endpoint) return
      await oauth
        .revocationRequest(as, client, auth, token, options())
        .then(oauth.processRevocationResponse)
        .catch(() => undefined)
    },
    /** RP-initiated logout's URL, without `id_token_hint` (the page would read it). */
    async endSessionUrl(): Promise<string | undefined> {
      const as = await metadata().catch(() => undefined)
      if (!as?.end_session_endpoint) return undefined
      const url = new URL(as.end_session_endpoint)
      url.searchParams.set('client_id', o.clientId)
      url.searchParams.set('post_logout_redirect_uri', o.postLogoutRedirectUri)
      return url.href
    },
  }
}

/** A provider request's failure as the BFF answers it. */
function toFailure(error: unknown, step: string): BffFailure {
  if (error instanceof BffFailure) return error
  if (error instanceof oauth.AuthorizationResponseError) {
    return new BffFailure(401, 'authorization_error', `${step}: ${error.error}`, {
      oauthError: error.error,
      ...(error.error_description ? { description: error.error_description } : {}),
    })
  }
  if (error instanceof oauth.ResponseBodyError) {
    // The grant is gone (expired, revoked, reused): the session is over.
    const ended = error.error === 'invalid_grant'
    return new BffFailure(
      ended ? 401 : 502,
      ended ? 'session_expired' : 'network',
      `${step}: ${error.error}`,
      { oauthError: error.error },
      { cause: error },
    )
  }
  if (error instanceof oauth.OperationProcessingError && step.startsWith('Code exchange')) {
    // The provider's answer did not hold (ID token, nonce, issuer): no session from it.
    return new BffFailure(
      401,
      'authorization_error',
      `${step}: ${error.message}`,
      {},
      { cause: error },
    )
  }
  const name = (error as { name?: string })?.name
  if (name === 'TimeoutError' || name === 'AbortError')
    return new BffFailure(504, 'timeout', `${step}: no answer in time`, {}, { cause: error })
  if (error instanceof TypeError && !(error instanceof oauth.OperationProcessingError))
    return new BffFailure(
      502,
      'network',
      `${step}: the provider did not answer`,
      {},
      { cause: error },
    )
  return new BffFailure(
    502,
    'network',
    `${step}: ${(error as Error)?.message ?? 'failed'}`,
    {},
    { cause: error },
  )
}
