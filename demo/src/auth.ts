/// <reference types="vite/client" />
import { createAuthClient, defineApis } from '@spa-auth/core'
import { createAuthClient as createBffClient } from '@spa-auth/core/bff'
import { billing, idp } from './mock-idp'
import { dpopChosen } from './settings'

const env = import.meta.env

/**
 * The real provider's issuer when the demo was built or started with `VITE_ISSUER` (as
 * `pnpm demo:real` does); undefined in the default mode, against the mock provider (MSW).
 */
export const realIssuer: string | undefined = env.VITE_ISSUER || undefined

/**
 * The BFF's prefix when the demo runs behind `@spa-auth/bff` (`VITE_BFF`, as `pnpm demo:bff`
 * sets it): the session is the BFF's, and the API is called through its routes on this origin.
 */
export const bffPrefix: string | undefined = env.VITE_BFF || undefined

/** Whether the provider and the API are the in-browser mocks (MSW), as in `pnpm demo`. */
export const mocked = !realIssuer && !bffPrefix

/** Where the demo's API lives: `VITE_API_ORIGIN` in real mode, the page's own origin (MSW, BFF) else. */
export const apiBase: string = (realIssuer && env.VITE_API_ORIGIN) || ''

// http: only for a provider on this machine; anything else must be https:.
function isLocalHttp(issuer: string): boolean {
  const { protocol, hostname } = new URL(issuer)
  return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname)
}

/** Whether this page's client binds its tokens to the browser (DPoP): fixed for its life. */
export const dpop: boolean = !bffPrefix && dpopChosen(!mocked)

// The hidden silent sign-in frame lands on this empty page instead of loading the whole app.
const restore = { silentRedirectUri: `${location.origin}/silent-callback.html` }

/**
 * The app's one auth client: through the BFF (`VITE_BFF`), against `VITE_ISSUER` when set, else
 * the mock provider.
 */
export const auth = bffPrefix
  ? createBffClient({ bff: bffPrefix })
  : realIssuer
    ? createAuthClient({
        issuer: realIssuer,
        clientId: env.VITE_CLIENT_ID || 'demo-spa',
        redirectUri: `${location.origin}/callback`,
        scope: env.VITE_SCOPE || 'openid profile email offline_access',
        apiOrigins: apiBase ? [apiBase] : [location.origin],
        ...(isLocalHttp(realIssuer) ? { dangerouslyAllowInsecureHttp: true } : {}),
        restore,
        dpop,
      })
    : createAuthClient({
        issuer: idp.issuer,
        clientId: idp.clientId,
        redirectUri: `${location.origin}/callback`,
        scope: 'openid profile email offline_access',
        restore,
        dpop,
        // The API on this origin takes the session's token; the billing API, under its own path,
        // a token of its own audience, asked for with the one refresh token at its first call.
        apis: defineApis({ billing: { url: `${billing.url}/`, audience: billing.audience } }),
        // The token worker with the mock provider inside (see token-worker.ts).
        tokenWorker: ({ name, shared }) =>
          shared
            ? new SharedWorker(new URL('./token-worker.ts', import.meta.url), {
                type: 'module',
                name,
                extendedLifetime: true,
              } as WorkerOptions)
            : new Worker(new URL('./token-worker.ts', import.meta.url), { type: 'module', name }),
      })
