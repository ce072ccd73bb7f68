// The page side of the Chromium overhead bench: bundled as one script (bench/overhead.ts) and
// run in a fresh page per caller and round. performance.now() is coarse in a page (100 µs):
// batches of 2,000 calls make that small beside what is timed.
import { measurePair } from './pair.js'

Object.assign(globalThis, { spaAuthBench: { measurePair } })
