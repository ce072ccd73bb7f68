import { createMockProvider } from '@spa-auth/mocks'
import { setupWorker } from 'msw/browser'

/**
 * The mock identity provider and API. Its handlers run in the page through MSW's service worker;
 * its database (signing key, codes, refresh-token hashes: never a token) lives in localStorage,
 * standing in for the provider's server, so it survives the redirects.
 */
export const idp = createMockProvider({
  issuer: `${location.origin}/mock-idp`,
  clientId: 'demo-spa',
  accessTokenLifetime: 60,
  persist: {
    load: () => localStorage.getItem('mock-idp:db'),
    save: (value) => localStorage.setItem('mock-idp:db', value),
  },
})

/** Starts the service worker that answers the provider's and the API's endpoints. */
export function startMocks(): Promise<unknown> {
  return setupWorker(...idp.handlers).start({
    onUnhandledRequest: 'bypass',
    quiet: true,
    serviceWorker: { url: '/mockServiceWorker.js' },
  })
}
