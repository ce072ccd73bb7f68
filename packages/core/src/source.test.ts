import { HttpResponse, http } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, APP, placesHoldingTokens, server } from './harness.test-util.js'
import {
  type AuthClientOptions,
  AuthError,
  type AuthEvent,
  createAuthClient,
  type TokenJson,
  type TokenSource,
} from './index.js'
import { elapse, fakeTime, gaps, ofType, track, until, watchPosts } from './time.test-util.js'

const REFRESH = `${APP}/auth/refresh`
const DATA = `${API}/api/data`
/** Two-minute tokens: refreshed a tenth of their lifetime (12 s) before expiry. */
const LIFETIME_S = 120
/** When a token of LIFETIME_S is due for refresh: a tenth of its lifetime before expiry. */
const DUE_MS = LIFETIME_S * 900

afterEach(() => {
  vi.useRealTimers()
})

/**
 * An app's own backend: `POST /auth/refresh` rotates refresh tokens (a used one is refused with
 * 401), and an API that accepts the access tokens it issued and not revoked.
 */
function backend() {
  let serial = 0
  const access = new Set<string>()
  const refresh = new Set<string>()
  function issue(): TokenJson {
    serial++
    access.add(`at-${serial}`)
    refresh.add(`rt-${serial}`)
    return {
      access_token: `at-${serial}`,
      refresh_token: `rt-${serial}`,
      expires_in: LIFETIME_S,
      token_type: 'Bearer',
    }
  }
  const seen = watchPosts(REFRESH)
  const bearers: (string | null)[] = []
  server.use(
    http.post(REFRESH, async ({ request }) => {
      const { refreshToken } = (await request.json()) as { refreshToken?: string }
      if (!refreshToken || !refresh.delete(refreshToken)) {
        return HttpResponse.json({ error: 'invalid_grant' }, { status: 401 })
      }
      return HttpResponse.json(issue())
    }),
    http.get(DATA, ({ request }) => {
      const header = request.headers.get('authorization')
      bearers.push(header)
      const token = header?.replace(/^Bearer /, '')
      if (token && access.has(token)) return HttpResponse.json({ ok: true })
      return HttpResponse.json(
        { error: 'invalid_token' },
        { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } },
      )
    }),
  )
  return {
    issue,
    /** Refresh tokens the client sent, in order. */
    sent: () => seen.map((r) => r.body.refreshToken),
    seen,
    bearers,
    revokeAccessTokens: () => access.clear(),
  }
}

/** What a custom source does: POST the refresh token to the backend, with the client's signal. */
const postRefresh: TokenSource['refresh'] = ({ refreshToken, signal }) =>
  fetch(REFRESH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken }),
    signal,
  })

/** A client on a custom token source that counts its calls and keeps their signals. */
function customClient(
  refresh: TokenSource['refresh'] = postRefresh,
  options: Partial<AuthClientOptions> = {},
) {
  const signals: AbortSignal[] = []
  const events: AuthEvent[] = []
  const auth = createAuthClient({
    tokenSource: {
      refresh(context) {
        signals.push(context.signal)
        return refresh(context)
      },
    },
    apiOrigins: [API],
    ...options,
  })
  auth.on((event) => events.push(event))
  return { auth, events, signals }
}

/** No token-looking string of the backend's (`at-1`, `rt-2`) anywhere in `value`. */
function holdsBackendToken(value: unknown): boolean {
  return /\b(at|rt)-\d+\b/.test(JSON.stringify(value))
}

