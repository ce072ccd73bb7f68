// `@spa-auth/mocks/worker`: the token worker of an app that runs on the mock provider.
import './globals.js'
import { serveTokenWorker } from '@spa-auth/core/worker'
import { getResponse } from 'msw'
import type { MockProvider } from './provider.js'

/**
 * Runs the token worker of `@spa-auth/core` with the mock provider's handlers answering its
 * requests. The page's service worker (MSW's `setupWorker`) does not see what a worker fetches,
 * so the token requests are answered here; anything the handlers do not know goes to the network.
 *
 * @example
 * ```ts
 * // token-worker.ts, named by the client's `tokenWorker` option
 * import { serveMockTokenWorker } from '@spa-auth/mocks/worker'
 * import { idp } from './mock-idp'
 * serveMockTokenWorker(idp)
 * ```
 */
export function serveMockTokenWorker(provider: MockProvider): void {
  serveTokenWorker({
    async fetch(input, init) {
      const request = new Request(input, init)
      return (await getResponse(provider.handlers, request)) ?? fetch(request)
    },
  })
}
