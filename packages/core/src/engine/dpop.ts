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
      // Said by the rejection; not an error of the whole transaction.
      event.preventDefault()
      reject(request.error)
    }
  })
}

/** A new ES256 key pair whose private key cannot be exported, even by script in the page. */
export function generate(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]) as Promise<CryptoKeyPair>
}

const ES256 = { name: 'ECDSA', hash: 'SHA-256' }

/** An ECDSA P-256 key of `type` with exactly `usages`, made as {@link generate} makes them. */
function isKey(key: unknown, type: KeyType, usage: KeyUsage): key is CryptoKey {
  if (!(key instanceof CryptoKey) || key.type !== type) return false
  const { name, namedCurve } = key.algorithm as EcKeyAlgorithm
  return name === 'ECDSA' && namedCurve === 'P-256' && key.usages.join() === usage
}

/**
 * `value` when it is a key pair the engine could have made: an ECDSA P-256 `CryptoKeyPair` whose
 * private half cannot be exported, with the usages the engine gives its own keys, and whose
 * halves belong together (a signature of the one checks with the other). Else undefined: page
 * script can write IndexedDB, and a pair it planted (extractable, say) must never be proved.
 */
export async function checkedPair(value: unknown): Promise<CryptoKeyPair | undefined> {
  try {
    const { privateKey, publicKey } = (value ?? {}) as Partial<CryptoKeyPair>
    if (!isKey(privateKey, 'private', 'sign') || privateKey.extractable !== false) return undefined
    if (!isKey(publicKey, 'public', 'verify')) return undefined
    const data = crypto.getRandomValues(new Uint8Array(32))
    const signature = await crypto.subtle.sign(ES256, privateKey, data)
    const together = await crypto.subtle.verify(ES256, publicKey, signature, data)
    return together ? { privateKey, publicKey } : undefined
  } catch {
    // A getter that throws, a proxy, a key of another kind: not ours.
    return undefined
  }
}

/**
 * Where a sign-in's DPoP key pair waits across the redirect: in IndexedDB (the key objects only:
 * their private half cannot be read out), under the state of its sign-in, so that an engine that
 * did not start it (a worker restarted meanwhile, the page that comes back in per-tab or in-page
 * mode) can finish it. Read once, deleted as it is read.
 */
export function createKeyStore(config: EngineConfig) {
  const prefix = `${config.issuer} ${config.clientId}`
  return {
    /** Keeps the pair of the sign-in of `state`; storage that fails leaves it in memory only. */
    put: (state: string, keys: CryptoKeyPair) =>
      keyStore('readwrite', (s) => s.put(keys, `${prefix} ${state}`)).catch(() => undefined),
    /** The stored value of the sign-in of `state`, whatever it is, deleted at once. */
    async take(state: string): Promise<unknown> {
      const id = `${prefix} ${state}`
      const value = await keyStore('readonly', (s) => s.get(id)).catch(() => undefined)
      await keyStore('readwrite', (s) => s.delete(id)).catch(() => undefined)
      return value
    },
    /** Deletes every pair of this client (and whatever lies in its slots): at sign-out. */
    clear: () =>
      keyStore('readwrite', (s) => s.delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`))).catch(
        () => undefined,
      ),
  }
}

/** Where the client's DPoP key pairs wait across a redirect. */
export type KeyStore = ReturnType<typeof createKeyStore>
