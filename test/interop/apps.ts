import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, preview } from 'vite'

/** The demo, in its real mode (`VITE_ISSUER` set). */
export const demoRoot = fileURLToPath(new URL('../../demo', import.meta.url))
/** The bare app of the callback cases. */
export const bareAppRoot = fileURLToPath(new URL('./app', import.meta.url))

/** What the app is built against: the `VITE_*` variables the demo's real mode reads. */
export interface AppEnv {
  VITE_ISSUER: string
  VITE_CLIENT_ID: string
  VITE_API_ORIGIN: string
  VITE_SCOPE: string
  /** `true`: the bare app asks the SDK for DPoP-bound tokens (`dpop: true`). */
  VITE_DPOP?: string
  /** JSON of the bare app's `defineApis()`: APIs with a token each. */
  VITE_APIS?: string
}

/** An app served by `vite preview` on 127.0.0.1. */
export interface ServedApp {
  readonly origin: string
  close(): Promise<void>
}

// The bare app has no vite.config.ts: read workspace packages from their sources, as the demo does.
const bareConfig = {
  configFile: false as const,
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
}

/** Runs `work` with `env` in `process.env` (where Vite reads `VITE_*` from), then restores it. */
export async function withEnv<T>(
  env: AppEnv | Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  Object.assign(process.env, env)
  try {
    return await work()
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}

/**
 * Builds the app at `root` with `env` into a temporary directory and serves it with `vite
 * preview` on a free port. `close` stops the server and deletes the build.
 */
export async function serveApp(root: string, env: AppEnv): Promise<ServedApp> {
  const outDir = await mkdtemp(join(tmpdir(), 'spa-auth-interop-'))
  const inline = {
    root,
    logLevel: 'warn' as const,
    ...(root === bareAppRoot ? bareConfig : {}),
    build: { outDir, emptyOutDir: true, sourcemap: false },
  }
  try {
    await withEnv(env, () => build(inline))
    const server = await preview({ ...inline, preview: { host: '127.0.0.1', port: 0 } })
    const origin = server.resolvedUrls!.local[0]!.replace(/\/$/, '')
    return {
      origin,
      async close() {
        await server.close()
        await rm(outDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(outDir, { recursive: true, force: true })
    throw error
  }
}
