// The demo behind @spa-auth/bff: oidc-provider and a resource server on 127.0.0.1, and one or more
// BFF instances (on a Redis of their own when more than one) mounted in Vite's server, round robin.
// `pnpm demo:bff` runs it with Vite's dev server; the Chromium test with a production build.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Bff, createBff, redisStore } from '@spa-auth/bff'
import { toNodeListener } from '@spa-auth/bff/node'
import { build, createServer, type Plugin, preview, type ViteDevServer } from 'vite'
import { demoRoot, withEnv } from '../interop/apps.js'
import { BFF_CLIENT, openProvider } from '../interop/provider.js'
import { startResourceServer } from '../interop/resource-server.js'
import { createStops } from '../interop/stops.js'
import { freePort, startRedis, type TestRedis } from './redis.js'

/** Options of {@link startBffDemo}. */
export interface BffDemoOptions {
  /** `dev`: Vite's dev server (hot reload); `build`: a production build served by `vite preview`. */
  mode: 'dev' | 'build'
  /** The app's port on 127.0.0.1. Default: a free one. */
  port?: number
  /** BFF instances; more than one share a Redis started for them. Default 1. */
  instances?: number
  /** Access-token lifetime in seconds. */
  accessTokenTtl: number
}

/** Mounts the BFF instances in Vite's server: each request of theirs to the next one in turn. */
function bffPlugin(bffs: Bff[]): Plugin {
  const listeners = bffs.map((bff) => toNodeListener(bff))
  let turn = 0
  const mount = (server: { middlewares: ViteDevServer['middlewares'] }) => {
    server.middlewares.use((req, res, next) =>
      listeners[turn++ % listeners.length]!(req, res, next),
    )
  }
  return { name: 'spa-auth-bff', configureServer: mount, configurePreviewServer: mount }
}

/** Starts everything; `close` stops it all, newest first, also when a step failed. */
export async function startBffDemo(options: BffDemoOptions) {
  const stops = createStops()
  const { close } = stops
  try {
    const idp = await openProvider()
    stops.push(idp.close)
    const api = await startResourceServer(idp.issuer)
    stops.push(api.close)
    const port = options.port ?? (await freePort())
    const origin = `http://127.0.0.1:${port}`
    const count = options.instances ?? 1
    let redis: TestRedis | undefined
    if (count > 1) {
      redis = await startRedis()
      stops.push(redis.stop)
    }
    const bffs = Array.from({ length: count }, (_, i) =>
      createBff({
        issuer: idp.issuer,
        clientId: BFF_CLIENT.clientId,
        clientAuth: { method: 'client_secret_basic', secret: BFF_CLIENT.secret },
        origin,
        scope: 'openid profile email api:read',
        routes: { '/api': `${api.origin}/api` },
        allowInsecureRequests: true,
        instance: `bff-${i + 1}`,
        ...(redis ? { store: redisStore(redis.client()) } : {}),
      }),
    )
    for (const bff of bffs) stops.push(() => bff.close())
    idp.configure({
      appOrigins: [],
      resource: api.resource,
      accessTokenTtl: options.accessTokenTtl,
      bffOrigins: [origin],
    })
    const plugins = [bffPlugin(bffs)]
    const server = { host: '127.0.0.1', port, strictPort: true }
    const env = { VITE_BFF: '/bff' }
    if (options.mode === 'dev') {
      const dev = await withEnv(env, () => createServer({ root: demoRoot, server, plugins }))
      await dev.listen()
      stops.push(() => dev.close())
    } else {
      const outDir = await mkdtemp(join(tmpdir(), 'spa-auth-bff-demo-'))
      stops.push(() => rm(outDir, { recursive: true, force: true }))
      const inline = {
        root: demoRoot,
        logLevel: 'warn' as const,
        build: { outDir, emptyOutDir: true, sourcemap: false },
      }
      await withEnv(env, () => build(inline))
      const served = await preview({ ...inline, preview: server, plugins })
      stops.push(() => served.close())
    }
    return { origin, idp, api, redis, bffs, close }
  } catch (error) {
    await close().catch(() => {})
    throw error
  }
}
