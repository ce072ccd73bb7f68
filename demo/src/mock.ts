import { setupWorker } from 'msw/browser'
import { idp } from './mock-idp'

export { idp }

/** Starts the service worker that answers the provider's and the API's endpoints for the page. */
export function startMocks(): Promise<unknown> {
  return setupWorker(...idp.handlers).start({
    onUnhandledRequest: 'bypass',
    quiet: true,
    serviceWorker: { url: '/mockServiceWorker.js' },
  })
}