describe('a custom token source', () => {
  it('C5: refreshes ahead of expiry and after a 401 through auth.fetch, rotating its refresh token', async () => {
    fakeTime()
    const be = backend()
    const { auth, events } = customClient()
    auth.setTokens(be.issue(), { sub: 'u1', name: 'Una' })
    expect(auth.getState()).toMatchObject({
      status: 'authenticated',
      user: { sub: 'u1' },
      expiresAt: Date.now() + LIFETIME_S * 1000,
    })

    // Proactive: nothing before it is due, one refresh right after.
    await elapse(DUE_MS - 1_000, 1_000)
    expect(be.sent()).toEqual([])
    await elapse(2_000)
    expect(be.sent()).toEqual(['rt-1'])
    expect(ofType(events, 'refresh')).toEqual([
      { type: 'refresh', reason: 'scheduled', expiresAt: Date.now() - 1_000 + LIFETIME_S * 1000 },
    ])
    expect(await auth.getAccessToken()).toBe('at-2')
    expect((await auth.fetch(DATA)).status).toBe(200)

    // The backend drops the access token: 401, one refresh with the rotated token, one replay.
    be.revokeAccessTokens()
    const response = await auth.fetch(DATA)
    expect(response.status).toBe(200)
    expect(be.sent()).toEqual(['rt-1', 'rt-2'])
    expect(be.bearers).toEqual(['Bearer at-2', 'Bearer at-2', 'Bearer at-3'])
    expect(ofType(events, 'retry')).toEqual([{ type: 'retry', url: DATA, refreshed: true }])
    expect(auth.getState()).toMatchObject({ status: 'authenticated', user: { sub: 'u1' } })
    expect(auth.getState().error).toBeUndefined()

    expect(holdsBackendToken({ events, state: auth.getState() })).toBe(false)
    expect(placesHoldingTokens({ events, state: auth.getState(), client: auth })).toEqual([])
  })

  it('C1: 100 concurrent callers with an expiring token share 1 call of the source', async () => {
    fakeTime()
    const be = backend()
    const { auth, signals } = customClient()
    auth.setTokens(be.issue())
    vi.setSystemTime(Date.now() + DUE_MS + 1_000)
    const tokens = await Promise.all(Array.from({ length: 100 }, () => auth.getAccessToken()))
    expect(signals).toHaveLength(1)
    expect(be.sent()).toEqual(['rt-1'])
    expect(new Set(tokens)).toEqual(new Set(['at-2']))
  })

  it('C2: the backend refusing the refresh (401) ends the session once, with no retry', async () => {
    fakeTime()
    const be = backend()
    const { auth, events } = customClient()
    auth.setTokens({ access_token: 'at-stale', refresh_token: 'rt-unknown', expires_in: 120 })
    vi.setSystemTime(Date.now() + DUE_MS + 1_000)

    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'session_expired' })

    expect(auth.getState()).toMatchObject({
      status: 'unauthenticated',
      error: { code: 'session_expired' },
    })
    expect(ofType(events, 'session_expired')).toHaveLength(1)
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    await elapse(10 * 60_000, 10_000)
    expect(be.seen).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(holdsBackendToken({ events, state: auth.getState() })).toBe(false)
  })

  it.each([
    ['503', () => new HttpResponse(null, { status: 503 }), 0],
    [
      '429 with Retry-After: 4',
      () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '4' } }),
      4_000,
    ],
    ['a network TypeError', () => HttpResponse.error(), 0],
  ] as const)(
    'C3: the backend failing with %s: backoff, session kept, recovery',
    async (_name, failure, floor) => {
      fakeTime()
      const be = backend()
      let down = true
      server.use(http.post(REFRESH, () => (down ? failure() : undefined)))
      const { auth, events, signals } = customClient()
      auth.setTokens(be.issue(), { sub: 'u1' })
      vi.setSystemTime(Date.now() + (LIFETIME_S + 1) * 1000)

      const call = track(auth.getAccessToken())
      await elapse(20_000)

      expect(call.error).toBeInstanceOf(AuthError)
      expect(call.error).toMatchObject({ code: 'network' })
      expect(be.seen).toHaveLength(3)
      for (const [i, gap] of gaps(be.seen).entries()) {
        expect(gap).toBeGreaterThanOrEqual(floor)
        expect(gap).toBeLessThanOrEqual(Math.max(floor, 1_000 * 2 ** i) + 500)
      }
      expect(auth.getState()).toMatchObject({ status: 'authenticated', error: { code: 'network' } })
      expect(ofType(events, 'refresh_failed').map((e) => e.willRetry)).toEqual([true, true, false])

      // Back up: the next call refreshes with the same refresh token.
      down = false
      expect(await auth.getAccessToken()).toBe('at-2')
      expect(be.sent()).toEqual(['rt-1', 'rt-1', 'rt-1', 'rt-1'])
      expect(signals).toHaveLength(4)
      expect(auth.getState().error).toBeUndefined()
    },
  )

  it('B8: a source that ignores its signal still times out after requestTimeout', async () => {
    fakeTime()
    const { auth, signals } = customClient(() => new Promise<never>(() => {}), {
      requestTimeout: 3_000,
    })
    auth.setTokens({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 120 })
    vi.setSystemTime(Date.now() + 121_000)

    const call = track(auth.getAccessToken())
    await elapse(2_900)
    expect(call.settled).toBe(false)
    expect(signals[0]?.aborted).toBe(false)
    await elapse(20_000)

    expect(call.error).toMatchObject({ code: 'timeout' })
    expect(signals).toHaveLength(3)
    for (const signal of signals) {
      expect(signal.aborted).toBe(true)
      expect(signal.reason).toMatchObject({ code: 'timeout' })
    }
    expect(auth.getState().status).toBe('authenticated')
  })

  it('G5: a refresh that ends after a newer setTokens() is discarded', async () => {
    fakeTime()
    let answer: (json: TokenJson) => void = () => {}
    const { auth, events, signals } = customClient(
      () => new Promise<TokenJson>((resolve) => (answer = resolve)),
    )
    auth.setTokens({ access_token: 'at-old', refresh_token: 'rt-old', expires_in: 120 })
    vi.setSystemTime(Date.now() + DUE_MS + 1_000)
    const waiting = track(auth.getAccessToken())
    await until(() => signals.length === 1, 'the source to be called')

    auth.setTokens({ access_token: 'at-new', refresh_token: 'rt-new', expires_in: 3600 })
    answer({ access_token: 'at-late', refresh_token: 'rt-late', expires_in: 3600 })
    await until(() => waiting.settled, 'the waiting caller')

    expect(waiting.error).toBeInstanceOf(AuthError)
    expect(await auth.getAccessToken()).toBe('at-new')
    expect(ofType(events, 'refresh')).toHaveLength(0)
    expect(auth.getState().expiresAt).toBe(Date.now() + 3600_000)
  })

  it('G5: a source that ignores its signal and answers after logout() brings nothing back', async () => {
    fakeTime()
    let answer: (json: TokenJson) => void = () => {}
    const { auth, events, signals } = customClient(
      () => new Promise<TokenJson>((resolve) => (answer = resolve)),
    )
    auth.setTokens({ access_token: 'at-old', refresh_token: 'rt-old', expires_in: 120 })
    vi.setSystemTime(Date.now() + 121_000)
    const waiting = track(auth.getAccessToken())
    await until(() => signals.length === 1, 'the source to be called')

    await auth.logout()
    expect(signals[0]?.aborted).toBe(true)
    answer({ access_token: 'at-late', refresh_token: 'rt-late', expires_in: 3600 })
    await until(() => waiting.settled, 'the waiting caller')

    expect(waiting.error).toMatchObject({ code: 'login_required' })
    expect(auth.getState()).toEqual({ status: 'unauthenticated', signedOut: true })
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(ofType(events, 'refresh')).toHaveLength(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('G5: signing out during a backoff wait makes no further call to the source', async () => {
    fakeTime()
    const be = backend()
    server.use(http.post(REFRESH, () => new HttpResponse(null, { status: 503 })))
    const { auth, events, signals } = customClient()
    auth.setTokens(be.issue())
    vi.setSystemTime(Date.now() + (LIFETIME_S + 1) * 1000)
    const call = track(auth.getAccessToken())
    await until(() => ofType(events, 'refresh_failed').length === 1, 'the first failure')
    expect(ofType(events, 'refresh_failed')[0]).toMatchObject({ willRetry: true })

    await auth.logout()
    await elapse(60_000, 500)

    expect(signals).toHaveLength(1)
    expect(be.seen).toHaveLength(1)
    expect(call.error).toMatchObject({ code: 'login_required' })
    expect(auth.getState()).toEqual({ status: 'unauthenticated', signedOut: true })
    expect(vi.getTimerCount()).toBe(0)
  })
})
