// Runs in its own `node --expose-gc` process (bench/soak.ts starts it): 10,000 refresh cycles on
// a manual clock, heap before and after, timers and listeners alive at the end. Prints one JSON.
import { createAuthClient } from '@spa-auth/core'
import { createFakeClock } from './clock.js'
import { API, authorizationOf } from './transport.js'

const LIFETIME_S = 3600

/** A page target that counts the listeners on it, standing in for `window` and `document`. */
class CountingTarget extends EventTarget {
  listeners = 0
  visibilityState = 'visible'
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners++
    super.addEventListener(...args)
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners--
    super.removeEventListener(...args)
  }
}

/** Real Node timers alive: the SDK must set none of its own with a clock injected. */
function realTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
}

/** A turn of the event loop: what a page gets between two refreshes an hour apart. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Heap in use after full GCs, with turns between them for finalizers to run. */
async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('soak: run with --expose-gc')
  for (let i = 0; i < 3; i++) {
    gc()
    await turn()
  }
  return process.memoryUsage().heapUsed
}

async function main(cycles: number, warmup: number) {
  const window = new CountingTarget()
  const document = new CountingTarget()
  Object.assign(globalThis, { window, document })
  const clock = createFakeClock()
  let issued = 0
  let apiOk = 0
  const transport: typeof fetch = async (input, init) => {
    const sent = authorizationOf(input, init)
    if (sent === `Bearer a${issued}`) apiOk++
    return new Response('ok')
  }
  const auth = createAuthClient({
    apiOrigins: ['https://api.example.com'],
    fetch: transport,
    clock,
    tokenSource: {
      async refresh({ refreshToken }) {
        if (refreshToken !== `r${issued}`) throw new Error(`soak: refreshed with ${refreshToken}`)
        issued++
        return { access_token: `a${issued}`, expires_in: LIFETIME_S, refresh_token: `r${issued}` }
      },
    },
  })
  const refreshed: Array<() => void> = []
  const unsubscribe = auth.on((event) => {
    if (event.type === 'refresh') refreshed.shift()?.()
  })
  auth.setTokens({ access_token: 'a0', expires_in: LIFETIME_S, refresh_token: 'r0' })
  const stop = auth.start()
  // The engine (in this realm: a custom token source) loads on demand and then arms its timer.
  await auth.getAccessToken()
  const realTimersAtStart = realTimers()

  // One cycle: the scheduled timer fires, the refresh lands, a wake event re-checks, one call.
  async function cycle(): Promise<void> {
    const done = new Promise<void>((resolve) => refreshed.push(resolve))
    if (!clock.fireNext()) throw new Error('soak: no refresh timer armed')
    await done
    window.dispatchEvent(new Event('focus'))
    const response = await auth.fetch(API)
    await response.text()
    await turn()
  }

  for (let i = 0; i < warmup; i++) await cycle()
  const heapBefore = await heapAfterGc()
  let ms = 0
  let start = performance.now()
  for (let i = 0; i < cycles / 2; i++) await cycle()
  ms += performance.now() - start
  // Halfway, so a steady growth (a leak) shows apart from one-off caches filled early on.
  const heapHalfway = await heapAfterGc()
  start = performance.now()
  for (let i = cycles / 2; i < cycles; i++) await cycle()
  ms += performance.now() - start
  const heapAfter = await heapAfterGc()
  const running = {
    fakeTimers: clock.pending,
    realTimers: realTimers() - realTimersAtStart,
    pageListeners: window.listeners + document.listeners,
  }
  stop()
  auth.dispose()
  unsubscribe()
  const disposed = {
    fakeTimers: clock.pending,
    realTimers: realTimers() - realTimersAtStart,
    pageListeners: window.listeners + document.listeners,
  }
  return {
    cycles,
    warmup,
    refreshes: issued,
    apiCallsWithNewToken: apiOk,
    ms,
    heapBefore,
    heapHalfway,
    heapAfter,
    running,
    disposed,
  }
}

/** What the child prints: the parent parses it. */
export type SoakReport = Awaited<ReturnType<typeof main>>

const cycles = Number(process.argv[2] ?? 10_000)
main(cycles, 200).then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  },
)
