import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthError, createAuthClient, type TokenJson } from './index.js'
import { outcome, simClock } from './sim.test-util.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20_250_917)
const API = 'https://api.example.com'
const CALLS = 10_000
const EXPIRIES = 100
const LIFETIME_S = 120

describe('C: load with faults', () => {
  it('C3: D6: 10,000 calls across 100 expiries while the token endpoint fails at random: none lost, duplicated or hung', async () => {
    const random = fc.sample(fc.double({ min: 0, max: 1, noNaN: true }), {
      seed: SEED,
      numRuns: 50_000,
    })
    let r = 0
    const rand = () => random[r++ % random.length]!
    const sim = simClock()
    let failing = true
    let refreshRequests = 0
    let issued = 0
    const valid = new Map<string, number>() // token → expires at (sim ms)

    /** The token endpoint: network errors, 5xx and slow answers while `failing`, then healthy. */
    const tokenSource = {
      refresh: ({ signal }: { signal: AbortSignal }): Promise<Response | TokenJson> => {
        refreshRequests += 1
        const roll = failing ? rand() : 1
        if (roll < 0.2) return Promise.reject(new TypeError('Failed to fetch'))
        if (roll < 0.4) return Promise.resolve(new Response('oops', { status: 503 }))
        const token = `at-${++issued}`
        const answer = () => {
          valid.set(token, sim.clock.now() + LIFETIME_S * 1000)
          return { access_token: token, expires_in: LIFETIME_S, token_type: 'Bearer' }
        }
        if (roll >= 0.6) return Promise.resolve(answer())
        // Slow: 2 to 15 s, past the 10 s request timeout for some.
        return new Promise((resolve, reject) => {
          const handle = sim.clock.setTimeout(() => resolve(answer()), 2_000 + rand() * 13_000)
          signal.addEventListener('abort', () => {
            sim.clock.clearTimeout(handle)
            reject(signal.reason)
          })
        })
      },
    }

    // The API: counts requests per call id; 200 for a live token, 401 otherwise.
    const perCall = new Map<string, { statuses: number[] }>()
    const transport: typeof fetch = async (input, init) => {
      const request = new Request(input, init)
      const id = request.headers.get('x-call')!
      const entry = perCall.get(id) ?? { statuses: [] }
      perCall.set(id, entry)
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''
      const status = (valid.get(token) ?? 0) > sim.clock.now() ? 200 : 401
      entry.statuses.push(status)
      return new Response(null, {
        status,
        headers: status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {},
      })
    }

    const auth = createAuthClient({
      tokenSource,
      apiOrigins: [API],
      fetch: transport,
      clock: sim.clock,
      crossTab: false,
    })
    auth.setTokens({ access_token: 'at-0', expires_in: LIFETIME_S })
    valid.set('at-0', sim.clock.now() + LIFETIME_S * 1000)

    const results: ReturnType<typeof outcome<Response>>[] = []
    const started = performance.now()
    for (let expiry = 0; expiry < EXPIRIES; expiry++) {
      // The last fifth of the run: the endpoint has recovered.
      failing = expiry < EXPIRIES * 0.8
      if (auth.getState().status !== 'authenticated') {
        auth.setTokens({ access_token: `at-re-${expiry}`, expires_in: LIFETIME_S })
        valid.set(`at-re-${expiry}`, sim.clock.now() + LIFETIME_S * 1000)
      }
      // Sleep past this token's expiry (the device slept: timers did not fire).
      sim.sleep(LIFETIME_S * 1000 + rand() * 5_000)
      const batch: ReturnType<typeof outcome<Response>>[] = []
      for (let i = 0; i < CALLS / EXPIRIES; i++) {
        const id = String(results.length + batch.length)
        batch.push(outcome(auth.fetch(`${API}/orders/${id}`, { headers: { 'x-call': id } })))
      }
      results.push(...batch)
      // Bounded: a call still pending after 200 timers (over an hour of simulated time) hangs.
      await sim.runUntil(() => batch.every((b) => b.settled), 200)
    }
    const elapsed = performance.now() - started

    const hung = results.filter((b) => !b.settled).length
    let lost = 0
    let duplicated = 0
    const untyped: unknown[] = []
    results.forEach((result, id) => {
      const seen = perCall.get(String(id))?.statuses ?? []
      // At most one replay, and only after a 401.
      if (seen.length > 2 || (seen.length === 2 && seen[0] !== 401)) duplicated += 1
      if (result.value) {
        // The answer the caller got is the last one the API gave for this call.
        if (seen.length === 0 || seen.at(-1) !== result.value.status) lost += 1
      } else if (result.settled && !(result.error instanceof AuthError)) untyped.push(result.error)
    })
    const ok = results.filter((b) => b.value?.status === 200).length
    const rejected = results.filter((b) => b.error !== undefined).length
    console.log(
      `load figures: calls=${results.length} expiries=${EXPIRIES} refreshRequests=${refreshRequests} ` +
        `lost=${lost} duplicated=${duplicated} hung=${hung} ok=${ok} rejectedTyped=${rejected} ` +
        `seed=${SEED} ms=${Math.round(elapsed)}`,
    )
    expect(results).toHaveLength(CALLS)
    expect({ hung, lost, duplicated, untyped }).toEqual({
      hung: 0,
      lost: 0,
      duplicated: 0,
      untyped: [],
    })
    // Single-flight: refreshes count per expiry (with retries), not per call.
    expect(refreshRequests).toBeLessThan(EXPIRIES * 10)
    // Once the endpoint recovered, the calls of the last expiries succeed.
    const recovered = results.slice(CALLS * 0.9)
    expect(recovered.every((b) => b.value?.status === 200)).toBe(true)
  }, 60_000)
})
