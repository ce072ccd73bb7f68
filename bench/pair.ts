// One way of timing a caller against the bare transport, in Node and in a page alike: batches of
// calls, the transport's batches and the caller's taking turns, so that whatever slows the
// machine for a while (a GC, another process) slows both alike. Per-call medians, in ns.
import { CALLERS, type CallerName, createCaller, createTransport } from './callers.js'
import { median } from './table.js'

/** Median per-call time of the bare transport and of one caller, in nanoseconds. */
export interface PairSample {
  name: CallerName
  baseNs: number
  medianNs: number
  /** The median of the differences of neighbouring batches: what the caller adds. */
  extraNs: number
}

async function batch(call: () => Promise<unknown>, size: number): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < size; i++) await call()
  return ((performance.now() - start) * 1e6) / size
}

/** Times `name` and the bare transport in `batches` turns of `size` calls each, after a warm-up. */
export async function measurePair(
  name: CallerName,
  batches = 31,
  size = 2_000,
): Promise<PairSample> {
  const created = createTransport()
  const base = await createCaller(CALLERS[0], created)
  const caller = await createCaller(name, created)
  // Warm-up: let the JIT settle on both before anything counts.
  for (let i = 0; i < 3; i++) {
    await batch(base.call, size)
    await batch(caller.call, size)
  }
  const baseNs: number[] = []
  const callerNs: number[] = []
  for (let i = 0; i < batches; i++) {
    // Each goes first every other turn: a GC owed by one batch falls on both alike.
    if (i % 2) callerNs.push(await batch(caller.call, size))
    baseNs.push(await batch(base.call, size))
    if (!(i % 2)) callerNs.push(await batch(caller.call, size))
  }
  caller.dispose()
  // Neighbouring batches ran under the same conditions: their difference is the steadiest figure.
  const extraNs = median(callerNs.map((ns, i) => ns - baseNs[i]!))
  return { name, baseNs: median(baseNs), medianNs: median(callerNs), extraNs }
}
