/**
 * Where a BFF keeps its sessions, sign-in transactions and locks: a few string keys with
 * expiries. Every key the BFF writes is a hash or a fixed name, never a session id or a token.
 * Share one store between instances (see {@link redisStore}) and they share the sessions.
 */
export interface BffStore {
  /** The values of `keys`, in order; `undefined` for a key that is absent or expired. */
  get(keys: readonly string[]): Promise<(string | undefined)[]>
  /** Sets `key`, expiring in `ttl` milliseconds. */
  set(key: string, value: string, ttl: number): Promise<void>
  /** Sets `key` only when it is absent (a lock, a single-use marker); whether it did. */
  claim(key: string, value: string, ttl: number): Promise<boolean>
  /** Deletes `key`; with `value`, only while `key` still holds it (a lock's own release). */
  delete(key: string, value?: string): Promise<void>
  /** Stops what the store runs itself (timers); a shared client stays its owner's to close. */
  close?(): Promise<void>
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
  /**
   * The most keys it keeps (sessions, sign-ins under way, locks), so that a flood of sign-ins
   * started by anyone cannot grow the process without bound. Past it, the oldest sign-ins under
   * way go first; sessions, sign-outs and back-channel logouts are never dropped: with none of
   * those left to drop, a write fails (503). Default 100,000 (about 150 MiB of sessions).
   */
  maxEntries?: number
}

/** Why a store could not answer: the BFF says 503 `unavailable` and keeps nothing half done. */
export class StoreUnavailable extends Error {
  override name = 'StoreUnavailable'
}

// What may go when the store is full: sign-ins under way, which anyone can start.
const TRANSIENT = /^(tx|used):/

/**
 * Sessions in this process's memory: nothing to install, lost on restart, not shared between
 * instances. Expired keys are swept every minute.
 */
export function memoryStore(options: MemoryStoreOptions = {}): BffStore {
  const now = options.clock ?? (() => Date.now())
  const max = options.maxEntries ?? 100_000
  const entries = new Map<string, { value: string; expires: number }>()
  const put = (key: string, value: string, ttl: number) => {
    entries.delete(key) // to the end: the insertion order is the age
    if (entries.size >= max) {
      for (const name of entries.keys()) live(name)
      for (const name of entries.keys()) {
        if (entries.size < max) break
        if (TRANSIENT.test(name)) entries.delete(name)
      }
      if (entries.size >= max) throw new StoreUnavailable(`memory store: ${max} keys, none to drop`)
    }
    entries.set(key, { value, expires: now() + ttl })
  }
  const live = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.expires <= now()) entries.delete(key)
    return entry && entry.expires > now() ? entry : undefined
  }
  const sweep = setInterval(() => {
    for (const key of entries.keys()) live(key)
  }, 60_000)
  sweep.unref?.()
  return {
    get: async (keys) => keys.map((key) => live(key)?.value),
    async set(key, value, ttl) {
      put(key, value, ttl)
    },
    async claim(key, value, ttl) {
      if (live(key)) return false
      put(key, value, ttl)
      return true
    },
    async delete(key, value) {
      if (value === undefined || live(key)?.value === value) entries.delete(key)
    },
    async close() {
      clearInterval(sweep)
    },
  }
}
