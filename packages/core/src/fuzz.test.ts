import fc from 'fast-check'
import { HttpResponse, http } from 'msw'
import { afterAll, describe, expect, it } from 'vitest'
import {
  APP,
  ISSUER,
  issuedTokens,
  placesHoldingTokens,
  server,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { AuthError, type AuthErrorCode, createAuthClient } from './index.js'
import { outcome, simClock } from './sim.test-util.js'

// Fixed, printed, and overridable: FUZZ_SEED=… reproduces a run; fast-check prints the
// counterexample and its path when a property fails.
const SEED = Number(process.env.FUZZ_SEED ?? 20_250_917)
const RUNS = {
  callbacksReal: 150,
  callbacksRandom: 600,
  responses: 300,
  origins: 9_000,
}
const figures = { callbacks: 0, responses: 0, origins: 0, violations: 0 }
const TOKEN = `${ISSUER}/token`
const MAX_TIMER_DELAY = 2 ** 31 - 1
const CALLBACK_CODES: AuthErrorCode[] = [
  'callback_invalid',
  'issuer_mismatch',
  'authorization_error',
  'token_error',
  'invalid_response',
]

afterAll(() => {
  const total = figures.callbacks + figures.responses + figures.origins
  console.log(
    `fuzz figures: seed=${SEED} callbacks=${figures.callbacks} responses=${figures.responses} ` +
      `origins=${figures.origins} total=${total} violations=${figures.violations}`,
  )
})

/** Counts a failed property as a violation before fast-check reports it. */
async function check<T>(name: keyof typeof figures, run: () => Promise<T>): Promise<T> {
  figures[name] += 1
  try {
    return await run()
  } catch (error) {
    figures.violations += 1
    throw error
  }
}

/** Token requests seen on the mock network, whoever answers them. */
const text = (max: number) => fc.string({ unit: 'binary', maxLength: max })
const nasty = fc.oneof(
  text(40),
  fc.constantFrom('', '\u0000', 'a\u0000b', '%00', '#', '&state=x', '..', '<script>x</script>'),
  fc.nat({ max: 3 }).map((n) => 'x'.repeat([70_000, 9_000, 8_193, 1][n]!)),
)

describe('A: fuzzed callback URLs', () => {
  // A real login's callback, then one or more adversarial edits; the oracle knows which edits
  // must be rejected before the token endpoint and which only the provider can refuse.
  const edits = fc.constantFrom(
    'none',
    'dropState',
    'wrongState',
    'duplicate',
    'wrongIss',
    'dropIss',
    'error',
    'tokenInQuery',
    'tokenInFragment',
    'nulCode',
    'hugeCode',
    'emptyCode',
    'otherCode',
    'harmlessParam',
  )
  type Edit = typeof edits extends fc.Arbitrary<infer E> ? E : never
  const PROVIDER_REFUSES = new Set<Edit>(['otherCode'])
  const HARMLESS = new Set<Edit>(['none', 'harmlessParam'])

  function apply(url: URL, edit: Edit, value: string, token: string): unknown {
    const p = url.searchParams
    switch (edit) {
      case 'dropState':
        return p.delete('state')
      case 'wrongState':
        return p.set('state', value || 'x')
      case 'duplicate':
        return p.append(['state', 'code', 'iss'][value.length % 3]!, value)
      case 'wrongIss':
        return p.set('iss', `https://evil.example/${encodeURIComponent(value)}`)
      case 'dropIss':
        return p.delete('iss')
      case 'error':
        p.set('error', value || 'access_denied')
        return p.set('error_description', `${value} ${token}`)
      case 'tokenInQuery':
        return p.set(['access_token', 'id_token', 'token'][value.length % 3]!, token)
      case 'tokenInFragment':
        url.hash = `access_token=${token}&state=${p.get('state')}`
        return
      case 'nulCode':
        return p.set('code', `${p.get('code')}\u0000`)
      case 'hugeCode':
        return p.set('code', 'c'.repeat(65_536))
      case 'emptyCode':
        return p.set('code', '')
      case 'otherCode':
        return p.set('code', `x${Math.abs(value.length)}-${p.get('code')!.slice(1)}`)
      case 'harmlessParam':
        return p.set('utm_source', value)
      default:
        return undefined
    }
  }

  it('A1: A2: A3: A4: A5: A6: A10: A11: F1: edited real callbacks: only AuthError escapes, 0 token requests unless the code is plausible, no token leaks', async () => {
    const { auth, events, authorizeRedirect, signIn } = setup()
    // A session to protect, so "no token anywhere" has tokens to look for.
    await signIn()
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(edits, { maxLength: 3 }), nasty, async (list, value) =>
        check('callbacks', async () => {
          const url = new URL(await authorizeRedirect())
          const token = issuedTokens()[0]!
          for (const edit of list) apply(url, edit, value, token)
          history.replaceState(null, '', url.href)
          const before = tokenRequests()
          const result = await auth.handleCallback().then(
            () => undefined,
            (error: unknown) => error,
          )
          const requests = tokenRequests() - before
          const rejects = list.some((e) => !HARMLESS.has(e))
          const reachesProvider = list.every((e) => HARMLESS.has(e) || PROVIDER_REFUSES.has(e))
          if (rejects) {
            expect(result).toBeInstanceOf(AuthError)
            expect(CALLBACK_CODES).toContain((result as AuthError).code)
            expect(requests).toBe(reachesProvider ? 1 : 0)
          } else {
            expect(result).toBeUndefined()
            expect(requests).toBe(1)
          }
          // The transaction is single-use whatever happened, and the address bar is clean.
          expect(Object.keys(sessionStorage).filter((k) => k.startsWith('spa-auth:tx:'))).toEqual(
            [],
          )
          for (const name of ['code', 'state', 'iss', 'access_token', 'id_token', 'token']) {
            expect(new URL(location.href).searchParams.has(name)).toBe(false)
          }
          expect(
            placesHoldingTokens({ state: auth.getState(), events, error: result ?? null }),
          ).toEqual([])
        }),
      ),
      { seed: SEED, numRuns: RUNS.callbacksReal },
    )
  }, 60_000)

  it('A11: random callback URLs (unknown state): typed error, 0 token requests, session untouched', async () => {
    const { auth, events, signIn } = setup()
    await signIn()
    const signedIn = auth.getState()
    const param = fc.tuple(
      fc.constantFrom('state', 'code', 'iss', 'error', 'error_description', 'session_state', 'x'),
      nasty,
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(param, { maxLength: 8 }),
        fc.option(text(30), { nil: undefined }),
        async (params, fragment) =>
          check('callbacks', async () => {
            const url = new URL(`${APP}/callback`)
            for (const [name, value] of params) url.searchParams.append(name, value)
            if (fragment !== undefined) url.hash = fragment
            const before = tokenRequests()
            const error = await auth.handleCallback(url.href).then(
              () => undefined,
              (e: unknown) => e,
            )
            if (error === undefined) {
              // Only the address bar the sign-in cleaned: the same call again gets its outcome.
              expect(url.href).toBe(`${APP}/callback`)
            } else {
              expect(error).toBeInstanceOf(AuthError)
              expect(CALLBACK_CODES).toContain((error as AuthError).code)
            }
            expect(tokenRequests() - before).toBe(0)
            // A stray callback does not sign the user out.
            expect(auth.getState().status).toBe('authenticated')
            expect(auth.getState().user).toEqual(signedIn.user)
            expect(
              placesHoldingTokens({ state: auth.getState(), events, error: error ?? null }),
            ).toEqual([])
          }),
      ),
      { seed: SEED, numRuns: RUNS.callbacksRandom },
    )
  }, 60_000)
})

