import type { Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { launchChromium } from '../e2e/browser.js'
import type { AppEnv, ServedApp } from './apps.js'
import { type InteropProvider, openProvider } from './provider.js'
import { type ResourceServer, startResourceServer } from './resource-server.js'
import { createStops } from './stops.js'

/** The provider, the API and an app against them; `close` stops all three. */
export interface Stack {
  idp: InteropProvider
  api: ResourceServer
  /** The APIs besides `api`, each a resource of its own (see {@link StackOptions.apis}). */
  apis: ResourceServer[]
  app: ServedApp
  env: AppEnv
  close(): Promise<void>
}

/** Options of {@link startStack}. */
export interface StackOptions {
  /** Builds and serves the app against `env`; resolves once it listens. */
  serve(env: AppEnv): Promise<ServedApp>
  /** Access-token lifetime in seconds. */
  accessTokenTtl: number
  /** Fixed ports (default: free ones). */
  ports?: { provider?: number; api?: number }
  /**
   * DPoP (RFC 9449) end to end: the provider requires proofs with its nonces and binds the
   * tokens, the API takes DPoP-bound tokens with its own nonces, and the app is built with
   * `VITE_DPOP=true`. Default: off.
   */
  dpop?: boolean
  /** `Cross-Origin-Opener-Policy: same-origin` on the provider's pages. Default: off. */
  coop?: boolean
  /**
   * More resource servers, each taking tokens of its own audience only; with any, the app is
   * built with `VITE_APIS`: `api` and these as APIs with a token each, asked for by `resource`.
   */
  apis?: number
}

/**
 * Starts oidc-provider and the resource server on 127.0.0.1, then the app against them, then
 * registers the app's origin at both. Whatever started is stopped again if a later step fails.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const stops = createStops()
  const { close } = stops
  try {
    const idp = await openProvider(options.ports?.provider)
    stops.push(idp.close)
    const dpop = options.dpop ?? false
    const api = await startResourceServer(idp.issuer, {
      dpop,
      ...(options.ports?.api ? { port: options.ports.api } : {}),
    })
    stops.push(api.close)
    const apis: ResourceServer[] = []
    for (let i = 0; i < (options.apis ?? 0); i++) {
      apis.push(await startResourceServer(idp.issuer, { dpop }))
      stops.push(apis.at(-1)!.close)
    }
    const named = Object.fromEntries(
      [api, ...apis].map((server, i) => [
        `api${i}`,
        { url: server.origin, resource: server.resource },
      ]),
    )
    const env: AppEnv = {
      VITE_ISSUER: idp.issuer,
      VITE_CLIENT_ID: idp.clientId,
      VITE_API_ORIGIN: api.origin,
      VITE_SCOPE: 'openid profile email api:read',
      ...(dpop ? { VITE_DPOP: 'true' } : {}),
      ...(apis.length ? { VITE_APIS: JSON.stringify(named) } : {}),
    }
    const app = await options.serve(env)
    stops.push(app.close)
    idp.configure({
      appOrigins: [app.origin],
      resource: api.resource,
      otherResources: apis.map((server) => server.resource),
      accessTokenTtl: options.accessTokenTtl,
      dpop,
      coop: options.coop ?? false,
    })
    for (const server of [api, ...apis]) server.allowOrigins([app.origin])
    return { idp, api, apis, app, env, close }
  } catch (error) {
    await close().catch(() => {})
    throw error
  }
}

/**
 * The stack and a Chromium for one test file: started before its tests, stopped after them
 * (the browser first), also when one fails.
 */
export function startStackInChromium(options: StackOptions) {
  const ctx = {} as { stack: Stack; browser: Browser }
  beforeAll(async () => {
    ctx.stack = await startStack(options)
    ctx.browser = await launchChromium()
  })
  afterAll(async () => {
    try {
      await ctx.browser?.close()
    } finally {
      await ctx.stack?.close()
    }
  })
  return ctx
}
