import { type BffStore, StoreUnavailable } from './store.js'

/**
 * The commands {@link redisStore} sends, as ioredis (and clients with its call shape) takes
 * them. The client is yours: connect it, and close it when the BFF stops.
 */
export interface RedisLike {
  mget(keys: string[]): Promise<(string | null)[]>
  set(key: string, value: string, px: 'PX', ttl: number, nx?: 'NX'): Promise<unknown>
  del(key: string): Promise<unknown>
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** Put before every key, so that several apps can share one Redis. Default `spa-auth:bff:`. */
  prefix?: string
  /** A command that has not answered after this many milliseconds fails (503). Default 2 s. */
  timeout?: number
}

// Deletes a lock only while it is still ours: another instance may hold it after ours expired.
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

/**
 * Sessions in Redis, shared by every BFF instance that uses the same Redis and prefix: sign in
 * through one, call through another, sign out anywhere. A Redis that does not answer in time
 * makes the BFF answer 503 (never a hang); sessions are back when Redis is.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * const store = redisStore(new Redis(process.env.REDIS_URL))
 * ```
 */
export function redisStore(client: RedisLike, options: RedisStoreOptions = {}): BffStore {
  const prefix = options.prefix ?? 'spa-auth:bff:'
  const limit = options.timeout ?? 2_000
  const bounded = <T>(what: string, command: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StoreUnavailable(`Redis ${what}: no answer in ${limit} ms`)),
        limit,
      )
      Promise.resolve()
        .then(command)
        .then(resolve, (cause: unknown) =>
          reject(new StoreUnavailable(`Redis ${what} failed`, { cause })),
        )
        .finally(() => clearTimeout(timer))
    })
  const key = (name: string) => prefix + name
  return {
    async get(keys) {
      if (!keys.length) return []
      const values = await bounded('MGET', () => client.mget(keys.map(key)))
      return values.map((value) => value ?? undefined)
    },
    async set(name, value, ttl) {
      await bounded('SET', () => client.set(key(name), value, 'PX', Math.ceil(ttl)))
    },
    async claim(name, value, ttl) {
      const answer = await bounded('SET NX', () =>
        client.set(key(name), value, 'PX', Math.ceil(ttl), 'NX'),
      )
      return answer === 'OK'
    },
    async delete(name, value) {
      await bounded('DEL', () =>
        value === undefined ? client.del(key(name)) : client.eval(RELEASE, 1, key(name), value),
      )
    },
  }
}
