import { createMockProvider } from '@spa-auth/mocks'
import { HttpResponse, http } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { API, CLIENT_ID, ISSUER, placesHoldingTokens, server, setup } from './harness.test-util.js'
import { AuthError, type Clock } from './index.js'
import {
  elapse,
  fakeTime,
  gaps,
  mostWithin,
  ofType,
  track,
  until,
  watchPosts,
} from './time.test-util.js'

const TOKEN = `${ISSUER}/token`
const HOUR = 3_600_000
/** The longest delay `setTimeout` honours. */
const MAX_TIMER_DELAY = 2 ** 31 - 1
/** An hour-long token with the default 60 s leeway is due here, and still valid. */
const DUE = HOUR - 50_000

afterEach(() => {
  vi.useRealTimers()
})

/** Signs in on fake time and zeroes the provider's counters. */
async function signedIn(...args: Parameters<typeof setup>) {
  const ctx = setup(...args)
  await ctx.signIn()
  // jsdom dispatches storage events on 0 ms timers: let them go before anyone counts timers.
  await vi.advanceTimersByTimeAsync(0)
  ctx.idp.resetCounts()
  return ctx
}

describe('B: odd token responses', () => {
  it('B3: expires_in absent means unknown: no timer, refresh on 401 only', async () => {
    fakeTime()
    const { auth, idp, signIn } = setup()
    idp.faults.rewrite = ({ expires_in: _unknown, ...body }) => body
    await signIn()
    await vi.advanceTimersByTimeAsync(0)
    idp.resetCounts()

    expect(auth.getState().status).toBe('authenticated')
    expect(auth.getState().expiresAt).toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
    const first = await auth.getAccessToken()

    await elapse(10 * HOUR, 60_000)
    expect(await auth.getAccessToken()).toBe(first)
    expect(idp.counts.token).toBe(0)

    // Ten hours on, the API refuses the old token (its JWT expired): one refresh, one replay.
    const response = await auth.fetch(`${API}/api/me`)
    expect(response.status).toBe(200)
    expect(idp.counts.token).toBe(1)
    expect(idp.counts.api).toBe(2)
    expect(await auth.getAccessToken()).not.toBe(first)
  })

  it('B3: expires_in 0 never spins: over 10 minutes, at most 4 refreshes in any minute', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    const requests = watchPosts(TOKEN)
    idp.faults.rewrite = (body) => ({ ...body, expires_in: 0 })
    // The first refresh brings a token with no lifetime; the page keeps asking every second.
    vi.setSystemTime(Date.now() + DUE)
    const failures = new Set<string>()
    for (let second = 0; second < 600; second++) {
      await auth.getAccessToken().catch((error: AuthError) => failures.add(error.code))
      await elapse(1_000, 1_000)
    }

    const perMinute = mostWithin(requests.map((r) => r.at))
    console.log(
      `B3 figures: expires_in=0 refreshRequests10min=${requests.length} mostPerMinute=${perMinute}`,
    )
    expect(requests.length).toBeGreaterThan(0)
    expect(perMinute).toBeLessThanOrEqual(4)
    expect(requests.length).toBeLessThanOrEqual(41)
    // Past the budget the caller gets a typed error, not another request.
    expect([...failures]).toEqual(['invalid_response'])
  })

  it('B3: expires_in as a numeric string is read as its number', async () => {
    fakeTime()
    const { auth, idp, signIn } = setup()
    idp.faults.rewrite = (body) => ({ ...body, expires_in: '120' })
    await signIn()
    idp.resetCounts()
    expect(auth.getState().expiresAt! - Date.now()).toBe(120_000)
    // A tenth of the lifetime (12 s) is the lead here: the timer refreshes at 108 s.
    await elapse(107_000, 1_000)
    expect(idp.counts.refresh).toBe(0)
    await elapse(2_000)
    expect(idp.counts.refresh).toBe(1)
  })

  it('B3: expires_in as a word is refused with a typed error, no half-made session', async () => {
    const { auth, idp, signIn } = setup()
    idp.faults.rewrite = (body) => ({ ...body, expires_in: 'soon' })
    const error = await signIn().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthError)
    expect(error).toMatchObject({ code: 'invalid_response' })
    expect(auth.getState().status).toBe('unauthenticated')
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('B3: expires_in 1e9 arms timers clamped below 2^31-1 ms, and no refresh fires early', async () => {
    fakeTime()
    const delays: number[] = []
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (callback, ms) => {
        delays.push(ms)
        return setTimeout(callback, ms)
      },
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    }
    const { auth, idp } = await signedIn({ clock })
    idp.faults.rewrite = (body) => ({ ...body, expires_in: 1e9 })
    // Take the long-lived token through a refresh, so the holder sees expires_in 1e9.
    vi.setSystemTime(Date.now() + DUE)
    await auth.getAccessToken()
    expect(idp.counts.refresh).toBe(1)
    const year = 365 * 24 * HOUR
    expect(auth.getState().expiresAt! - Date.now()).toBeLessThanOrEqual(year)

    // 60 days: the timer fires at 2^31-1 ms (24.8 days), reads the clock, re-arms; no refresh.
    await elapse(60 * 24 * HOUR, HOUR)
    expect(idp.counts.token).toBe(1)
    expect(delays.length).toBeGreaterThan(2)
    expect(Math.max(...delays)).toBe(MAX_TIMER_DELAY)
    expect(vi.getTimerCount()).toBe(1)
  })

  it.each([
    ['sub', () => ({ sub: 'mallory', aud: CLIENT_ID })],
    ['iss', () => ({ sub: 'alice', aud: CLIENT_ID })],
  ] as const)(
    'B6: H5: a refreshed ID token with another %s is rejected; the old session is kept, its spent refresh token never sent again',
    async (which, claims) => {
      fakeTime()
      const { auth, idp, events } = await signedIn()
      const signer =
        which === 'iss'
          ? createMockProvider({ issuer: 'https://evil.example.com', clientId: CLIENT_ID })
          : idp
      let forge = true
      server.use(
        http.post(TOKEN, async ({ request }) => {
          const form = new URLSearchParams(await request.clone().text())
          if (!forge || form.get('grant_type') !== 'refresh_token') return undefined
          return HttpResponse.json({
            access_token: await signer.sign({ sub: 'mallory', aud: API }, 3600, 'at+jwt'),
            token_type: 'Bearer',
            expires_in: 3600,
            refresh_token: 'rt-forged',
            id_token: await signer.sign(claims(), 3600),
          })
        }),
      )
      const before = await auth.getAccessToken()
      vi.setSystemTime(Date.now() + DUE)

      const error = await auth.getAccessToken().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AuthError)
      expect(error).toMatchObject({ code: 'invalid_response' })
      expect((error as AuthError).message).toMatch(which === 'iss' ? /iss/ : /another user/)
      expect(auth.getState()).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
      expect(auth.getState().error).toEqual(error)
      expect(ofType(events, 'refresh')).toHaveLength(0)
      expect(ofType(events, 'session_expired')).toHaveLength(0)

      // The token endpoint answered 200: it took the refresh token (and may have rotated it), so
      // it is never sent again. The session lives out its access token, then ends, typed.
      forge = false
      const posts = watchPosts(TOKEN)
      expect(await auth.getAccessToken()).toBe(before)
      await elapse(40_000, 1_000)
      expect(await auth.getAccessToken()).toBe(before)
      vi.setSystemTime(Date.now() + 60_000)
      await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'session_expired' })
      expect(posts).toEqual([])
      expect(idp.counts.refresh).toBe(0)
      expect(auth.getState()).toMatchObject({ status: 'unauthenticated' })
    },
  )

  it('B8: a hanging token endpoint times out, and the code exchange is never retried', async () => {
    fakeTime()
    const { auth, idp, authorizeRedirect } = setup({ requestTimeout: 5_000 })
    const callback = await authorizeRedirect()
    idp.faults.token = { kind: 'hang' }
    const result = track(auth.handleCallback(callback))
    await until(() => idp.counts.token === 1, 'the code request')
    await elapse(4_500)
    expect(result.settled).toBe(false)
    await elapse(1_000)
    expect(result.error).toBeInstanceOf(AuthError)
    expect(result.error).toMatchObject({ code: 'timeout' })
    expect(auth.getState()).toMatchObject({ status: 'unauthenticated', error: { code: 'timeout' } })

    await elapse(5 * 60_000, 5_000)
    expect(idp.counts.token).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('B8: a hanging refresh times out on every attempt, then the caller gets a typed timeout', async () => {
    fakeTime()
    const { auth, idp } = await signedIn({ requestTimeout: 5_000 })
    const requests = watchPosts(TOKEN)
    idp.faults.token = { kind: 'hang' }
    vi.setSystemTime(Date.now() + HOUR + 1_000)
    const call = track(auth.getAccessToken())
    await elapse(25_000)
    expect(call.error).toMatchObject({ code: 'timeout' })
    expect(requests).toHaveLength(3)
    // Each attempt was given its 5 s, then at most the jittered backoff.
    for (const [i, gap] of gaps(requests).entries()) {
      expect(gap).toBeGreaterThanOrEqual(5_000)
      expect(gap).toBeLessThanOrEqual(5_000 + 1_000 * 2 ** i + 500)
    }
  })
})

