// DPoP (RFC 9449): where the key pair that tokens are bound to is kept. The engine loads this
// module only when the client asks for DPoP. It imports nothing of oauth4webapi's: a module
// shared with the worker's script would split that library into a chunk of its own.
import type { EngineConfig } from '../protocol.js'

const DB = 'spa-auth'
const STORE = 'dpop'
const OPEN_MS = 3_000
let stuck = false

let opened: Promise<IDBDatabase> | undefined

/** The key database, opened once per realm and kept open. */
function database(): Promise<IDBDatabase> {
  opened ??= new Promise<IDBDatabase>((resolve, reject) => {
    // An open that never answers (a known engine bug) must not hold up a sign-in: the key is
    // then kept in memory, and IndexedDB left alone in this realm.
    const timer = setTimeout(() => {
      stuck = true
      reject(new Error('IndexedDB did not open'))
    }, OPEN_MS)
    const open = indexedDB.open(DB, 1)
    open.onupgradeneeded = () => open.result.createObjectStore(STORE)
    open.onerror = () => {
      clearTimeout(timer)
      opened = undefined
      reject(open.error)
    }
    open.onsuccess = () => {
      clearTimeout(timer)
      const db = open.result
      // Another realm deletes or upgrades the database: let it, and open again next time.
      db.onversionchange = () => {
        db.close()
        opened = undefined
      }
      resolve(db)
    }
  })
  return opened
}

/** Runs one request on the key store, where the realm has IndexedDB (not in Node). */
async function keyStore<T>(
  mode: IDBTransactionMode,
  run: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T | undefined> {
  if (typeof indexedDB === 'undefined' || stuck) return undefined
  const db = await database()
  return new Promise((resolve, reject) => {
    let request: IDBRequest<T>
    try {
      request = run(db.transaction(STORE, mode).objectStore(STORE))
    } catch (error) {
      // A database of that name without our store: never a promise that does not settle.
      return reject(error)
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = (event) => {
      // A key another realm stored first: the caller reads that one.
      event.preventDefault()
      reject(request.error)
    }
  })
}

/** A new ES256 key pair whose private key cannot be exported, even by script in the page. */
function generate(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]) as Promise<CryptoKeyPair>
}

/**
 * The client's DPoP key pair: kept in IndexedDB (the key object only: its private half cannot be
 * read out), so that the page that comes back from the provider, and every tab, proves with the
 * key the sign-in named in `dpop_jkt`.
 */
export function createKeyStore(config: EngineConfig) {
  const id = `${config.issuer} ${config.clientId}`
  return {
    /** The stored pair, or a new one stored (or the one another tab stored meanwhile). */
    async load(): Promise<CryptoKeyPair> {
      // Storage that fails (a private window's quota, a blocked upgrade) leaves the pair in
      // memory only: a sign-in then needs it in this realm alone.
      const read = () =>
        keyStore<CryptoKeyPair>('readonly', (s) => s.get(id)).catch(() => undefined)
      const stored = await read()
      if (stored) return stored
      const fresh = await generate()
      // Another tab may store one meanwhile: then every tab proves with that one.
      const kept = await keyStore('readwrite', (s) => s.add(fresh, id)).then(() => fresh, read)
      return kept ?? fresh
    },
    /** Deletes the pair: the next sign-in makes another. */
    delete: () => keyStore('readwrite', (s) => s.delete(id)).catch(() => undefined),
  }
}

/** Where the client's DPoP key pair is kept. */
export type KeyStore = ReturnType<typeof createKeyStore>
