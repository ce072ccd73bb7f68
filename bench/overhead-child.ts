// Runs in a fresh Node process (bench/overhead.ts starts one per caller and round, so no
// library's code warms or slows another's): times one caller beside the bare transport and
// prints one JSON line.
import { CALLERS, type CallerName } from './callers.js'
import { measurePair } from './pair.js'

const name = process.argv[2] as CallerName
if (!CALLERS.includes(name)) throw new Error(`overhead: no caller ${name}`)
measurePair(name).then(
  (sample) => process.stdout.write(`${JSON.stringify(sample)}\n`),
  (error: unknown) => {
    console.error(error)
    process.exitCode = 1
  },
)
