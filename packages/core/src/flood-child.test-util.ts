// Runs in its own `node --expose-gc` process (H26 bundles it and starts it): a token worker's
// engine served on a real MessageChannel, with a sign-in under way, flooded with forged callbacks
// by another port. The mock provider answers its requests. Prints one JSON line.

import { MessageChannel } from 'node:worker_threads'
import { createMockProvider } from '@spa-auth/mocks'
import { getResponse } from 'msw'
import { systemClock } from './clock.js'
import { createEngine } from './engine/engine.js'
import { servePort } from './engine/serve.js'
import { VERSION } from './protocol.js'

const ISSUER = 'https://idp.example.com'
const APP = 'https://app.example.com'
const BATCH = 500

/** What a flood of forged callbacks left in the heap. */
export interface FloodReport {
  forged: number
  heapBeforeKiB: number
  heapAfterKiB: number
  ms: number
  refused: number
}

/** Heap in use after full GCs, with turns between them for finalizers to run. */
async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('flood: run with --expose-gc')
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

async function main(count: number) {
  const idp = createMockProvider({ issuer: ISSUER, clientId: 'spa' })
  const network: typeof fetch = async (input, init) =>
    (await getResponse(idp.handlers, new Request(input, init))) ?? Response.error()
  const engine = createEngine({
    config: {
      issuer: `${ISSUER}/`,
      clientId: 'spa',
      redirectUri: `${APP}/callback`,
      scope: 'openid profile',
      refreshLeeway: 60,
      requestTimeout: 10_000,
      clockTolerance: 30,
      allowInsecure: false,
    },
    refreshLeeway: 60,
    requestTimeout: 10_000,
    fetch: network,
    clock: systemClock,
  })
  const { port1: attacker, port2 } = new MessageChannel()
  servePort(engine, port2 as never)
  const pending = new Map<number, (reply: { ok: boolean }) => void>()
  attacker.on('message', (data: { type?: string; id: number; ok: boolean }) => {
    if (data.type === 'reply') pending.get(data.id)?.(data)
  })
  let ids = 0
  const ask = (message: object) =>
    new Promise<{ ok: boolean }>((resolve) => {
      const id = ++ids
      pending.set(id, (reply) => {
        pending.delete(id)
        resolve(reply)
      })
      attacker.postMessage({ v: VERSION, id, ...message })
    })
  // The user's own sign-in, at the provider while the flood comes.
  const authorized = await ask({ type: 'authorize', params: {} })
  if (!authorized.ok) throw new Error(`flood: authorize failed: ${JSON.stringify(authorized)}`)
  let refused = 0
  // Each forged callback names a new state as long as a port may send (2,048 characters).
  const forge = (i: number) => {
    const state = `${i}`.padStart(2_048, 's')
    const transaction = {
      state,
      verifier: 'v'.repeat(43),
      nonce: 'n'.repeat(22),
      redirectUri: `${APP}/callback`,
      issuer: `${ISSUER}/`,
      clientId: 'spa',
      createdAt: Date.now(),
    }
    const url = `${APP}/callback?code=forged&state=${state}&iss=${encodeURIComponent(ISSUER)}`
    return ask({ type: 'callback', url, transaction }).then((r) => {
      if (!r.ok) refused++
    })
  }
  const flood = async (from: number, to: number) => {
    for (let i = from; i < to; i += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, to - i) }, (_, k) => forge(i + k)))
    }
  }
  // A first round warms the code paths up, so that the heap after it is the baseline.
  await flood(0, 1_000)
  const before = await heapAfterGc()
  const started = performance.now()
  await flood(1_000, 1_000 + count)
  const ms = Math.round(performance.now() - started)
  const after = await heapAfterGc()
  attacker.close()
  const report: FloodReport = {
    forged: count,
    heapBeforeKiB: Math.round(before / 1024),
    heapAfterKiB: Math.round(after / 1024),
    ms,
    refused: refused - 1_000,
  }
  console.log(JSON.stringify(report))
}

await main(Number(process.argv[2] ?? 100_000))
