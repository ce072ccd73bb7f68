// Several BFF instances sharing sessions in a real Redis (Debian's redis-server, started on a free
// port): sign in through one, call through another, sign out anywhere; one refresh across all
// instances; a Redis that freezes or drops its connections. Catalogue group J.
import { redisStore } from '@spa-auth/bff'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browser, grants, startBffStack } from './harness.js'
import { startRedis, type TestRedis } from './redis.js'

let stack: Awaited<ReturnType<typeof startBffStack>>
let redis: TestRedis
beforeAll(async () => {
  ;[stack, redis] = await Promise.all([startBffStack(), startRedis()])
})
afterAll(() => Promise.all([stack?.close(), redis?.stop()]))

/** `n` BFF instances, each with a Redis client of its own, on one clock the test moves. */
function instances(n: number, timeout = 2_000) {
  let offset = 0
  const clock = () => Date.now() + offset
  const prefix = `test:${Math.random().toString(36).slice(2)}:`
  const bffs = Array.from({ length: n }, (_, i) =>
    stack.bff({
      clock,
      instance: `bff-${i}`,
      store: redisStore(redis.client(), { prefix, timeout }),
    }),
  )
  return { bffs, prefix, advance: (ms: number) => (offset += ms) }
}

const refreshes = () => grants(stack.idp, 'refresh_token')

describe('instances that share a Redis', () => {
  it('J17: sign in through one instance, call through another, sign out through a third: the session ends everywhere', async () => {
    const { bffs } = instances(3)
    const [a, b, c] = bffs as [(typeof bffs)[0], (typeof bffs)[0], (typeof bffs)[0]]
    const user = browser()
    await user.signIn(a, stack.idp)
    const me = await user.fetch(b, '/api/me')
    expect(me.status).toBe(200)
    expect(me.headers.get('spa-auth-instance')).toBe('bff-1')
    expect((await user.fetch(c, '/bff/session')).status).toBe(200)
    const cookie = user.cookies.get('__Host-spa-auth')?.value as string
    expect((await user.fetch(c, '/bff/logout', { method: 'POST' })).status).toBe(200)
    // The cookie the browser had, presented to any instance, is worth nothing now.
    for (const bff of bffs) {
      const replay = browser()
      replay.cookies.set('__Host-spa-auth', { value: cookie, attributes: [] })
      expect((await replay.fetch(bff, '/api/me')).status).toBe(401)
    }
    // Redis holds hashes, never the cookie's id.
    const keys = await redis.client().keys('*')
    expect(keys.some((key) => key.includes(cookie))).toBe(false)
  })

  it.each([2, 3])(
    'J18: at expiry, calls spread over %i instances make one token request; the rotated session serves them all, twice over (no rotation race)',
    async (n) => {
      const { bffs, advance } = instances(n)
      const user = browser()
      await user.signIn(bffs[0]!, stack.idp)
      for (const round of [1, 2]) {
        advance(45_000)
        const before = refreshes()
        const calls = Array.from({ length: 60 }, (_, i) => user.fetch(bffs[i % n]!, '/api/me'))
        const answers = await Promise.all(calls)
        expect(
          answers.map((a) => a.status),
          `round ${round}`,
        ).toEqual(Array(60).fill(200))
        expect(refreshes() - before, `round ${round}`).toBe(1)
      }
      expect(stack.idp.serverErrors).toEqual([])
    },
  )

  it('J28: an instance that died holding the refresh lock delays the next refresh until the lock expires, and the session survives', async () => {
    const { bffs, prefix, advance } = instances(2)
    const user = browser()
    await user.signIn(bffs[0]!, stack.idp)
    advance(45_000)
    // The lock of this session, held by nobody alive: as if an instance had died mid-refresh.
    const admin = redis.client()
    const [session] = await admin.keys(`${prefix}s:*`)
    const lock = (session as string).replace(`${prefix}s:`, `${prefix}lock:`)
    await admin.set(lock, 'dead-instance', 'PX', 1_500)
    const before = refreshes()
    const started = Date.now()
    const answers = await Promise.all(bffs.map((bff) => user.fetch(bff, '/api/me')))
    expect(answers.map((a) => a.status)).toEqual([200, 200])
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000)
    expect(refreshes() - before).toBe(1)
  })

  it('J19: a frozen Redis (SIGSTOP) is a 503 within the store timeout, never a hang; the sessions are back when it is', async () => {
    const { bffs } = instances(2, 500)
    const user = browser()
    await user.signIn(bffs[0]!, stack.idp)
    redis.pause()
    try {
      const started = Date.now()
      const answers = await Promise.all(
        bffs.flatMap((bff) => [user.fetch(bff, '/api/me'), user.fetch(bff, '/bff/session')]),
      )
      expect(answers.map((a) => a.status)).toEqual([503, 503, 503, 503])
      expect(answers[0]!.headers.get('spa-auth-error')).toBe('unavailable')
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      redis.resume()
    }
    await expect.poll(async () => (await user.fetch(bffs[1]!, '/api/me')).status).toBe(200)
  })

  it('J20: Redis dropping every connection (CLIENT KILL) costs no session', async () => {
    const { bffs } = instances(2)
    const user = browser()
    await user.signIn(bffs[0]!, stack.idp)
    const admin = redis.client()
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal')
    await expect.poll(async () => (await user.fetch(bffs[1]!, '/api/me')).status).toBe(200)
    expect((await user.fetch(bffs[0]!, '/bff/session')).status).toBe(200)
  })
})
