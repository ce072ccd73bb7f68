import { type AuthClient, createAuthClient } from '@spa-auth/core'
import ky from 'ky'
import { Bench, hrtimeNowTimestampProvider } from 'tinybench'

const API = 'https://api.example.com/orders'

/** Per-call latency of one way to call the API, in nanoseconds. */
export interface OverheadRow {
  name: string
  medianNs: number
  p99Ns: number
  samples: number
  /** Against calling the transport directly: what the wrapper adds. */
  extraMedianNs: number
  extraP99Ns: number
}

/** The in-process transport: answers at once, and notes the header it was sent. */
function createTransport() {
  const seen = { authorization: null as string | null }
  const transport: typeof fetch = async (input) => {
    if (input instanceof Request) seen.authorization = input.headers.get('authorization')
    return new Response('ok')
  }
  return { transport, seen }
}

/** A signed-in client whose token stays valid for the whole run. */
function signedIn(transport: typeof fetch): AuthClient {
  const auth = createAuthClient({
    apiOrigins: ['https://api.example.com'],
    fetch: transport,
    tokenSource: {
      refresh: () => Promise.reject(new Error('the overhead bench must not refresh')),
    },
  })
  auth.setTokens({ access_token: 'x', expires_in: 3600 })
  return auth
}

// A bench that measured a request without the token would flatter the wrapper: check first.
async function checkHeaders(
  calls: Record<string, () => Promise<unknown>>,
  seen: { authorization: string | null },
) {
  for (const [name, call] of Object.entries(calls)) {
    if (name === 'fetch (transport)') continue
    seen.authorization = null
    await call()
    if (seen.authorization !== 'Bearer x') {
      throw new Error(`overhead: ${name} sent Authorization ${String(seen.authorization)}`)
    }
  }
}

const ns = (ms: number) => ms * 1e6

/**
 * `auth.fetch` and ky (with a hand-written `beforeRequest` hook attaching the token) against
 * calling the same transport directly, with a valid token: tinybench, warm-up first.
 */
export async function measureOverhead(time = 2_000): Promise<OverheadRow[]> {
  const { transport, seen } = createTransport()
  const auth = signedIn(transport)
  const api = ky.create({
    fetch: transport,
    hooks: { beforeRequest: [(request) => request.headers.set('Authorization', 'Bearer x')] },
  })
  const calls: Record<string, () => Promise<unknown>> = {
    'fetch (transport)': () => transport(API),
    'auth.fetch': () => auth.fetch(API),
    'ky + beforeRequest hook': () => api.get(API),
  }
  await checkHeaders(calls, seen)

  const bench = new Bench({
    name: 'per-call overhead',
    time,
    warmupTime: 500,
    warmupIterations: 1_000,
    timestampProvider: hrtimeNowTimestampProvider,
    throws: true,
  })
  for (const [name, call] of Object.entries(calls)) bench.add(name, call)
  await bench.run()
  auth.dispose()

  const rows = bench.tasks.map((task) => {
    const result = task.result
    if (result.state !== 'completed') throw new Error(`overhead: ${task.name} ${result.state}`)
    return {
      name: task.name,
      medianNs: ns(result.latency.p50),
      p99Ns: ns(result.latency.p99),
      samples: result.latency.samplesCount,
    }
  })
  const base = rows[0]!
  return rows.map((row) => ({
    ...row,
    extraMedianNs: row.medianNs - base.medianNs,
    extraP99Ns: row.p99Ns - base.p99Ns,
  }))
}
