// The size of the typical-app bundles of bench/entries, built from the packages' src the way
// `pnpm bench` builds them (esbuild, minified ESM for the browser, React external), gzip -9.
// The ceiling stops any growth today; the target is where the bundles must get to.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { measure, OUR_ENTRIES } from '../../bench/size.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

const TARGET = { core: 10_000, react: 11_000 } as const
const CEILING = { core: 17_100, react: 18_000 } as const

describe('bundle size', () => {
  it.each([
    { entry: OUR_ENTRIES[0]!, ceiling: CEILING.core, target: TARGET.core },
    { entry: OUR_ENTRIES[1]!, ceiling: CEILING.react, target: TARGET.react },
  ])('$entry.name stays under $ceiling bytes gzip', async ({ entry, ceiling, target }) => {
    const size = await measure(root, entry)
    console.log(
      `size figures: bundle="${entry.name}" minified=${size.minified} gzip=${size.gzip} ` +
        `brotli=${size.brotli} ceilingGzip=${ceiling} targetGzip=${target} overTarget=${size.gzip - target}`,
    )
    expect(size.minified).toBeGreaterThan(size.gzip) // a real bundle, not an empty one
    expect(size.gzip).toBeLessThanOrEqual(ceiling)
  })
})
