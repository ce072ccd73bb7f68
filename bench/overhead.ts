import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { launchChromium } from '../test/e2e/chromium.js'
import { BROWSER_ONLY, CALLERS, type CallerName } from './callers.js'
import type { PairSample } from './pair.js'
import { APP } from './provider.js'
import { median } from './table.js'

const run = promisify(execFile)

/** What one way of calling costs per call, over the rounds of one run, in nanoseconds. */
export interface OverheadRow {
  name: CallerName
  /** Median per-call time, the median over the rounds. */
  medianNs: number
  /** What the caller adds to the bare transport: per round (bench/pair.ts), then the median over rounds. */
  extraNs: number
  /** The smallest and the largest of the rounds' `extraNs`: how steady the figure is. */
  extraRange: [number, number]
  /** Rounds measured (the bare transport: once beside every caller in every round). */
  rounds: number
}

/** Per-caller medians over rounds; the bare transport's row from every round's baseline. */
function rowsOf(samples: PairSample[], measured: CallerName[]): OverheadRow[] {
  const bases = samples.map((s) => s.baseNs)
  return [CALLERS[0], ...measured].map((name) => {
    if (name === CALLERS[0]) {
      return { name, medianNs: median(bases), extraNs: 0, extraRange: [0, 0], rounds: bases.length }
    }
    const mine = samples.filter((s) => s.name === name)
    const extras = mine.map((s) => s.extraNs)
    return {
      name,
      medianNs: median(mine.map((s) => s.medianNs)),
      extraNs: median(extras),
      extraRange: [Math.min(...extras), Math.max(...extras)],
      rounds: mine.length,
    }
  })
}

/** The callers in a different order each round, so no one always runs first or last. */
function order(measured: CallerName[], round: number): CallerName[] {
  return measured.map((_, i) => measured[(i + round) % measured.length]!)
}

/** Which callers to time: all but the baseline (itself timed beside each), or `only` those. */
export interface Selection {
  only?: ReadonlySet<CallerName> | undefined
}

function selected(where: 'node' | 'chromium', { only }: Selection): CallerName[] {
  return CALLERS.slice(1).filter(
    (name) => (!only || only.has(name)) && (where === 'chromium' || !BROWSER_ONLY.has(name)),
  )
}

/**
 * Node: each round starts a fresh process per caller (bench/overhead-child.ts), which times
 * the caller beside the bare transport (bench/pair.ts).
 */
export async function measureNode(
  childScript: string,
  selection: Selection = {},
  rounds = 5,
): Promise<OverheadRow[]> {
  const measured = selected('node', selection)
  const samples: PairSample[] = []
  for (let round = 0; round < rounds; round++) {
    for (const name of order(measured, round)) {
      const { stdout } = await run(process.execPath, [childScript, name])
      samples.push(JSON.parse(stdout.trim().split('\n').at(-1)!) as PairSample)
    }
  }
  return rowsOf(samples, measured)
}

/** bench/browser.ts and the callers, as one minified script for a page. */
async function pageScript(root: string): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'bench/browser.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    conditions: ['source'],
    // The token worker's URL (import.meta.url) goes unused: a custom token source runs no worker.
    logLevel: 'error',
  })
  return result.outputFiles[0]!.text
}

/**
 * Chromium (Debian's, headless): each round opens a fresh page per caller on a routed https
 * origin (no network), where the same code times the caller beside the bare transport.
 */
export async function measureChromium(
  root: string,
  selection: Selection = {},
  rounds = 5,
): Promise<OverheadRow[]> {
  const measured = selected('chromium', selection)
  const script = await pageScript(root)
  const html = `<!doctype html><title>bench</title><script>${script}</script>`
  const browser = await launchChromium()
  try {
    const samples: PairSample[] = []
    for (let round = 0; round < rounds; round++) {
      for (const name of order(measured, round)) {
        const context = await browser.newContext()
        await context.route(`${APP}/**`, (route) =>
          route.fulfill({ contentType: 'text/html', body: html }),
        )
        const page = await context.newPage()
        await page.goto(`${APP}/`)
        type Bench = { measurePair(name: CallerName): Promise<PairSample> }
        const sample = await page.evaluate(
          (n) => (globalThis as unknown as { spaAuthBench: Bench }).spaAuthBench.measurePair(n),
          name,
        )
        samples.push(sample)
        await context.close()
      }
    }
    return rowsOf(samples, measured)
  } finally {
    await browser.close()
  }
}
