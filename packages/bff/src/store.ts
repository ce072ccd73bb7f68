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

/**
 * Sessions in this process's memory: nothing to install, lost on restart, not shared between
 * instances. Expired keys are swept every minute.
 */
export function memoryStore(options: { clock?: () => number } = {}): BffStore {
  const now = options.clock ?? (() => Date.now())
  const entries = new Map<string, { value: string; expires: number }>()
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
      entries.set(key, { value, expires: now() + ttl })
    },
    async claim(key, value, ttl) {
      if (live(key)) return false
      entries.set(key, { value, expires: now() + ttl })
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
