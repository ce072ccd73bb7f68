// H28 of the catalogue: the device's wall clock set back or forward an hour (an NTP correction)
// while signed in with 60 s tokens. Lifetimes are measured on the monotonic clock, which the
// correction does not move: fake timers here fake `performance.now()` too, and `setSystemTime`
// moves the wall clock alone.
import { HttpResponse, http } from 'msw'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { systemClock } from './clock.js'
import { API, ISSUER, server, setup } from './harness.test-util.js'
import { portWorker } from './port.test-util.js'
import { elapse, fakeTime } from './time.test-util.js'

const TOKEN = `${ISSUER}/token`
const HOUR = 3_600_000
const LIFETIME_MS = 60_000
/** A 60 s token is refreshed at 54 s: a tenth of its lifetime early. */
const DUE_MS = 54_000
/** How long each scenario runs after the jump: three refreshes' worth. */
const AFTER_JUMP_MS = 200_000

afterEach(() => {
  vi.useRealTimers()
})

/** Every access token the provider issues from now on, with when it arrived (monotonic ms). */
function watchIssued(): Map<string, number> {
  const issued = new Map<string, number>()
  const listener = ({ request, response }: { request: Request; response: Response }) => {
    if (request.url !== TOKEN) return
    const at = performance.now()
    response
      .clone()
      .json()
      .then((body: { access_token?: string }) => {
        if (body.access_token) issued.set(body.access_token, at)
      })
      .catch(() => {})
  }
  server.events.on('response:mocked', listener)
  onTestFinished(() => {
    server.events.removeListener('response:mocked', listener)
  })
  return issued
}

/** Signs in with 60 s tokens on fake time whose monotonic clock the wall clock can leave. */
async function signedIn(options: Parameters<typeof setup>[0] = {}) {
  fakeTime({ monotonic: true })
  const issued = watchIssued()
  const ctx = setup(options, { accessTokenLifetime: LIFETIME_MS / 1000 })
  onTestFinished(() => ctx.auth.dispose())
  await ctx.signIn()
  await vi.advanceTimersByTimeAsync(0)
  return { ...ctx, issued }
}

/** When each token arrived, in seconds of monotonic time after the first. */
function arrivals(issued: Map<string, number>): number[] {
  const times = [...issued.values()].sort((a, b) => a - b)
  return times.map((t) => Math.round((t - times[0]!) / 100) / 10)
}

/** The longest time (s) in which no token was within its lifetime, up to `end` (s). */
function longestGap(times: number[], end: number): number {
  const next = [...times.slice(1), end]
  return Math.max(0, ...times.map((t, i) => next[i]! - (t + LIFETIME_MS / 1000)))
}

/** Whether a token is within its lifetime now, measured on the monotonic clock. */
function young(issued: Map<string, number>, token: string): boolean {
  const at = issued.get(token)
  return at !== undefined && performance.now() - at < LIFETIME_MS
}

/** Sends `auth.fetch` to the API and notes whether the token it carried was young there. */
function watchApi(issued: Map<string, number>): boolean[] {
  const seen: boolean[] = []
  server.use(
    http.get(`${API}/api/me`, ({ request }) => {
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''
      seen.push(young(issued, token))
      return HttpResponse.json({ ok: true })
    }),
  )
  return seen
}

