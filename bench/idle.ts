import { createAuthClient } from '@spa-auth/core'
import { createFakeClock } from './clock.js'

/** Token requests an idle signed-in client makes on its own over some minutes of fake time. */
export interface IdleRow {
  lifetimeS: number
  /** `refreshLeeway` given, or undefined for the default. */
  leeway: number | undefined
  minutes: number
  tokenRequests: number
  /** Token requests per access-token lifetime: the limit is 1.25. */
  perLifetime: number
  /** Seconds after it arrived that each token was refreshed (the first). */
  refreshedAfterS: number
}

/** Turns of the event loop: a refresh that the timer started lands within them. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** One idle client: tokens of `lifetimeS`, nobody calling, `minutes` of its own timers. */
export async function measureIdle(
  lifetimeS: number,
  leeway?: number,
  minutes = 10,
): Promise<IdleRow> {
  const clock = createFakeClock()
  const start = clock.now()
  const end = start + minutes * 60_000
  const refreshedAt: number[] = []
  const auth = createAuthClient({
    apiOrigins: ['https://api.example.com'],
    clock,
    ...(leeway === undefined ? {} : { refreshLeeway: leeway }),
    tokenSource: {
      async refresh() {
        refreshedAt.push(clock.now())
        return { access_token: 'a', expires_in: lifetimeS, refresh_token: 'r' }
      },
    },
  })
  auth.setTokens({ access_token: 'a', expires_in: lifetimeS, refresh_token: 'r' })
  const stop = auth.start()
  // The engine (a custom token source: in this realm) loads on demand and then arms its timer.
  await auth.getAccessToken()
  while (clock.nextAt !== undefined && clock.nextAt <= end) {
    clock.fireNext()
    await settle()
  }
  stop()
  auth.dispose()
  return {
    lifetimeS,
    leeway,
    minutes,
    tokenRequests: refreshedAt.length,
    perLifetime: refreshedAt.length / ((minutes * 60) / lifetimeS),
    refreshedAfterS: ((refreshedAt[0] ?? Number.NaN) - start) / 1000,
  }
}
