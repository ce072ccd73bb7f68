// `@spa-auth/mocks`: the mock provider and API (MSW handlers), and a browser for component tests.
// The page's start-up lives in `@spa-auth/mocks/browser`, the token worker's in `./worker`.
import './globals.js'

export { indexedDbPersistence } from './persistence.js'
export type {
  MockAnswer,
  MockFaults,
  MockPersistence,
  MockProvider,
  MockProviderOptions,
  TokenFault,
} from './provider.js'
export { createMockProvider } from './provider.js'
export { mockBrowser, type SignInClient } from './testing.js'
