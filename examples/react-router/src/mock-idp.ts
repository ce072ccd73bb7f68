import { createMockProvider, indexedDbPersistence } from '@spa-auth/mocks'

/**
 * The mock provider and API, on this app's origin. The page and the token worker both answer
 * from it; its records live in IndexedDB, so a sign-in survives the redirects.
 */
export const idp = createMockProvider({
  issuer: `${location.origin}/mock-idp`,
  clientId: 'router-example',
  persist: indexedDbPersistence(),
})
