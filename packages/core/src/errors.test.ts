import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  API,
  ISSUER,
  issuedTokens,
  placesHoldingTokens,
  rejection,
  server,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { AuthError, isAuthError } from './index.js'

const TOKEN_URL = `${ISSUER}/token`

/** A client that started a login (scope without openid) and the callback the provider sent. */
async function atCallback(scope = 'profile offline_access') {
  const ctx = setup({ scope })
  return { ...ctx, callback: await ctx.authorizeRedirect() }
}

/** The token endpoint answers with `answer` from now on. */
function tokenEndpointAnswers(answer: () => Response) {
  server.use(http.post(TOKEN_URL, answer))
}

/** Asserts that a failed code exchange left no session behind, half-made or whole. */
async function expectNoSession(ctx: Awaited<ReturnType<typeof atCallback>>, error: AuthError) {
  expect(ctx.auth.getState()).toEqual({ status: 'unauthenticated', error })
  await expect(ctx.auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  await expect(ctx.auth.fetch(`${API}/api/me`)).rejects.toMatchObject({ code: 'login_required' })
  expect(ctx.events.map((e) => e.type)).toEqual(['error'])
}

describe('token endpoint answers reach the caller as typed errors', () => {
  it.each([
    [
      '400 {error}',
      () => HttpResponse.json({ error: 'invalid_grant' }, { status: 400 }),
      'token_error',
    ],
    [
      'an HTML 502',
      () =>
        new HttpResponse('<html><body>Bad gateway</body></html>', {
          status: 502,
          headers: { 'content-type': 'text/html' },
        }),
      'network',
    ],
    [
      'a JSON array',
      () => HttpResponse.json([{ access_token: 'in-an-array' }]),
      'invalid_response',
    ],
    ['null', () => HttpResponse.json(null), 'invalid_response'],
    [
      'an HTML 200',
      () => new HttpResponse('<html></html>', { headers: { 'content-type': 'text/html' } }),
      'invalid_response',
    ],
  ])('B1: %s gives a typed error and no half-made session', async (_, answer, code) => {
    const ctx = await atCallback()
    tokenEndpointAnswers(answer)

    const error = await rejection(ctx.auth.handleCallback(ctx.callback))

    expect(error.code).toBe(code)
    expect(tokenRequests()).toBe(1)
    await expectNoSession(ctx, error)
  })

  const bearer = { access_token: 'at-1234567890', token_type: 'Bearer', expires_in: 300 }
  it.each([
    ['access_token is missing', { token_type: 'Bearer', expires_in: 300 }],
    ['access_token is empty', { ...bearer, access_token: '' }],
    ['access_token is a number', { ...bearer, access_token: 1234567890 }],
    ['token_type is a number', { ...bearer, token_type: 1 }],
    ['token_type is unknown (mac)', { ...bearer, token_type: 'mac' }],
    ['token_type is DPoP, never asked for', { ...bearer, token_type: 'DPoP' }],
  ])('B2: a token response whose %s is rejected', async (_, body) => {
    const ctx = await atCallback()
    tokenEndpointAnswers(() => HttpResponse.json(body))

    const error = await rejection(ctx.auth.handleCallback(ctx.callback))

    expect(error.code).toBe('invalid_response')
    expect(error.message).toMatch(
      /^Code exchange failed: POST https:\/\/idp\.example\.com\/token: /,
    )
    await expectNoSession(ctx, error)
  })

  it('H16: a token response without token_type is read as Bearer, at the callback and at a refresh', async () => {
    const ctx = await atCallback()
    ctx.idp.faults.rewrite = ({ token_type: _absent, ...body }) => body
    await ctx.auth.handleCallback(ctx.callback)
    expect(ctx.auth.getState().status).toBe('authenticated')
    const first = await ctx.auth.getAccessToken()

    // The refresh answers without it too: taken, and its rotated refresh token with it.
    const response = await ctx.auth.fetch(`${API}/api/me`)
    expect(response.status).toBe(200)
    await ctx.idp.revokeAccessTokens()
    expect((await ctx.auth.fetch(`${API}/api/me`)).status).toBe(200)
    expect(ctx.idp.counts.refresh).toBe(1)
    expect(await ctx.auth.getAccessToken()).not.toBe(first)
  })

  it.each(['mac', 'N_A', 'DPoP', ''])(
    'H16: a token_type of %j is still refused: only a missing one is read as Bearer',
    async (tokenType) => {
      const ctx = await atCallback()
      tokenEndpointAnswers(() => HttpResponse.json({ ...bearer, token_type: tokenType }))
      const error = await rejection(ctx.auth.handleCallback(ctx.callback))
      expect(error.code).toBe('invalid_response')
      await expectNoSession(ctx, error)
    },
  )

  it.each(['text/html', 'text/plain; charset=utf-8', undefined])(
    'H19: a token endpoint answering 200 with %s says it was not JSON, and its content type',
    async (type) => {
      const ctx = await atCallback()
      tokenEndpointAnswers(
        () =>
          // Bytes: a string body would be given text/plain.
          new HttpResponse(new TextEncoder().encode('<html><body>Sign in</body></html>'), {
            headers: type ? { 'content-type': type } : {},
          }),
      )
      const error = await rejection(ctx.auth.handleCallback(ctx.callback))
      expect(error.code).toBe('invalid_response')
      expect(error.message).toBe(
        `Code exchange failed: POST https://idp.example.com/token: HTTP 200, not JSON (${
          type ? `content-type ${type}` : 'no content-type'
        })`,
      )
    },
  )

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])(
    'B2: token_type %s is accepted in any case',
    async (tokenType) => {
      const ctx = await atCallback()
      tokenEndpointAnswers(() => HttpResponse.json({ ...bearer, token_type: tokenType }))

      await ctx.auth.handleCallback(ctx.callback)

      expect(ctx.auth.getState().status).toBe('authenticated')
      expect(await ctx.auth.getAccessToken()).toBe(bearer.access_token)
    },
  )

  it.each([302, 307])('B7: a %i from the token endpoint is not followed', async (status) => {
    const ctx = await atCallback()
    let followed = 0
    server.use(
      http.post(
        TOKEN_URL,
        () =>
          new HttpResponse(null, {
            status,
            headers: { location: 'https://collector.example.net/token' },
          }),
      ),
      http.all('https://collector.example.net/*', () => {
        followed++
        return HttpResponse.json({ access_token: 'from-the-redirect', token_type: 'Bearer' })
      }),
    )

    const error = await rejection(ctx.auth.handleCallback(ctx.callback))

    expect(followed).toBe(0)
    expect(tokenRequests()).toBe(1)
    expect(error.code).toBe('invalid_response')
    expect(error.message).toContain(`HTTP ${status}`)
    await expectNoSession(ctx, error)
  })
})

