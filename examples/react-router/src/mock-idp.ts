import { createMockProvider, indexedDbPersistence } from '@spa-auth/mocks'

/** The second API, under its own path on this origin: it takes tokens of its own audience only. */
export const billing = { url: `${location.origin}/billing`, audience: 'urn:billing' }

/**
 * The mock provider and the two APIs, on this app's origin. The page and the token worker both
 * answer from it; its records live in IndexedDB, so a sign-in survives the redirects.
 */
export const idp = createMockProvider({
  issuer: `${location.origin}/mock-idp`,
  clientId: 'router-example',
  persist: indexedDbPersistence(),
  resources: [billing],
})
