import { onTestFinished, vi } from 'vitest'
import { server } from './harness.test-util.js'
import type { AuthEvent } from './index.js'

/**
 * Fakes the timers and the date only: faking microtasks hangs `fetch`. With `monotonic`, also
 * `performance.now()`, which `vi.setSystemTime` does not move: a test can set the wall clock back
 * or forth while the monotonic clock runs on.
 */
export function fakeTime({ monotonic = false } = {}): void {
  const toFake = ['setTimeout', 'clearTimeout', 'Date'] as const
  vi.useFakeTimers({ toFake: monotonic ? [...toFake, 'performance'] : [...toFake] })
}

// Real time, whatever a test fakes: how long the mock network has taken.
const realNow = performance.now.bind(performance)

/** One turn of the real event loop, for MSW and WebCrypto work in flight. */
const io = () => new Promise<void>((resolve) => setImmediate(resolve))

// Requests on the mock network, by id, with the real time they started.
const inflight = new Map<string, number>()
server.events.on('request:start', ({ requestId }) => {
  inflight.set(requestId, realNow())
})
// When the last request on the mock network ended, in real time.
let lastEnded = Number.NEGATIVE_INFINITY
for (const type of ['request:end', 'response:mocked', 'unhandledException'] as const) {
  server.events.on(type, ({ requestId }) => {
    inflight.delete(requestId)
    lastEnded = realNow()
  })
}

// How long in real time a request on the mock network may take before it counts as a hang: the
// browser tests beside these on two cores can hold a WebCrypto signature up for hundreds of ms,
// and fake time that moved on meanwhile would time out a request that was merely slow.
const HANG_MS = 1_000

// How long in real time the client may take with an answer after it arrived (an ID token's
// signature checked with WebCrypto) before fake time moves on: a token read a step of fake time
// late would be refreshed a step late.
const SETTLE_MS = 20

/**
 * Lets the mock network answer, and the client read the answer, before fake time moves on: the
 * mock signs tokens with WebCrypto, which takes real time. A request still open after
 * {@link HANG_MS} real is a hang, and is left alone.
 */
async function quiet(): Promise<void> {
  await io()
  const busy = () =>
    realNow() - lastEnded < SETTLE_MS ||
    [...inflight.values()].some((start) => realNow() - start < HANG_MS)
  while (busy()) await io()
}

/** Advances the fake clock in steps, letting requests in flight finish between steps. */
export async function elapse(ms: number, step = 250): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await vi.advanceTimersByTimeAsync(Math.min(step, ms - done))
    await quiet()
  }
}

/** Waits, in real time and without moving the fake clock, until `done()` holds. */
export async function until(done: () => boolean, what: string): Promise<void> {
  const start = realNow()
  while (!done()) {
    if (realNow() - start > 5_000) throw new Error(`Timed out waiting for ${what}`)
    await vi.advanceTimersByTimeAsync(0)
    await io()
  }
}

/** A promise's outcome, readable before it settles. */
export function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false }
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  )
  return state
}

/** The events of one type, typed. */
export function ofType<T extends AuthEvent['type']>(events: AuthEvent[], type: T) {
  return events.filter((e): e is Extract<AuthEvent, { type: T }> => e.type === type)
}

/** One POST seen on the mock network: when (fake clock) and its form or JSON body. */
export interface SeenRequest {
  at: number
  body: Record<string, string>
}

/** Every POST to `url` from now on, until the test ends. */
export function watchPosts(url: string): SeenRequest[] {
  const seen: SeenRequest[] = []
  const listener = ({ request }: { request: Request }) => {
    if (request.method !== 'POST' || request.url !== url) return
    const entry: SeenRequest = { at: Date.now(), body: {} }
    seen.push(entry)
    void request
      .clone()
      .text()
      .then((text) => {
        entry.body = text.startsWith('{')
          ? JSON.parse(text)
          : Object.fromEntries(new URLSearchParams(text))
      })
  }
  server.events.on('request:start', listener)
  onTestFinished(() => {
    server.events.removeListener('request:start', listener)
  })
  return seen
}

/** The time between one request and the next. */
export function gaps(requests: SeenRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i]!.at)
}

/** The most timestamps found within any window of `width` ms. */
export function mostWithin(times: number[], width = 60_000): number {
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u - t < width).length))
}
