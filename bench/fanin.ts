import { createAuthClient } from '@spa-auth/core'
import { createFakeClock } from './clock.js'
import { median } from './table.js'
import { API, authorizationOf } from './transport.js'

/** What N concurrent `auth.fetch` calls with an expired token did. */
export interface FanInRow {
  callers: number
  /** Calls to the token source: the limit is 1. */
  tokenRequests: number
  /** API requests the transport received. */
  apiRequests: number
  /** Calls that did not end in the API's 200: the target is 0. */
  lost: number
  /** API requests sent with anything but the refreshed token: the target is 0. */
  staleToken: number
  /** Median time until the last call settled, over `runs` runs. */
  medianMs: number
  /** `medianMs` over the same figure for one caller. */
  vsSingle: number
  /** The same N calls made straight to the transport with a token at hand: Node's own cost. */
  plainMs: number
  runs: number
}

interface Run {
  tokenRequests: number
  apiRequests: number
  lost: number
  staleToken: number
  ms: number
}

/** One run: a fresh client whose access token expired, then `callers` calls at once. */
async function once(callers: number): Promise<Run> {
  let tokenRequests = 0
  let apiRequests = 0
  let staleToken = 0
  const transport: typeof fetch = async (input, init) => {
    apiRequests++
    const sent = authorizationOf(input, init)
    if (sent !== 'Bearer fresh') staleToken++
    return new Response('ok')
  }
  // A clock that never fires: no scheduled refresh races the callers; only they ask for one.
  const clock = createFakeClock()
  const auth = createAuthClient({
    apiOrigins: ['https://api.example.com'],
    fetch: transport,
    clock,
    tokenSource: {
      async refresh() {
        tokenRequests++
        return { access_token: 'fresh', expires_in: 3600 }
      },
    },
  })
  auth.setTokens({ access_token: 'expired', expires_in: 0 })
  const start = process.hrtime.bigint()
  const results = await Promise.allSettled(Array.from({ length: callers }, () => auth.fetch(API)))
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  auth.dispose()
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length
  return { tokenRequests, apiRequests, lost: callers - ok, staleToken, ms }
}

/** The baseline: N calls to the same transport, token written by hand, no refresh. */
async function plain(callers: number): Promise<number> {
  const transport: typeof fetch = async () => new Response('ok')
  const init = { headers: { Authorization: 'Bearer fresh' } }
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: callers }, () => transport(API, init)))
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** Runs per size: many where a run is short, so the median holds still. */
function runsFor(callers: number): number {
  if (callers <= 100) return 51
  if (callers <= 1_000) return 15
  return 5
}

/**
 * 1 … 10,000 concurrent `auth.fetch` calls with an expired token: token requests, requests lost,
 * and time until the last call completes relative to a single call. Counts are the worst run's.
 */
export async function measureFanIn(
  sizes: readonly number[] = [1, 10, 100, 1_000, 10_000],
): Promise<FanInRow[]> {
  // Warm-up: let the JIT settle before timing.
  for (let i = 0; i < 200; i++) {
    await once(10)
    await plain(10)
  }
  const rows: FanInRow[] = []
  for (const callers of sizes) {
    const results: Run[] = []
    const plainMs: number[] = []
    for (let run = 0; run < runsFor(callers); run++) {
      results.push(await once(callers))
      plainMs.push(await plain(callers))
    }
    const worst = (pick: (run: Run) => number) => Math.max(...results.map(pick))
    rows.push({
      callers,
      tokenRequests: worst((r) => r.tokenRequests),
      apiRequests: worst((r) => r.apiRequests),
      lost: worst((r) => r.lost),
      staleToken: worst((r) => r.staleToken),
      medianMs: median(results.map((r) => r.ms)),
      vsSingle: 0,
      plainMs: median(plainMs),
      runs: results.length,
    })
  }
  const single = rows.find((row) => row.callers === 1)?.medianMs ?? rows[0]!.medianMs
  return rows.map((row) => ({ ...row, vsSingle: row.medianMs / single }))
}
