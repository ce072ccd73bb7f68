import { http } from 'msw'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { API, placesHoldingTokens, server, setup } from './harness.test-util.js'
import { AuthError, type Clock } from './index.js'
import { elapse, fakeTime, ofType, track, until } from './time.test-util.js'

const HOUR = 3_600_000
/** An hour-long token with the default 60 s leeway is due here, and still valid. */
const DUE = HOUR - 50_000

afterEach(() => {
  vi.useRealTimers()
})

/** Signs in on fake time, with the page watched (`start()`), and zeroes the provider's counters. */
async function signedIn(...args: Parameters<typeof setup>) {
  const ctx = setup(...args)
  const stop = ctx.auth.start()
  onTestFinished(() => ctx.auth.dispose())
  await ctx.signIn()
  // jsdom dispatches storage events on 0 ms timers: let them go before anyone counts timers.
  await vi.advanceTimersByTimeAsync(0)
  ctx.idp.resetCounts()
  return { ...ctx, stop }
}

/** Where a wake-up event is dispatched. */
function targetOf(type: string): EventTarget {
  return type === 'visibilitychange' ? document : window
}

/** Listeners on `window` and `document` added and not removed since this was called. */
function watchListeners() {
  const live: { target: EventTarget; type: string; listener: unknown }[] = []
  const find = (target: EventTarget, type: string, listener: unknown) =>
    live.findIndex((l) => l.target === target && l.type === type && l.listener === listener)
  for (const target of [window, document] as EventTarget[]) {
    const add = target.addEventListener.bind(target)
    const remove = target.removeEventListener.bind(target)
    vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
      if (find(target, type, listener) < 0) live.push({ target, type, listener })
      add(type, listener, options)
    })
    vi.spyOn(target, 'removeEventListener').mockImplementation((type, listener, options) => {
      const at = find(target, type, listener)
      if (at >= 0) live.splice(at, 1)
      remove(type, listener, options)
    })
  }
  onTestFinished(() => {
    vi.restoreAllMocks()
  })
  return { count: () => live.length, types: () => live.map((l) => l.type).sort() }
}