describe('H28: the wall clock set back or forward while signed in', () => {
  it('H28: idle with 60 s tokens, the wall clock set back or forward an hour moves no refresh: each comes 54 s after the last, on monotonic time', async () => {
    const figures: string[] = []
    let longest = 0
    for (const jump of [-HOUR, HOUR]) {
      const { auth, issued } = await signedIn()
      // 20 s into the first token's life, the clock is corrected; nobody calls.
      await elapse(20_000, 1_000)
      vi.setSystemTime(Date.now() + jump)
      await elapse(AFTER_JUMP_MS, 1_000)

      const times = arrivals(issued)
      expect(times).toEqual([0, 54, 108, 162, 216])
      longest = Math.max(longest, longestGap(times, (20_000 + AFTER_JUMP_MS) / 1000))
      expect(auth.getState().status).toBe('authenticated')
      figures.push(
        `${jump < 0 ? 'backward' : 'forward'}Jump=${jump < 0 ? '-' : '+'}3600s refreshedAtS=${times.slice(1).join(',')}`,
      )
      auth.dispose()
    }
    expect(longest).toBe(0)
    console.log(`H28 figures: ${figures.join(' ')} longestGapWithoutUsableTokenS=${longest}`)
  })

  it.each([
    [-30_000, 50_000],
    [-10 * 60_000, 20_000],
    [-24 * HOUR, 5_000],
    [10 * 60_000, 50_000],
    [24 * HOUR, 20_000],
  ])(
    'H28: idle, the wall clock moved by %i ms at %i ms into a token moves no refresh either',
    async (jump, at) => {
      const { issued } = await signedIn()
      await elapse(at, 1_000)
      vi.setSystemTime(Date.now() + jump)
      await elapse(AFTER_JUMP_MS, 1_000)
      const times = arrivals(issued)
      expect(times.slice(0, 4)).toEqual([0, 54, 108, 162])
      expect(longestGap(times, (at + AFTER_JUMP_MS) / 1000)).toBe(0)
    },
  )

  it.each([
    ['back', -HOUR],
    ['forward', HOUR],
  ])(
    'H28: with the wall clock set %s an hour, getAccessToken() and auth.fetch never hand out a token past its 60 s on monotonic time',
    async (_, jump) => {
      const { auth, issued } = await signedIn()
      const sent = watchApi(issued)
      const handedOut: boolean[] = []
      await elapse(20_000, 1_000)
      vi.setSystemTime(Date.now() + jump)
      for (let waited = 0; waited < AFTER_JUMP_MS; waited += 5_000) {
        handedOut.push(young(issued, await auth.getAccessToken()))
        expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
        await elapse(5_000, 1_000)
      }

      expect(handedOut.every(Boolean)).toBe(true)
      expect(sent.every(Boolean)).toBe(true)
      expect(sent).toHaveLength(AFTER_JUMP_MS / 5_000)
      const times = arrivals(issued)
      const spacing = times.slice(1).map((t, i) => t - times[i]!)
      // Set back, nothing moves; set forward, the wall clock says the token is an hour old: the next
      // call refreshes it (once), and the cadence is 54 s again from there. Never a burst.
      expect(spacing.filter((s) => s < DUE_MS / 1000)).toHaveLength(jump < 0 ? 0 : 1)
      expect(Math.max(...spacing)).toBeLessThanOrEqual(LIFETIME_MS / 1000)
      console.log(
        `H28 figures: jump=${jump / 1000}s calls=${handedOut.length * 2} refreshes=${times.length - 1} refreshedAtS=${times.slice(1).join(',')} pastLifetime=0`,
      )
    },
  )

  it('H28: a sleep that stopped the monotonic clock (the wall clock two hours on, the monotonic not) still counts: getAccessToken() refreshes first', async () => {
    const { auth, issued } = await signedIn()
    const old = await auth.getAccessToken()
    vi.setSystemTime(Date.now() + 2 * HOUR)
    const fresh = await auth.getAccessToken()
    expect(fresh).not.toBe(old)
    expect(young(issued, fresh)).toBe(true)
    expect(issued.size).toBe(2)
  })

  it('H28: over a port to a worker whose monotonic clock has another origin, the page converts the wait on receipt: set back, no expired token; idle, refreshes every 54 s', async () => {
    // A worker started long after the page: its `performance.now()` counts from later.
    const worker = portWorker({
      clock: { ...systemClock, monotonic: () => performance.now() - 10 * HOUR },
    })
    const { auth, issued } = await signedIn({ tokenWorker: worker.factory })
    const handedOut: boolean[] = []
    await elapse(20_000, 1_000)
    vi.setSystemTime(Date.now() - HOUR)
    for (let waited = 0; waited < AFTER_JUMP_MS; waited += 5_000) {
      handedOut.push(young(issued, await auth.getAccessToken()))
      await elapse(5_000, 1_000)
    }
    // Then idle, and set forward: the timer in the worker still fires on its own monotonic time.
    vi.setSystemTime(Date.now() + HOUR)
    await elapse(AFTER_JUMP_MS, 1_000)

    expect(handedOut.every(Boolean)).toBe(true)
    const times = arrivals(issued)
    const spacing = times.slice(1).map((t, i) => t - times[i]!)
    expect(spacing.every((s) => s === DUE_MS / 1000)).toBe(true)
    expect(times.length).toBeGreaterThanOrEqual(8)
  })
})
