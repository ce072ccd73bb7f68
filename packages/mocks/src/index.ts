export type { MockProvider, MockProviderOptions, TokenFault } from './provider.js'
export { createMockProvider } from './provider.js'
