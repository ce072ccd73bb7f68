// The packages as a registry would serve them: built, packed with `pnpm pack`, and installed from
// the tarballs into an app outside the workspace.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { launchChromium } from './browser.js'

export const run = promisify(execFile)
export const workspace = fileURLToPath(new URL('../..', import.meta.url))

/** Our packages, by folder under packages/. */
export type PackageName = 'core' | 'react' | 'mocks'

/**
 * Packs `names` into a temporary folder (removed by the returned cleanup): tarball paths by name.
 * `pnpm test` builds first; a run of one file alone builds what is missing.
 */
export async function packPackages(
  names: PackageName[],
): Promise<{ tarballs: Record<string, string>; cleanup: () => Promise<void> }> {
  const built = names.map((name) => join(workspace, 'packages', name, 'dist/index.js'))
  if (!built.every((file) => existsSync(file)))
    await run('pnpm', ['-r', '--filter', './packages/*', 'build'], { cwd: workspace })
  const dir = await mkdtemp(join(tmpdir(), 'spa-auth-tarballs-'))
  const tarballs: Record<string, string> = {}
  for (const name of names) {
    const cwd = join(workspace, 'packages', name)
    const { stdout } = await run('pnpm', ['pack', '--json', '--pack-destination', dir], { cwd })
    tarballs[name] = JSON.parse(stdout).filename as string
  }
  return { tarballs, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * The dependencies and overrides that install `tarballs` in place of the registry's packages:
 * our packages ask for each other at ^0.1.0, which the tarballs stand in for.
 */
export function fromTarballs(tarballs: Record<string, string>) {
  const specs = Object.fromEntries(
    Object.entries(tarballs).map(([name, file]) => [`@spa-auth/${name}`, `file:${file}`]),
  )
  return { dependencies: specs, pnpm: { overrides: specs } }
}

/** An app installed from the tarballs, and the Chromium that visits it. */
export interface InstalledApp {
  dir: string
  browser: Browser
  /** Removes or closes something once the file's tests are done. */
  cleanup(done: () => Promise<unknown>): void
}

/**
 * For the whole test file: `packages` packed, an app made by `create` from the tarballs (it
 * registers what to remove), and Chromium; all removed afterwards, and `figures` printed last
 * as `${label} figures: …`.
 */
export function installedApp(
  packages: PackageName[],
  create: (
    tarballs: Record<string, string>,
    cleanup: (done: () => Promise<unknown>) => void,
  ) => Promise<string>,
  label: string,
  figures: Record<string, string | number>,
): InstalledApp {
  const cleanups: Array<() => Promise<unknown>> = []
  const app = {
    cleanup: (done: () => Promise<unknown>) => {
      cleanups.push(done)
    },
  } as InstalledApp
  beforeAll(async () => {
    const { tarballs, cleanup } = await packPackages(packages)
    cleanups.push(cleanup)
    app.dir = await create(tarballs, app.cleanup)
    app.browser = await launchChromium()
    cleanups.push(() => app.browser.close())
  })
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
    const line = Object.entries(figures).map(([key, value]) => `${key}=${value}`)
    console.log(`${label} figures: ${line.join(' ')}`)
  })
  return app
}