describe('G: the page lifecycle', () => {
  it.each(['visibilitychange', 'focus', 'online', 'pageshow'])(
    'G1: after sleeping past expiry, %s refreshes before the first API call',
    async (type) => {
      fakeTime()
      const { auth, idp, events } = await signedIn()
      const old = await auth.getAccessToken()
      // Asleep for two hours: the wall clock jumps, and no timer has fired.
      vi.setSystemTime(Date.now() + 2 * HOUR)
      expect(idp.counts.token).toBe(0)

      targetOf(type).dispatchEvent(new Event(type))
      await until(() => ofType(events, 'refresh').length === 1, 'the refresh on wake')

      expect(ofType(events, 'refresh')[0]).toMatchObject({ reason: 'resumed' })
      expect(idp.counts.token).toBe(1)
      // The first API call carries the new token: the API takes it, without a 401 and a replay.
      let sent: string | null = null
      server.use(
        http.get(`${API}/api/me`, ({ request }) => {
          sent = request.headers.get('authorization')
        }),
      )
      const response = await auth.fetch(`${API}/api/me`)
      expect(response.status).toBe(200)
      expect(sent).not.toBe(`Bearer ${old}`)
      expect(idp.counts.api).toBe(1)
      expect(idp.counts.token).toBe(1)
    },
  )

  it('G1: without any wake event, getAccessToken() never hands out an expired token', async () => {
    fakeTime()
    const { auth, idp } = await signedIn()
    const old = await auth.getAccessToken()
    vi.setSystemTime(Date.now() + 2 * HOUR)
    const fresh = await auth.getAccessToken()
    expect(fresh).not.toBe(old)
    expect(idp.counts.refresh).toBe(1)
    expect(auth.getState().expiresAt! - Date.now()).toBe(HOUR)
  })

  it('G2: the refresh timer fires close to expiry: a minute early for an hour, at 54 s for 60 s tokens, at half the lifetime for 10 s', async () => {
    fakeTime()
    const { idp, auth } = await signedIn()
    await elapse(HOUR - 61_000, 60_000)
    expect(idp.counts.refresh).toBe(0)
    await elapse(2_000)
    expect(idp.counts.refresh).toBe(1)

    // A 60 s token: a tenth of its lifetime is the lead, so it is refreshed once a minute.
    idp.setAccessTokenLifetime(60)
    vi.setSystemTime(auth.getState().expiresAt! - 1_000)
    await auth.getAccessToken()
    expect(idp.counts.refresh).toBe(2)
    await elapse(53_000, 1_000)
    expect(idp.counts.refresh).toBe(2)
    await elapse(2_000)
    expect(idp.counts.refresh).toBe(3)

    // A 10 s token: the 5 s leeway is half its lifetime, and half is the most a lead can be.
    idp.setAccessTokenLifetime(10)
    await elapse(54_000, 1_000)
    expect(idp.counts.refresh).toBe(4)
    await elapse(3_000, 1_000)
    expect(idp.counts.refresh).toBe(4)
    await elapse(2_000)
    expect(idp.counts.refresh).toBe(5)
  })

  it('G2: with timers throttled (never firing), each getAccessToken() call checks expiry', async () => {
    let now = Date.now()
    const frozen: Clock = {
      now: () => now,
      // A background tab: timers are accepted and never run.
      setTimeout: () => 0,
      clearTimeout: () => {},
    }
    const { auth, idp, signIn } = setup({ clock: frozen })
    await signIn()
    idp.resetCounts()
    const first = await auth.getAccessToken()

    now += HOUR - 70_000
    expect(await auth.getAccessToken()).toBe(first)
    expect(idp.counts.token).toBe(0)

    now += 20_000
    const second = await auth.getAccessToken()
    expect(second).not.toBe(first)
    expect(idp.counts.token).toBe(1)
  })

  it('G2: a timer that fires before the clock says so reads the clock again and waits (a clock of wall time only)', async () => {
    fakeTime()
    // A clock without `monotonic`: lifetimes are read on its `now()` alone (see H28 for the default).
    const wallOnly: Clock = {
      now: () => Date.now(),
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    }
    const { idp } = await signedIn({ clock: wallOnly })
    // The clock is set back an hour: the timer still fires after 59 minutes, and finds it early.
    vi.setSystemTime(Date.now() - HOUR)
    await elapse(HOUR, 60_000)
    expect(idp.counts.token).toBe(0)
    expect(vi.getTimerCount()).toBe(1)
    await elapse(HOUR, 60_000)
    expect(idp.counts.refresh).toBe(1)
  })

  it('G3: waking offline keeps the user signed in; coming online refreshes at once', async () => {
    fakeTime()
    const { auth, idp, events } = await signedIn()
    vi.setSystemTime(Date.now() + 2 * HOUR)
    idp.faults.token = { kind: 'network' }

    document.dispatchEvent(new Event('visibilitychange'))
    await elapse(5_000)

    expect(idp.counts.token).toBe(3)
    expect(auth.getState()).toMatchObject({
      status: 'authenticated',
      user: { sub: 'alice' },
      error: { code: 'network' },
    })
    expect(ofType(events, 'session_expired')).toHaveLength(0)
    // The caller is told, with a typed error, rather than handed the expired token.
    const call = track(auth.getAccessToken())
    await elapse(5_000)
    expect(call.error).toMatchObject({ code: 'network' })
    const offlineRequests = idp.counts.token

    delete idp.faults.token
    window.dispatchEvent(new Event('online'))
    await until(() => ofType(events, 'refresh').length === 1, 'the refresh on online')

    expect(ofType(events, 'refresh')[0]).toMatchObject({ reason: 'resumed' })
    expect(idp.counts.token).toBe(offlineRequests + 1)
    expect(auth.getState().error).toBeUndefined()
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
  })

  it.each([3, -3])('G4: a device clock %i h off: the expiry counts from receipt', async (hours) => {
    fakeTime()
    // The page's clock (the faked Date) is off; the provider's is right.
    const providerNow = () => Date.now() - hours * HOUR
    const { auth, idp } = await signedIn({ clockTolerance: 4 * 3600 }, { now: providerNow })

    expect(auth.getState().status).toBe('authenticated')
    expect(auth.getState().expiresAt! - Date.now()).toBe(HOUR)
    const first = await auth.getAccessToken()
    await elapse(HOUR - 61_000, 60_000)
    expect(await auth.getAccessToken()).toBe(first)
    expect(idp.counts.token).toBe(0)
    await elapse(2_000)
    expect(idp.counts.refresh).toBe(1)
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
  })

  it('G4: a device clock 3 h ahead with the default tolerance: the ID token is refused, typed', async () => {
    const { auth, signIn } = setup({}, { now: () => Date.now() - 3 * HOUR })
    const error = await signIn().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthError)
    expect(error).toMatchObject({ code: 'invalid_response', message: expect.stringMatching(/exp/) })
    expect(auth.getState().status).toBe('unauthenticated')
  })

  it('G5: sign-out while a refresh is in flight: its result is discarded, no resurrection', async () => {
    fakeTime()
    const { auth, idp, events } = await signedIn()
    idp.faults.tokenDelayMs = 2_000
    vi.setSystemTime(Date.now() + DUE)
    const waiting = track(auth.getAccessToken())
    await until(() => idp.counts.token === 1, 'the refresh request')

    await auth.logout()
    await elapse(10_000)

    expect(waiting.error).toBeInstanceOf(AuthError)
    expect(waiting.error).toMatchObject({ code: 'login_required' })
    expect(auth.getState()).toEqual({ status: 'unauthenticated', signedOut: true })
    expect(ofType(events, 'refresh')).toHaveLength(0)
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    await expect(auth.fetch(`${API}/api/me`)).rejects.toMatchObject({ code: 'login_required' })
    expect(idp.counts.api).toBe(0)
    // A wake after sign-out finds nothing to refresh.
    window.dispatchEvent(new Event('focus'))
    await elapse(HOUR, 60_000)
    expect(idp.counts.token).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(placesHoldingTokens({ events, state: auth.getState() })).toEqual([])
  })

  it.each([
    ['in a backoff wait', { kind: 'status', status: 503 }],
    ['on the wire', { kind: 'hang' }],
  ] as const)('G7: dispose() %s leaves 0 timers and 0 listeners', async (_when, fault) => {
    fakeTime()
    const listeners = watchListeners()
    const { auth, idp, events, worker } = await signedIn()
    auth.start()
    expect(listeners.count()).toBeGreaterThanOrEqual(4)
    expect(vi.getTimerCount()).toBe(1)

    idp.faults.token = fault
    vi.setSystemTime(Date.now() + HOUR + 1_000)
    const call = track(auth.getAccessToken())
    await until(() => idp.counts.token === 1, 'the refresh request')
    if (fault.kind === 'status') {
      await until(() => ofType(events, 'refresh_failed').length === 1, 'the backoff wait')
    }
    // Beside the refresh timer, a backoff sleep or the request's timeout is armed.
    expect(vi.getTimerCount()).toBeGreaterThan(1)
    expect(call.settled).toBe(false)

    auth.dispose()
    // Behind a port the engine is the token worker's: it lives on for the other tabs, and its
    // timers are its own. What this page leaves behind is what counts here.
    worker?.engine?.stop()
    await until(() => call.settled, 'the waiting caller')
    const timers = vi.getTimerCount()
    const left = listeners.count()
    console.log(`G7 figures: timersLeft=${timers} listenersLeft=${left}`)
    expect(timers).toBe(0)
    expect(left).toBe(0)
    expect(call.error).toBeInstanceOf(AuthError)

    // Nothing wakes a disposed client.
    window.dispatchEvent(new Event('online'))
    await elapse(10 * 60_000, 10_000)
    expect(idp.counts.token).toBe(1)
  })

  it('G7: start() twice then both stops: 0 listeners, and wake events do nothing', async () => {
    fakeTime()
    const listeners = watchListeners()
    const { auth, idp, stop, worker } = await signedIn()
    const again = auth.start()
    expect(listeners.types()).toEqual(
      expect.arrayContaining(['focus', 'online', 'pageshow', 'visibilitychange']),
    )

    // Both watchers see the wake: still one refresh.
    vi.setSystemTime(Date.now() + DUE)
    window.dispatchEvent(new Event('focus'))
    await until(() => idp.counts.refresh === 1, 'the refresh on focus')
    await elapse(1_000)
    expect(idp.counts.token).toBe(1)

    stop()
    again()
    again()
    expect(listeners.count()).toBe(0)
    vi.setSystemTime(Date.now() + DUE)
    for (const type of ['focus', 'online', 'pageshow']) window.dispatchEvent(new Event(type))
    document.dispatchEvent(new Event('visibilitychange'))
    await elapse(1_000)
    expect(idp.counts.token).toBe(1)

    auth.dispose()
    worker?.engine?.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('G7: an unmounted-and-remounted page (HMR) keeps one refresh per wake', async () => {
    fakeTime()
    const listeners = watchListeners()
    const { auth, idp } = await signedIn()
    for (let i = 0; i < 5; i++) {
      auth.dispose()
      auth.start()
    }
    expect(listeners.count()).toBe(4)
    vi.setSystemTime(Date.now() + DUE)
    for (const type of ['focus', 'online', 'pageshow']) window.dispatchEvent(new Event(type))
    document.dispatchEvent(new Event('visibilitychange'))
    await until(() => idp.counts.refresh === 1, 'the refresh on wake')
    await elapse(1_000)
    expect(idp.counts.token).toBe(1)
  })
})
