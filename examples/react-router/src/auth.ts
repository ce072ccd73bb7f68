import { createAuthClient, defineApis } from '@spa-auth/core'
import { billing, idp } from './mock-idp'

/** The app's one auth client, created once, outside React. */
export const auth = createAuthClient({
  issuer: idp.issuer,
  clientId: idp.clientId,
  redirectUri: `${location.origin}/callback`,
  // The orders API takes the session's token; the billing API, under its own path, a token of
  // its own audience, asked for with the one refresh token when it is first called.
  apiOrigins: [idp.apiOrigin],
  apis: defineApis({ billing: { url: `${billing.url}/`, audience: billing.audience } }),
  // The hidden silent sign-in frame lands on this empty page instead of loading the whole app.
  restore: { silentRedirectUri: `${location.origin}/silent-callback.html` },
  // The mock provider's token worker (src/token-worker.ts); leave this out with a real provider.
  tokenWorker: ({ name, shared }) =>
    shared
      ? new SharedWorker(new URL('./token-worker.ts', import.meta.url), { type: 'module', name })
      : new Worker(new URL('./token-worker.ts', import.meta.url), { type: 'module', name }),
})
