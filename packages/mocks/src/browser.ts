// `@spa-auth/mocks/browser`: the mock provider in a page (local development, Storybook, a demo).
import './globals.js'
import { setupWorker } from 'msw/browser'
import type { MockProvider } from './provider.js'

export { type ProviderPageOptions, showProviderPage } from './pages.js'

/** Options of {@link startMockProvider}. */
export interface StartMockProviderOptions {
  /** Where the app serves MSW's service worker (`npx msw init public`). Default: `/mockServiceWorker.js`. */
  serviceWorkerUrl?: string
}

/**
 * Starts MSW's service worker with the provider's and the API's handlers, for the page's own
 * requests (discovery, the API). Requests nobody mocks go to the network, silently.
 *
 * @returns MSW's worker, to `stop()` it or `use()` handlers of your own.
 */
export async function startMockProvider(
  provider: MockProvider,
  options: StartMockProviderOptions = {},
) {
  const worker = setupWorker(...provider.handlers)
  await worker.start({
    onUnhandledRequest: 'bypass',
    quiet: true,
    serviceWorker: { url: options.serviceWorkerUrl ?? '/mockServiceWorker.js' },
  })
  return worker
}
