// The BFF's own costs: what its proxy adds to an API call (beside the same call made directly,
// with the token, in the same run), with the memory store and with a real Redis, for 1 and 100
// concurrent calls; and what 10,000 sessions hold in each store.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Bff, type BffStore, memoryStore, redisStore } from '@spa-auth/bff'
import { browser, startBffStack } from '../test/bff/harness.js'
import { startRedis } from '../test/bff/redis.js'
import { fmt, markdownTable } from './table.js'

/** An API on 127.0.0.1 that answers every request at once with a small JSON body. */
async function startApi() {
  const body = JSON.stringify({ id: 1, item: 'Espresso machine' })
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** Latencies (µs) of `rounds` rounds of `concurrency` calls at once; p50 and p99. */
async function latencies(call: () => Promise<unknown>, concurrency: number, rounds: number) {
  const times: number[] = []
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const start = performance.now()
        await call()
        times.push((performance.now() - start) * 1000)
      }),
    )
  }
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 50), p99: percentile(times, 99) }
}

/** A store that keeps the last session record written: a real one, to copy for the memory figures. */
function recording(store: BffStore) {
  let session: string | undefined
  const kept: BffStore = {
    ...store,
    set: (key, value, ttl) => {
      if (key.startsWith('s:')) session = value
      return store.set(key, value, ttl)
    },
  }
  return { store: kept, session: () => session as string }
}

function gc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Heap bytes 10,000 copies of `record` take in a memory store. */
async function memoryPer10k(record: string): Promise<number> {
  const collect = gc()
  const store = memoryStore()
  collect()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 10_000; i++) {
    // A fresh string each: the store keeps what a session would keep, not one shared copy.
    await store.set(`s:${i.toString(36).padStart(43, 'x')}`, `${record} `.trim(), 3_600_000)
  }
  collect()
  const used = process.memoryUsage().heapUsed - before
  await store.close?.()
  return used
}

/** Redis `used_memory` that 10,000 copies of `record` add. */
async function redisPer10k(
  client: ReturnType<Awaited<ReturnType<typeof startRedis>>['client']>,
  record: string,
) {
  const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1])
  const before = await used()
  const store = redisStore(client, { prefix: 'bench-10k:' })
  for (let i = 0; i < 10_000; i += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, j) =>
        store.set(`s:${(i + j).toString(36).padStart(43, 'x')}`, record, 3_600_000),
      ),
    )
  }
  return (await used()) - before
}

/** The BFF section: proxy overhead beside a direct call, and memory per 10,000 sessions. */
export async function bffTable(): Promise<string> {
  const [stack, redis, api] = await Promise.all([startBffStack(), startRedis(), startApi()])
  try {
    const memory = recording(memoryStore())
    const routes = { '/api': api.origin }
    const bffs: [string, Bff][] = [
      ['memory store', stack.bff({ routes, store: memory.store })],
      ['Redis store', stack.bff({ routes, store: redisStore(redis.client()) })],
    ]
    const rows: (string | number)[][] = []
    for (const [label, bff] of bffs) {
      const user = browser()
      await user.signIn(bff, stack.idp)
      const token = stack.idp.lastTokens().accessToken as string
      const direct = async () => {
        const response = await fetch(`${api.origin}/orders`, {
          headers: { authorization: `Bearer ${token}` },
        })
        await response.arrayBuffer()
      }
      const cookie = `__Host-spa-auth=${user.cookies.get('__Host-spa-auth')?.value}`
      const proxied = async () => {
        const response = await bff(
          new Request('https://app.test/api/orders', {
            headers: { cookie, 'x-csrf': '1', 'sec-fetch-site': 'same-origin' },
          }),
        )
        if (response.status !== 200) throw new Error(`the BFF answered ${response.status}`)
        await response.arrayBuffer()
      }
      for (const concurrency of [1, 100]) {
        const rounds = concurrency === 1 ? 2_000 : 40
        // Warm-up, then each measured twice in turn: what slows the machine slows both.
        await latencies(direct, concurrency, rounds / 4)
        await latencies(proxied, concurrency, rounds / 4)
        const base = await latencies(direct, concurrency, rounds)
        const through = await latencies(proxied, concurrency, rounds)
        rows.push([
          label,
          concurrency,
          Math.round(base.p50),
          Math.round(through.p50),
          Math.round(through.p50 - base.p50),
          Math.round(base.p99),
          Math.round(through.p99),
        ])
      }
    }
    const record = memory.session()
    const heap = await memoryPer10k(record)
    const inRedis = await redisPer10k(redis.client(), record)
    return [
      markdownTable(
        [
          'store',
          'concurrent calls',
          'direct p50 µs',
          'through the BFF p50 µs',
          'BFF adds p50 µs',
          'direct p99 µs',
          'through the BFF p99 µs',
        ],
        rows,
      ),
      '',
      'Direct: `fetch` to the API on 127.0.0.1 with the token. Through the BFF: the same call as the',
      "browser's request to the BFF's handler (cookie, CSRF header), which loads the session, checks",
      'it and forwards with the token. The HTTP hop from the browser to the BFF is left out: it is the',
      "app server's, BFF or not.",
      '',
      `Sessions: one record is ${fmt(record.length)} B of JSON (a JWT access token, a refresh token,`,
      `the user's claims). 10,000 sessions: ${fmt(heap / 1024 / 1024, 1)} MiB of heap in the memory`,
      `store; ${fmt(inRedis / 1024 / 1024, 1)} MiB of Redis \`used_memory\`.`,
    ].join('\n')
  } finally {
    await Promise.all([stack.close(), redis.stop(), api.close()])
  }
}
