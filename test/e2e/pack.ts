// The packages as a registry would serve them: built, packed with `pnpm pack`, and installed from
// the tarballs into an app outside the workspace.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

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