describe('B: fuzzed token endpoint answers to a refresh', () => {
  const token = (kind: string) =>
    fc.tuple(fc.uuid(), fc.string({ maxLength: 20 })).map(([id, s]) => `${kind}-${id}${s}`)
  const expiresIn = fc.oneof(
    fc.constantFrom(undefined, 0, -1, 1, 59, 3600, '3600', 'soon', 1e9, 1e12, 2 ** 31, 0.5, null),
    fc.double(),
    fc.integer(),
  )
  const tokenBody = fc.record(
    {
      // Token strings are unique and recognisable, so the leak checks can find them anywhere.
      access_token: fc.oneof(token('at'), fc.constantFrom(42, null, true)),
      token_type: fc.constantFrom('Bearer', 'bearer', 'BEARER', 'DPoP', 'mac', 7),
      expires_in: expiresIn,
      refresh_token: fc.oneof(token('rt'), fc.constantFrom(5, null)),
      scope: fc.oneof(fc.string(), fc.constant(5)),
      id_token: fc.constantFrom('garbage', 'a.b.c'),
    },
    { requiredKeys: [] },
  )
  // A well-formed success but for one field: the odd lifetimes and scopes reach the session.
  const wellFormed = fc.record({
    status: fc.constant(200),
    body: fc.record({
      access_token: token('at'),
      token_type: fc.constantFrom('Bearer', 'bearer', 'BEARER'),
      expires_in: expiresIn,
      refresh_token: token('rt'),
    }),
    retryAfter: fc.constant(undefined),
  })
  const anyAnswer = fc.record({
    status: fc.constantFrom(200, 200, 200, 200, 201, 204, 302, 400, 401, 429, 500, 502, 503, 0),
    body: fc.oneof(
      { weight: 6, arbitrary: tokenBody },
      { weight: 1, arbitrary: fc.jsonValue() },
      { weight: 1, arbitrary: fc.constantFrom('<html>502 Bad Gateway</html>', null, [], 'null') },
      { weight: 1, arbitrary: fc.constant({ error: 'invalid_grant' }) },
    ),
    retryAfter: fc.option(fc.constantFrom('0', '1', '120', 'soon', '-5', '99999'), {
      nil: undefined,
    }),
  })
  const answer = fc.oneof(anyAnswer, wellFormed)
  type Answer = typeof anyAnswer extends fc.Arbitrary<infer A> ? A : never

  function respond(a: Answer): Response {
    if (a.status === 0) return HttpResponse.error()
    const headers: Record<string, string> = { 'cache-control': 'no-store' }
    if (a.retryAfter !== undefined) headers['retry-after'] = a.retryAfter
    if (a.status === 302) headers.location = 'https://evil.example/token'
    if (typeof a.body === 'string' && a.body.startsWith('<'))
      return new HttpResponse(a.body, { status: a.status, headers })
    if (a.status === 204) return new HttpResponse(null, { status: 204, headers })
    return HttpResponse.json(a.body as never, { status: a.status, headers })
  }

  it('B1: B2: B3: only AuthError escapes, no half-made session, no expired token handed out, timers clamped', async () => {
    const sim = simClock()
    const { auth, events, signIn } = setup({ clock: sim.clock, requestTimeout: 60_000 })
    let current: Answer | undefined
    // Refresh grants get the generated answer; code grants go on to the mock provider.
    server.use(
      http.post(TOKEN, async ({ request }) => {
        const form = new URLSearchParams(await request.clone().text())
        if (form.get('grant_type') !== 'refresh_token' || !current) return undefined
        return respond(current)
      }),
    )
    let previous: string | undefined
    // A 2xx the client refused spends the refresh token (the provider may have rotated it): the
    // next run signs in again, or it would have nothing left to refresh with.
    let spent = false
    await fc.assert(
      fc.asyncProperty(answer, async (generated) =>
        check('responses', async () => {
          const state = auth.getState()
          // Each run starts from a healthy session: known expiry, not yet due.
          const healthy =
            state.status === 'authenticated' &&
            state.expiresAt !== undefined &&
            state.expiresAt - sim.clock.now() > 120_000
          if (!healthy || spent) {
            spent = false
            current = undefined
            await auth.logout({ localOnly: true })
            await signIn()
          }
          previous = await auth.getAccessToken()
          // Past the refresh point, before expiry: the refresh is due, the old token still valid.
          sim.set(auth.getState().expiresAt! - 30_000)
          current = generated
          const call = outcome(auth.getAccessToken())
          expect(await sim.runUntil(() => call.settled, 50)).toBe(true)
          current = undefined
          const after = auth.getState()
          const body = generated.body as Record<string, unknown> | null
          if (call.error !== undefined) {
            expect(call.error).toBeInstanceOf(AuthError)
            spent = generated.status >= 200 && generated.status < 300
          } else {
            const fresh = call.value !== previous
            if (fresh) {
              // A new token only from a well-formed success.
              expect(generated.status).toBe(200)
              expect(call.value).toBe(body?.access_token)
              // Bearer in any case, or absent (read as Bearer).
              expect(['bearer', 'undefined']).toContain(String(body?.token_type).toLowerCase())
            }
            // Never an expired token: its expiry is unknown or still ahead.
            expect(after.status).toBe('authenticated')
            if (after.expiresAt !== undefined)
              expect(after.expiresAt).toBeGreaterThan(sim.clock.now())
          }
          // No half-made session: signed in with a known expiry state, or signed out with no token.
          if (after.status === 'unauthenticated') {
            await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
          }
          expect(sim.longestDelay).toBeLessThanOrEqual(MAX_TIMER_DELAY)
          expect(sim.shortestDelay).toBeGreaterThanOrEqual(0)
          expect(placesHoldingTokens({ state: after, events, error: call.error ?? null })).toEqual(
            [],
          )
        }),
      ),
      { seed: SEED, numRuns: RUNS.responses },
    )
  }, 120_000)
})

