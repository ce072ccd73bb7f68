import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { APP, ISSUER, server } from './harness.test-util.js'
import { type AuthClientOptions, AuthError, createAuthClient } from './index.js'

const valid = { issuer: ISSUER, clientId: 'spa', redirectUri: `${APP}/callback` }

/** The error `createAuthClient(options)` throws; fails the test when it throws none. */
function thrownBy(options: Record<string, unknown>): AuthError {
  let thrown: unknown
  try {
    createAuthClient(options as AuthClientOptions)
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(AuthError)
  return thrown as AuthError
}

const without = (name: keyof typeof valid) => {
  const { [name]: _, ...rest } = valid
  return rest
}

describe('createAuthClient options', () => {
  it.each([
    ['issuer', 'missing', without('issuer')],
    ['issuer', 'empty', { ...valid, issuer: '' }],
    ['issuer', 'not a string', { ...valid, issuer: 42 }],
    ['issuer', 'not an absolute URL', { ...valid, issuer: 'idp.example.com' }],
    ['issuer', 'http: on another machine', { ...valid, issuer: 'http://idp.example.com' }],
    ['issuer', 'another scheme', { ...valid, issuer: 'ftp://idp.example.com' }],
    ['clientId', 'missing', without('clientId')],
    ['clientId', 'blank', { ...valid, clientId: '  ' }],
    ['clientId', 'not a string', { ...valid, clientId: 7 }],
    ['redirectUri', 'missing', without('redirectUri')],
    ['redirectUri', 'relative', { ...valid, redirectUri: '/callback' }],
    ['redirectUri', 'on another origin', { ...valid, redirectUri: 'https://evil.example.com/cb' }],
    [
      'redirectUri',
      'on another port',
      { ...valid, redirectUri: 'https://app.example.com:8443/cb' },
    ],
    ['redirectUri', 'with a fragment', { ...valid, redirectUri: `${APP}/callback#x` }],
    [
      'apiOrigins',
      'an entry with a path',
      { ...valid, apiOrigins: ['https://api.example.com/v1'] },
    ],
    [
      'apiOrigins',
      'an entry with a query',
      { ...valid, apiOrigins: ['https://api.example.com?a'] },
    ],
    ['apiOrigins', 'an entry that is not a URL', { ...valid, apiOrigins: ['api.example.com'] }],
    ['apiOrigins', 'an entry with no origin', { ...valid, apiOrigins: ['mailto:a@example.com'] }],
    ['apiOrigins', 'a string, not an array', { ...valid, apiOrigins: 'https://api.example.com' }],
    ['scope', 'empty', { ...valid, scope: ' ' }],
    ['refreshLeeway', 'negative', { ...valid, refreshLeeway: -1 }],
    ['requestTimeout', 'not a number', { ...valid, requestTimeout: Number.NaN }],
    ['clockTolerance', 'a string', { ...valid, clockTolerance: '30' }],
    ['fetch', 'not a function', { ...valid, fetch: 'fetch' }],
    ['navigate', 'not a function', { ...valid, navigate: true }],
    ['postLogoutRedirectUri', 'not a URL', { ...valid, postLogoutRedirectUri: 'home' }],
    ['tokenSource.refresh', 'missing', { tokenSource: {} }],
  ])('rejects `%s` %s with invalid_options naming it', (name, _, options) => {
    const error = thrownBy(options)
    expect(error.code).toBe('invalid_options')
    expect(error.message).toContain(`\`${name}\``)
    expect(error.message).toMatch(/^createAuthClient: /)
  })

  it('suggests the origin when an apiOrigins entry has a path', () => {
    const error = thrownBy({ ...valid, apiOrigins: ['https://api.example.com/v1'] })
    expect(error.message).toContain('did you mean "https://api.example.com"?')
  })

  it.each([
    ['the defaults', valid],
    ['an origin with a trailing slash', { ...valid, apiOrigins: ['https://api.example.com/'] }],
    ['an origin with a port', { ...valid, apiOrigins: ['http://localhost:3000'] }],
    [
      'a token source without issuer',
      { tokenSource: { refresh: async () => ({ access_token: 'x' }) } },
    ],
    [
      'http: on another machine when allowed dangerously',
      { ...valid, issuer: 'http://idp.internal', dangerouslyAllowInsecureHttp: true },
    ],
  ])('accepts %s', (_, options) => {
    expect(() => createAuthClient(options as AuthClientOptions)).not.toThrow()
  })

  it.each(['http://localhost:8080', 'http://127.0.0.1:9000'])(
    'accepts an http: issuer on this machine (%s) and really talks to it',
    async (issuer) => {
      const navigations: string[] = []
      const auth = createAuthClient({ ...valid, issuer, navigate: (url) => navigations.push(url) })
      server.use(
        http.get(`${issuer}/.well-known/openid-configuration`, () =>
          HttpResponse.json({
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            code_challenge_methods_supported: ['S256'],
          }),
        ),
      )

      await auth.login()

      expect(new URL(navigations[0]!).origin).toBe(issuer)
    },
  )
})

describe('unknown options', () => {
  it.each([
    ['clientID', 'clientId'],
    ['client_id', 'clientId'],
    ['redirectUrl', 'redirectUri'],
    ['redirect_uri', 'redirectUri'],
    ['apiOrigin', 'apiOrigins'],
    ['scopes', 'scope'],
    ['postLogoutRedirectURI', 'postLogoutRedirectUri'],
    ['dangerouslyAllowInsecureHTTP', 'dangerouslyAllowInsecureHttp'],
  ])('rejects `%s`: did you mean `%s`?', (typo, meant) => {
    const error = thrownBy({ ...valid, [typo]: 'x' })
    expect(error.code).toBe('invalid_options')
    expect(error.message).toBe(
      `createAuthClient: unknown option \`${typo}\`: did you mean \`${meant}\`?`,
    )
  })

  it('rejects an unknown option that resembles none, without a guess', () => {
    const error = thrownBy({ ...valid, telemetryEndpoint: 'https://t.example.com' })
    expect(error.code).toBe('invalid_options')
    expect(error.message).toBe('createAuthClient: unknown option `telemetryEndpoint`.')
  })

  it('accepts every documented option', () => {
    const auth = createAuthClient({
      ...valid,
      scope: 'openid',
      apiOrigins: ['https://api.example.com'],
      postLogoutRedirectUri: `${APP}/bye`,
      refreshLeeway: 30,
      requestTimeout: 5000,
      clockTolerance: 10,
      fetch: (input, init) => fetch(input, init),
      navigate: () => {},
      storage: sessionStorage,
      clock: { now: Date.now, setTimeout, clearTimeout },
      dangerouslyAllowInsecureHttp: false,
    })
    expect(auth.getState().status).toBe('loading')
  })
})