describe('error messages and redaction', () => {
  it('names the step and the endpoint: "Code exchange failed: POST …/token: invalid_grant"', async () => {
    const ctx = await atCallback()
    ctx.idp.faults.token = { kind: 'status', status: 400, body: { error: 'invalid_grant' } }

    const error = await rejection(ctx.auth.handleCallback(ctx.callback))

    expect(error.message).toBe(
      'Code exchange failed: POST https://idp.example.com/token: invalid_grant',
    )
    expect(error).toMatchObject({
      name: 'AuthError',
      code: 'token_error',
      oauthError: 'invalid_grant',
    })
    expect(isAuthError(error, 'token_error')).toBe(true)
    expect(isAuthError(error, 'network')).toBe(false)
  })

  it('H17: a failed discovery names each URL it tried and why it failed', async () => {
    const { auth } = setup()
    server.use(
      // Both discovery documents: OpenID's first, then RFC 8414's.
      http.get(`${ISSUER}/.well-known/openid-configuration`, () => HttpResponse.error()),
      http.get(`${ISSUER}/.well-known/oauth-authorization-server`, () =>
        HttpResponse.json({ error: 'oops' }, { status: 500 }),
      ),
    )

    const error = await rejection(auth.login())

    expect(error.code).toBe('discovery_failed')
    expect(error.message).toBe(
      'Discovery failed: GET https://idp.example.com/.well-known/openid-configuration: no response (offline, or blocked by CORS); ' +
        'GET https://idp.example.com/.well-known/oauth-authorization-server: HTTP 500',
    )
  })

  it.each([
    ['oauth2', '/.well-known/oauth-authorization-server'],
    ['oidc', '/.well-known/openid-configuration'],
  ] as const)(
    "H17: discovery: '%s' reads that document only, and its error names it",
    async (discovery, path) => {
      const { auth, idp, navigations } = setup({ discovery })
      const asked: string[] = []
      server.use(
        http.get(`${ISSUER}/.well-known/*`, ({ request }) => {
          asked.push(new URL(request.url).pathname)
          return HttpResponse.json(idp.metadata)
        }),
      )
      await auth.login()
      expect(asked).toEqual([path])
      expect(navigations).toHaveLength(1)

      const other = setup({ discovery })
      server.use(
        http.get(`${ISSUER}/.well-known/*`, () => new HttpResponse('<html>', { status: 404 })),
      )
      const error = await rejection(other.auth.login())
      expect(error.message).toBe(`Discovery failed: GET ${ISSUER}${path}: HTTP 404`)
    },
  )

  it.each([
    [
      'an unsupported token_type',
      { token_type: 'mac', access_token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl' },
    ],
    ['an empty token_type', { token_type: '', access_token: 'opaque-access-token-0123456789' }],
    ['an access_token of another type', { access_token: ['opaque-token-in-an-array-42'] }],
  ])(
    'F3: %s with the token in the body reaches the caller with no token in the error',
    async (_, body) => {
      const ctx = await atCallback()
      tokenEndpointAnswers(() =>
        HttpResponse.json({ ...body, refresh_token: 'opaque-refresh-token-9876543210' }),
      )

      const error = await rejection(ctx.auth.handleCallback(ctx.callback))

      expect(issuedTokens().length).toBeGreaterThan(0)
      expect(error.code).toBe('invalid_response')
      expect(error.message).toMatch(
        /^Code exchange failed: POST https:\/\/idp\.example\.com\/token: /,
      )
      expect(error.cause).toBeInstanceOf(Error)
      const secrets = ['opaque-refresh-token-9876543210', 'opaque-token-in-an-array-42']
      const everything = `${JSON.stringify(error)} ${error.stack} ${String(error.cause)} ${
        (error.cause as Error).stack
      } ${JSON.stringify(error.cause)}`
      for (const secret of secrets) expect(everything).not.toContain(secret)
      expect(
        placesHoldingTokens({
          error,
          state: ctx.auth.getState(),
          events: ctx.events,
          client: ctx.auth,
        }),
      ).toEqual([])
    },
  )

  it('F3: AuthError redacts tokens from its message, description and cause', () => {
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    const cause = Object.assign(new Error(`bad body {"access_token":"opaque-secret-123"} ${jwt}`), {
      error: 'invalid_request',
      status: 400,
      body: { access_token: 'opaque-secret-123', refresh_token: 'opaque-refresh-456' },
      response: new Response('{"refresh_token":"opaque-refresh-456"}'),
    })

    const error = new AuthError(
      'token_error',
      `Failed: Authorization: Bearer opaque-secret-123 ${jwt}`,
      {
        cause,
        description: `refresh_token=opaque-refresh-456 and ${jwt}`,
      },
    )

    const serialized = JSON.stringify({
      message: error.message,
      description: error.description,
      stack: error.stack,
      cause: error.cause,
      causeMessage: (error.cause as Error).message,
      causeStack: (error.cause as Error).stack,
    })
    for (const secret of ['opaque-secret-123', 'opaque-refresh-456', jwt]) {
      expect(serialized).not.toContain(secret)
    }
    expect(error.cause).toMatchObject({ error: 'invalid_request', status: 400 })
    expect(error.cause).not.toHaveProperty('body')
    expect(error.cause).not.toHaveProperty('response')
  })

  it.each([
    ['letters of both cases and an underscore', 'Hs_GslapOallpFQrAa_yvKMVpXhwuBpr'],
    ['letters and a dash', 'qWeRtYuIoPaSdFgHjKlZ-xCvBnM'],
    ['digits and lower-case letters', '8f2kq0d9x7c6v5b4n3m2l1k0'],
  ])(
    'H11: an opaque token of %s echoed in prose is redacted; error codes and words stay',
    (_, token) => {
      const error = new AuthError('token_error', `Token refresh failed: ${token} is revoked`, {
        description: `The refresh token ${token} was revoked: insufficient_user_authentication`,
      })
      expect(`${error.message} ${error.description}`).not.toContain(token)
      expect(error.description).toBe(
        'The refresh token [redacted] was revoked: insufficient_user_authentication',
      )
    },
  )

  it('H11: names in messages stay readable: options, acronyms, error codes', () => {
    const names =
      'postLogoutRedirectUri dangerouslyAllowInsecureHTTP insufficient_user_authentication'
    expect(new AuthError('invalid_options', names).message).toBe(names)
  })

  it('F2: after sign-in, neither the public state nor the client serializes a token', async () => {
    const ctx = setup()
    await ctx.signIn()
    await ctx.auth.fetch(`${API}/api/me`)
    const tokens = issuedTokens()
    expect(tokens.length).toBeGreaterThanOrEqual(3)

    const serialized = [
      JSON.stringify(ctx.auth.getState()),
      JSON.stringify(ctx.auth),
      JSON.stringify(ctx.auth.store.getState()),
      JSON.stringify(ctx.events),
    ]

    expect(ctx.auth.getState().status).toBe('authenticated')
    for (const token of tokens) for (const text of serialized) expect(text).not.toContain(token)
    expect(placesHoldingTokens({ state: ctx.auth.getState(), client: ctx.auth })).toEqual([])
  })
})
