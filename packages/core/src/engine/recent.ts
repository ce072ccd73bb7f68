import type { Clock } from '../clock.js'

/**
 * A map that remembers at most `max` entries, each for `ttl` ms of `clock`: what the engine keeps
 * of sign-ins (started, handled) cannot grow with what ports send it, nor outlive its use. The
 * oldest goes first when it is full.
 */
export function createRecent<V>(clock: Clock, max: number, ttl: number) {
  const entries = new Map<string, { value: V; at: number }>()
  const sweep = () => {
    const now = clock.now()
    for (const [key, entry] of entries) if (!(now - entry.at < ttl)) entries.delete(key)
  }
  return {
    set(key: string, value: V): void {
      sweep()
      entries.delete(key)
      entries.set(key, { value, at: clock.now() })
      for (const oldest of entries.keys()) {
        if (entries.size <= max) break
        entries.delete(oldest)
      }
    },
    /** The entry of `key`, forgotten as it is read. */
    take(key: string): V | undefined {
      sweep()
      const entry = entries.get(key)
      entries.delete(key)
      return entry?.value
    },
    clear: () => entries.clear(),
  }
}

/** A bounded, expiring map. */
export type Recent<V> = ReturnType<typeof createRecent<V>>
