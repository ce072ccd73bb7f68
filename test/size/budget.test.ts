// The size of the typical-app bundles of bench/entries, built from the packages' src the way
// `pnpm bench` builds them (esbuild, minified ESM for the browser, split into chunks, React
// external), gzip -9: what a page loads before it runs, and the token worker's own script.
// The ceiling stops any growth; the target is where the bundle must get to.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { measure, OUR_ENTRIES } from '../../bench/size.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

const BUDGET = [
  { entry: OUR_ENTRIES[0]!, ceiling: 7_500, target: 7_500 },
  { entry: OUR_ENTRIES[1]!, ceiling: 8_000, target: 8_000 },
  { entry: OUR_ENTRIES[2]!, ceiling: 13_700, target: 12_000 },
]

describe('bundle size', () => {
  it.each(BUDGET)(
    '$entry.name stays under $ceiling bytes gzip',
    async ({ entry, ceiling, target }) => {
      const size = await measure(root, entry)
      console.log(
        `size figures: bundle="${entry.name}" minified=${size.minified} gzip=${size.gzip} ` +
          `brotli=${size.brotli} onDemandGzip=${size.lazyGzip} ceilingGzip=${ceiling} ` +
          `targetGzip=${target} overTarget=${size.gzip - target}`,
      )
      expect(size.minified).toBeGreaterThan(size.gzip) // a real bundle, not an empty one
      expect(size.gzip).toBeLessThanOrEqual(ceiling)
    },
  )
})
