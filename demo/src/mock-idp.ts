import { createMockProvider, indexedDbPersistence } from '@spa-auth/mocks'

/** The second API, under its own path: it takes tokens of its own audience only. */
export const billing = { url: `${location.origin}/billing`, audience: 'urn:billing' }

/**
 * The mock identity provider and its two APIs. Its handlers run in the page (MSW's service worker answers
 * the page's requests) and in the token worker (which makes every token request); both read one
 * database in IndexedDB, standing in for the provider's server. It never holds a token.
 */
export const idp = createMockProvider({
  issuer: `${location.origin}/mock-idp`,
  clientId: 'demo-spa',
  accessTokenLifetime: 60,
  persist: indexedDbPersistence(),
  resources: [billing],
})

type Faults = Parameters<typeof idp.setFaults>[0]

/** Sets one of the faults the page and the token worker share, keeping the others. */
export async function setSharedFault<K extends keyof Faults>(name: K, value: Faults[K]) {
  await idp.sync()
  const faults = { ...idp.sharedFaults }
  if (value === undefined) delete faults[name]
  else faults[name] = value
  await idp.setFaults(faults)
}
