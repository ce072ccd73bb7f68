// Builds the demo once for a run of the browser tests: every file that serves it serves this one
// build (`serveDemo`), which is the same for all of them, instead of building it again.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the demo was built for this run. */
    demoOutDir: string
  }
}

export default async function setup(project: TestProject) {
  const root = fileURLToPath(new URL('../../demo', import.meta.url))
  const outDir = await mkdtemp(join(tmpdir(), 'spa-auth-demo-'))
  await build({ root, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
  project.provide('demoOutDir', outDir)
  return () => rm(outDir, { recursive: true, force: true })
}
