// `@spa-auth/mocks`: the mock provider and API (MSW handlers), and a browser for component tests.
// The page's start-up lives in `@spa-auth/mocks/browser`, the token worker's in `./worker`.
import './globals.js'

export type { MockResource } from './context.js'
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
export { MOCK_MFA_ACR, MOCK_PWD_ACR, MOCK_STEP_UP_MAX_AGE } from './stepup.js'
export type { MockDpopProof, MockDpopServer } from './store.js'
export {
  type MockSignInOptions,
  type MockUserOptions,
  mockBrowser,
  type SignInClient,
} from './testing.js'