describe('C: refresh faults and races', () => {
  it.each([1, 10, 100, 1000])(
    'C1: %i concurrent getAccessToken() with an expiring token make 1 refresh request',
    async (callers) => {
      fakeTime()
      const { auth, idp } = await signedIn()
      const old = await auth.getAccessToken()
      vi.setSystemTime(Date.now() + DUE)

      const tokens = await Promise.all(Array.from({ length: callers }, () => auth.getAccessToken()))

      const refreshRequests = idp.counts.token
      console.log(`C1 figures: callers=${callers} refreshRequests=${refreshRequests}`)
      expect(refreshRequests).toBe(1)
      expect(idp.counts.refresh).toBe(1)
      expect(new Set(tokens).size).toBe(1)
      expect(tokens[0]).not.toBe(old)
      expect(await auth.getAccessToken()).toBe(tokens[0])
    },
  )

  it('C1: 1000 concurrent callers share one refresh failure: the same error, 1 request', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    idp.revokeRefreshTokens()
    vi.setSystemTime(Date.now() + DUE)

    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, () => auth.getAccessToken()),
    )

    const errors = new Set(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.value)))
    expect(idp.counts.token).toBe(1)
    expect(errors.size).toBe(1)
    expect([...errors][0]).toMatchObject({ code: 'session_expired' })
  })

  it('C2: invalid_grant ends the session once: tokens wiped, session_expired, no retry', async () => {
    fakeTime()
    const { auth, idp, events } = await signedIn()
    const api = await auth.fetch(`${API}/api/me`)
    expect(api.status).toBe(200)
    idp.revokeRefreshTokens()

    // The scheduled refresh (at expiry - 60 s) meets invalid_grant, with nobody waiting.
    await elapse(DUE, 60_000)
    await until(() => auth.getState().status === 'unauthenticated', 'the session to end')

    expect(idp.counts.token).toBe(1)
    expect(auth.getState()).toEqual({
      status: 'unauthenticated',
      error: expect.objectContaining({ code: 'session_expired', oauthError: 'invalid_grant' }),
    })
    expect(auth.getState().error).toBeInstanceOf(AuthError)
    expect(ofType(events, 'session_expired')).toHaveLength(1)
    expect(ofType(events, 'refresh_failed')).toEqual([
      expect.objectContaining({ attempt: 1, willRetry: false }),
    ])
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    await expect(auth.fetch(`${API}/api/me`)).rejects.toMatchObject({ code: 'login_required' })
    expect(idp.counts.api).toBe(1)

    await elapse(2 * HOUR, 60_000)
    expect(idp.counts.token).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(placesHoldingTokens({ events, state: auth.getState() })).toEqual([])
  })

  const transient = [
    ['500', { kind: 'status', status: 500 }, 'network'],
    ['503', { kind: 'status', status: 503, body: { error: 'temporarily_unavailable' } }, 'network'],
    [
      '429 with Retry-After: 7',
      { kind: 'status', status: 429, headers: { 'retry-after': '7' } },
      'network',
    ],
    ['a network TypeError', { kind: 'network' }, 'network'],
    ['a timeout', { kind: 'hang' }, 'timeout'],
  ] as const

  it.each(transient)(
    'C3: %s keeps the session: bounded backoff with jitter, then recovery',
    async (_name, fault, code) => {
      fakeTime()
      const { auth, idp, events } = await signedIn({ requestTimeout: 5_000 })
      const requests = watchPosts(TOKEN)
      idp.faults.token = fault
      // Asleep past expiry: the caller must wait for the refresh, and gets an error only at the end.
      vi.setSystemTime(Date.now() + HOUR + 1_000)
      const call = track(auth.getAccessToken())
      const settledAt: number[] = []
      for (let i = 0; i < 120 && !call.settled; i++) {
        await elapse(250)
        if (requests.length < 3) expect(call.settled).toBe(false)
        if (call.settled) settledAt.push(Date.now())
      }

      expect(call.error).toBeInstanceOf(AuthError)
      expect(call.error).toMatchObject({ code })
      expect(requests).toHaveLength(3)
      const took = fault.kind === 'hang' ? 5_000 : 0
      const floor = 'headers' in fault ? 7_000 : 0
      for (const [i, gap] of gaps(requests).entries()) {
        expect(gap).toBeGreaterThanOrEqual(took + floor)
        expect(gap).toBeLessThanOrEqual(took + Math.max(floor, 1_000 * 2 ** i) + 500)
      }
      // Still signed in, with the failure beside the status; the refresh token kept.
      expect(auth.getState()).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
      expect(auth.getState().error).toEqual(call.error)
      expect(new Set(requests.map((r) => r.body.refresh_token)).size).toBe(1)
      expect(ofType(events, 'refresh_failed').map((e) => e.willRetry)).toEqual([true, true, false])
      expect(ofType(events, 'session_expired')).toHaveLength(0)

      // The endpoint comes back: the client's own retry (30 s later) recovers with no caller.
      delete idp.faults.token
      await elapse(31_000 + floor, 1_000)
      expect(requests).toHaveLength(4)
      expect(requests[3]!.body.refresh_token).toBe(requests[0]!.body.refresh_token)
      expect(idp.counts.refresh).toBe(1)
      expect(auth.getState().status).toBe('authenticated')
      expect(auth.getState().error).toBeUndefined()
      expect((await auth.fetch(`${API}/api/orders`)).status).toBe(200)
      expect(placesHoldingTokens({ events, state: auth.getState() })).toEqual([])
    },
  )

  it('C3: an endpoint down for 10 minutes gets bounded retries: rounds of 3, 30 s apart', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    const requests = watchPosts(TOKEN)
    idp.faults.token = { kind: 'status', status: 503 }
    await elapse(DUE, 60_000)
    await elapse(10 * 60_000, 500)
    expect(requests.length).toBeGreaterThan(3)
    expect(requests.length).toBeLessThanOrEqual(3 * 21)
    expect(
      mostWithin(
        requests.map((r) => r.at),
        30_000,
      ),
    ).toBeLessThanOrEqual(6)
    expect(auth.getState()).toMatchObject({ status: 'authenticated', error: { code: 'network' } })

    delete idp.faults.token
    await elapse(35_000, 1_000)
    expect(idp.counts.refresh).toBe(1)
    expect(auth.getState().error).toBeUndefined()
  })

  it('C3: a Retry-After longer than the longest backoff is honoured: no retry before it', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    const requests = watchPosts(TOKEN)
    idp.faults.token = { kind: 'status', status: 429, headers: { 'retry-after': '120' } }
    vi.setSystemTime(Date.now() + HOUR + 1_000)
    const call = track(auth.getAccessToken())
    await elapse(1_000)
    // The caller is not held for two minutes: it gets the typed transient error now.
    expect(call.error).toMatchObject({ code: 'network', retryAfter: 120 })
    delete idp.faults.token
    await elapse(118_000, 1_000)
    expect(requests).toHaveLength(1)
    await elapse(3_000)
    expect(requests).toHaveLength(2)
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(120_000)
    expect(idp.counts.refresh).toBe(1)
  })

  it('C4: rotation happened but its answer was lost: the retry meets invalid_grant, session_expired, no loop', async () => {
    fakeTime()
    const { auth, idp, events } = await signedIn()
    idp.faults.token = { kind: 'lost' }
    idp.faults.tokenTimes = 1
    vi.setSystemTime(Date.now() + DUE)

    const call = track(auth.getAccessToken())
    await elapse(5_000)

    expect(call.error).toBeInstanceOf(AuthError)
    expect(call.error).toMatchObject({ code: 'session_expired', oauthError: 'invalid_grant' })
    expect(idp.counts.token).toBe(2)
    expect(auth.getState()).toMatchObject({
      status: 'unauthenticated',
      error: { code: 'session_expired' },
    })
    expect(ofType(events, 'session_expired')).toHaveLength(1)

    await elapse(30 * 60_000, 60_000)
    expect(idp.counts.token).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('C5: a new refresh token replaces the old one at once', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    const requests = watchPosts(TOKEN)
    for (let round = 0; round < 3; round++) {
      vi.setSystemTime(Date.now() + DUE)
      await auth.getAccessToken()
    }
    // The provider detects reuse of a rotated token: three successes prove each was replaced.
    expect(idp.counts.refresh).toBe(3)
    expect(new Set(requests.map((r) => r.body.refresh_token)).size).toBe(3)
    expect(auth.getState().status).toBe('authenticated')
  })

  it('C5: an answer without refresh_token keeps the old one', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    const requests = watchPosts(TOKEN)
    server.use(
      http.post(
        TOKEN,
        async () =>
          HttpResponse.json({
            access_token: await idp.sign({ sub: 'alice', aud: API }, 3600, 'at+jwt'),
            token_type: 'Bearer',
            expires_in: 3600,
          }),
        { once: true },
      ),
    )
    vi.setSystemTime(Date.now() + DUE)
    const first = await auth.getAccessToken()
    vi.setSystemTime(Date.now() + DUE)
    const second = await auth.getAccessToken()

    expect(second).not.toBe(first)
    expect(requests).toHaveLength(2)
    expect(requests[1]!.body.refresh_token).toBe(requests[0]!.body.refresh_token)
    expect(idp.counts.refresh).toBe(1)
  })

  it('C6: tokens that come already expired: at most 4 refreshes a minute, then a typed error', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    const requests = watchPosts(TOKEN)
    idp.faults.rewrite = (body) => ({ ...body, expires_in: 0 })
    vi.setSystemTime(Date.now() + DUE)
    const errors: unknown[] = []
    for (let second = 0; second < 180; second++) {
      await auth.getAccessToken().catch((error: unknown) => errors.push(error))
      await elapse(1_000, 1_000)
    }
    expect(mostWithin(requests.map((r) => r.at))).toBeLessThanOrEqual(4)
    expect(requests.length).toBeLessThanOrEqual(13)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.every((e) => e instanceof AuthError && e.code === 'invalid_response')).toBe(true)
  })

  it('C6: H4: tokens the API rejects at once: at most 4 refreshes a minute, and the 401 comes back, never a throttle error', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    let apiCalls = 0
    server.use(
      http.get(`${API}/api/me`, () => {
        apiCalls++
        return HttpResponse.json({ error: 'invalid_token' }, { status: 401 })
      }),
    )
    const requests = watchPosts(TOKEN)
    const outcomes: (number | string)[] = []
    for (let call = 0; call < 90; call++) {
      await auth.fetch(`${API}/api/me`).then(
        (response) => outcomes.push(response.status),
        (error: AuthError) => outcomes.push(error.code),
      )
      await elapse(2_000, 2_000)
    }
    expect(mostWithin(requests.map((r) => r.at))).toBeLessThanOrEqual(4)
    expect(requests.length).toBeLessThanOrEqual(13)
    expect(new Set(outcomes)).toEqual(new Set([401]))
    // Never more than 2 API requests per auth.fetch call.
    expect(apiCalls).toBeLessThanOrEqual(2 * 90)
    expect(idp.counts.refresh).toBe(requests.length)
  })

  it.each([
    [
      '401 with WWW-Authenticate',
      {
        kind: 'status',
        status: 401,
        body: { error: 'invalid_client' },
        headers: { 'www-authenticate': 'Basic realm="idp", error="invalid_client"' },
      },
    ],
    ['400 invalid_client', { kind: 'status', status: 400, body: { error: 'invalid_client' } }],
  ] as const)(
    'C7: invalid_client (%s) is a configuration error, not retried',
    async (_name, fault) => {
      fakeTime()
      const { auth, idp, events } = await signedIn()
      idp.faults.token = fault
      vi.setSystemTime(Date.now() + HOUR + 1_000)

      const error = await auth.getAccessToken().catch((e: unknown) => e)

      expect(error).toBeInstanceOf(AuthError)
      expect(error).toMatchObject({ code: 'configuration' })
      expect(idp.counts.token).toBe(1)
      expect(ofType(events, 'refresh_failed')).toEqual([
        expect.objectContaining({ attempt: 1, willRetry: false }),
      ])
      expect(auth.getState().error).toEqual(error)
      await elapse(10 * 60_000, 10_000)
      expect(idp.counts.token).toBe(1)
    },
  )
})
