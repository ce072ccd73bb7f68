// The size budget: the typical-app bundles of bench/entries, built from the packages' src the way
// `pnpm bench` builds them (esbuild, minified ESM for the browser, React external), gzip -9.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { measure, OUR_ENTRIES } from '../../bench/size.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

const BUDGET = { core: 10_000, react: 11_000 } as const

describe('bundle size budget', () => {
  it.each([
    { entry: OUR_ENTRIES[0]!, budget: BUDGET.core },
    { entry: OUR_ENTRIES[1]!, budget: BUDGET.react },
  ])('$entry.name stays within $budget bytes gzip', async ({ entry, budget }) => {
    const size = await measure(root, entry)
    console.log(
      `size figures: bundle="${entry.name}" minified=${size.minified} gzip=${size.gzip} brotli=${size.brotli} budgetGzip=${budget}`,
    )
    expect(size.minified).toBeGreaterThan(size.gzip) // a real bundle, not an empty one
    expect(size.gzip).toBeLessThanOrEqual(budget)
  })
})
