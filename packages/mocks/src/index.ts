export { indexedDbPersistence } from './persistence.js'
export type {
  MockFaults,
  MockPersistence,
  MockProvider,
  MockProviderOptions,
  TokenFault,
} from './provider.js'
export { createMockProvider } from './provider.js'
