import type { JWK } from 'jose'
import type { Page } from 'playwright-core'

/** The SDK's DPoP key as page script finds it in IndexedDB. */
export interface StoredKey {
  /** `privateKey.extractable`. */
  extractable: boolean
  algorithm: { name: string; namedCurve?: string }
  usages: string[]
  /** How `crypto.subtle.exportKey('jwk', privateKey)` ended: `exported`, or the error's name. */
  exportPrivate: string
  /** The public half, which any proof shows anyway: its thumbprint is the tokens' `cnf.jkt`. */
  publicJwk: JWK
}

/** What the SDK's key store (`spa-auth` / `dpop`) holds, read from the page. */
export interface KeyStoreView {
  /** Whether the `spa-auth` database exists at all. */
  database: boolean
  /** Every pair of the `dpop` store, by its id (`${issuer} ${clientId}`). */
  pairs: Record<string, StoredKey>
}

/**
 * Opens the SDK's key store in `page`, as any script of the origin could, and reads every pair
 * in it. Never creates the database: opening a missing one would make an empty one the SDK then
 * finds without its store.
 */
export function readKeyStore(page: Page): Promise<KeyStoreView> {
  return page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((db) => db.name)
    if (!names.includes('spa-auth')) return { database: false, pairs: {} }
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('spa-auth')
      open.onsuccess = () => resolve(open.result)
      open.onerror = () => reject(open.error)
    })
    try {
      if (!db.objectStoreNames.contains('dpop')) return { database: true, pairs: {} }
      const read = <T>(run: (store: IDBObjectStore) => IDBRequest<T>) =>
        new Promise<T>((resolve, reject) => {
          const request = run(db.transaction('dpop', 'readonly').objectStore('dpop'))
          request.onsuccess = () => resolve(request.result)
          request.onerror = () => reject(request.error)
        })
      const ids = await read((store) => store.getAllKeys())
      const pairs: Record<string, StoredKey> = {}
      for (const id of ids) {
        const { privateKey, publicKey } = await read<CryptoKeyPair>((store) => store.get(id))
        pairs[String(id)] = {
          extractable: privateKey.extractable,
          algorithm: privateKey.algorithm as StoredKey['algorithm'],
          usages: [...privateKey.usages],
          exportPrivate: await crypto.subtle.exportKey('jwk', privateKey).then(
            () => 'exported',
            (error: Error) => error.name,
          ),
          publicJwk: (await crypto.subtle.exportKey('jwk', publicKey)) as JWK,
        }
      }
      return { database: true, pairs }
    } finally {
      db.close()
    }
  })
}
