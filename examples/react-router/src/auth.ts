import { createAuthClient } from '@spa-auth/core'
import { idp } from './mock-idp'

/** The app's one auth client, created once, outside React. */
export const auth = createAuthClient({
  issuer: idp.issuer,
  clientId: idp.clientId,
  redirectUri: `${location.origin}/callback`,
  apiOrigins: [idp.apiOrigin],
  // The hidden silent sign-in frame lands on this empty page instead of loading the whole app.
  restore: { silentRedirectUri: `${location.origin}/silent-callback.html` },
  // The mock provider's token worker (src/token-worker.ts); leave this out with a real provider.
  tokenWorker: ({ name, shared }) =>
    shared
      ? new SharedWorker(new URL('./token-worker.ts', import.meta.url), { type: 'module', name })
      : new Worker(new URL('./token-worker.ts', import.meta.url), { type: 'module', name }),
})