describe('D: fuzzed origins for auth.fetch', () => {
  const ALLOWED = [
    'https://api.example.com',
    'http://localhost:8080',
    'https://xn--bcher-kva.example',
  ]
  const hosts = fc.constantFrom(
    'api.example.com',
    'API.Example.COM',
    'api.example.com.',
    'api.example.com.evil.com',
    'evilapi.example.com',
    'api-example.com',
    'api.example.co',
    'api.example.com%2eevil.com',
    'localhost',
    'LOCALHOST',
    '127.0.0.1',
    '[::1]',
    'bücher.example',
    'BÜCHER.example',
    'xn--bcher-kva.example',
    'app.example.com',
    'idp.example.com',
    'аpi.example.com', // Cyrillic а
    'api.example.com\u3002evil.com',
  )
  const schemes = fc.constantFrom('https:', 'http:', 'HTTPS:', 'ws:', 'wss:', 'ftp:', 'file:')
  const ports = fc.constantFrom('', ':443', ':80', ':8080', ':08080', ':8443', ':0', ':65535')
  const userinfo = fc.constantFrom('', 'user@', 'user:pass@', 'api.example.com@', 'localhost:8080@')
  const tail = fc.tuple(fc.webPath(), fc.webQueryParameters(), fc.webFragments())
  const built = fc
    .tuple(schemes, userinfo, hosts, ports, tail)
    .map(([s, u, h, p, [path, q, f]]) => `${s}//${u}${h}${p}${path}?${q}#${f}`)
  const odd = fc.oneof(
    fc.constantFrom(
      '/api/me',
      'api/me',
      '//api.example.com/x',
      '///api.example.com/x',
      '\\\\api.example.com/x',
    ),
    fc.constantFrom('javascript:alert(1)', 'data:text/plain,x', 'blob:https://api.example.com/1'),
    fc.constantFrom(
      'https:api.example.com/x',
      'https:/api.example.com/x',
      ' https://api.example.com ',
    ),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.string(),
  )
  const form = fc.constantFrom('string', 'URL', 'Request')

  it('D1: the Authorization header arrives only at the exact allowed origins, and always there', async () => {
    const seen: { authorization: string | null; url: string }[] = []
    const transport: typeof fetch = async (input, init) => {
      const request = new Request(input, init) // throws a TypeError where fetch would
      seen.push({ url: request.url, authorization: request.headers.get('authorization') })
      return new Response('ok')
    }
    const auth = createAuthClient({
      tokenSource: { refresh: async () => ({ access_token: 'never' }) },
      apiOrigins: [...ALLOWED, APP],
      fetch: transport,
      crossTab: false,
    })
    auth.setTokens({ access_token: 'AT-secret', expires_in: 3600 })
    const allowed = new Set([...ALLOWED, APP])
    await fc.assert(
      fc.asyncProperty(fc.oneof(built, odd), form, async (url, shape) =>
        check('origins', async () => {
          seen.length = 0
          let input: RequestInfo | URL
          try {
            input =
              shape === 'URL'
                ? new URL(url, location.href)
                : shape === 'Request'
                  ? new Request(url)
                  : url
          } catch {
            input = url
          }
          const error = await auth.fetch(input).then(
            () => undefined,
            (e: unknown) => e,
          )
          if (error !== undefined) {
            // Only what `fetch` itself throws for an unusable URL; nothing was sent.
            expect(error).toBeInstanceOf(TypeError)
            expect(seen).toEqual([])
            return
          }
          expect(seen).toHaveLength(1)
          const arrived = seen[0]!
          const origin = new URL(arrived.url).origin
          const exact = /^https?:$/.test(new URL(arrived.url).protocol) && allowed.has(origin)
          expect(arrived.authorization).toBe(exact ? 'Bearer AT-secret' : null)
        }),
      ),
      { seed: SEED, numRuns: RUNS.origins },
    )
  }, 60_000)
})
