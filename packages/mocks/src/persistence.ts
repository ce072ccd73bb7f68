import type { MockPersistence } from './provider.js'

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

/**
 * The mock provider's database in IndexedDB, changed under a Web Lock: one database for every
 * realm of an origin (pages, the token worker), as a real provider's server would be. It holds
 * the provider's records (codes, hashes of refresh tokens, revocations), never a token.
 */
export function indexedDbPersistence(name = 'mock-idp'): MockPersistence {
  let opened: Promise<IDBDatabase> | undefined
  const open = () => {
    opened ??= (() => {
      const request = indexedDB.open(name, 1)
      request.onupgradeneeded = () => request.result.createObjectStore('db')
      return done(request)
    })()
    return opened
  }
  const store = async (mode: IDBTransactionMode) =>
    (await open()).transaction('db', mode).objectStore('db')
  return {
    async load() {
      return ((await done((await store('readonly')).get('db'))) as string | undefined) ?? null
    },
    async save(value) {
      await done((await store('readwrite')).put(value, 'db'))
    },
    lock: <T>(work: () => Promise<T>) =>
      navigator.locks.request(`${name}:db`, work) as Promise<unknown> as Promise<T>,
  }
}
