// Several APIs behind one BFF session, each with a token of its own (RFC 8707 resource
// indicators at oidc-provider): the right token to each API, one refresh per API for every
// caller, a 401 at one API leaves the other's token alone, a provider that ignores the resource
// said clearly. Two resource servers that each check `aud`. Catalogue group J.
import { memoryStore } from '@spa-auth/bff'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browser, grants, startBffStack } from './harness.js'

let stack: Awaited<ReturnType<typeof startBffStack>>
beforeAll(async () => {
  stack = await startBffStack({ secondApi: true })
})
afterAll(() => stack?.close())

/** A BFF with `/orders` on the first API and `/billing` on the second, each with its own token. */
function twoApis(extra: Record<string, unknown> = {}) {
  let offset = 0
  const clock = () => Date.now() + offset
  const other = stack.other!
  const bff = stack.bff({
    clock,
    store: memoryStore({ clock }),
    routes: {
      '/orders': { upstream: `${stack.api.origin}/api`, resource: stack.api.resource },
      '/billing': { upstream: `${other.origin}/api`, resource: other.resource },
      ...extra,
    },
  })
  return { bff, advance: (ms: number) => (offset += ms) }
}

const refreshes = () => grants(stack.idp, 'refresh_token')

describe('several APIs, a token each', () => {
  it('J31: each API gets a token of its own audience (each server checks aud); the sign-in asked for both resources, with one code exchange', async () => {
    const { bff } = twoApis()
    const user = browser()
    const codes = grants(stack.idp, 'authorization_code')
    const start = await user.fetch(bff, '/bff/login?returnTo=/', { api: false })
    const authorize = new URL(start.headers.get('location') as string)
    expect(authorize.searchParams.getAll('resource')).toEqual([
      stack.api.resource,
      stack.other!.resource,
    ])
    await user.signIn(bff, stack.idp)
    expect(grants(stack.idp, 'authorization_code') - codes).toBe(1)
    const [a0, b0] = [stack.api.requests.length, stack.other!.requests.length]
    for (let i = 0; i < 10; i++) {
      expect((await user.fetch(bff, '/orders/orders')).status).toBe(200)
      expect((await user.fetch(bff, '/billing/me')).status).toBe(200)
    }
    const orders = stack.api.requests.slice(a0)
    const billing = stack.other!.requests.slice(b0)
    expect(orders.map((r) => r.status)).toEqual(Array(10).fill(200))
    expect(billing.map((r) => r.status)).toEqual(Array(10).fill(200))
    // One token each, never the other's.
    expect(new Set(orders.map((r) => r.jti)).size).toBe(1)
    expect(new Set(billing.map((r) => r.jti)).size).toBe(1)
    expect(orders[0]!.jti).not.toBe(billing[0]!.jti)
  })

  it('J32: at expiry, 100 concurrent calls to each API make one refresh per API; a 401 at one API refreshes its token only', async () => {
    const { bff, advance } = twoApis()
    const user = browser()
    await user.signIn(bff, stack.idp)
    await user.fetch(bff, '/orders/me')
    await user.fetch(bff, '/billing/me')
    advance(45_000)
    let before = refreshes()
    const calls = Array.from({ length: 200 }, (_, i) =>
      user.fetch(bff, i % 2 ? '/billing/me' : '/orders/me'),
    )
    expect((await Promise.all(calls)).every((r) => r.status === 200)).toBe(true)
    expect(refreshes() - before).toBe(2)
    // The orders API stops taking its token: one refresh, for orders; billing's token stays.
    const billingJti = stack.other!.requests.at(-1)!.jti
    stack.api.revoke(stack.api.requests.at(-1)!.jti as string)
    before = refreshes()
    expect((await user.fetch(bff, '/orders/me')).status).toBe(200)
    expect(refreshes() - before).toBe(1)
    expect((await user.fetch(bff, '/billing/me')).status).toBe(200)
    expect(stack.other!.requests.at(-1)!.jti).toBe(billingJti)
    expect(refreshes() - before).toBe(1)
  })

  it('J33: a provider that ignores how a route asks for its token (a token for another audience) is a 502 configuration, nothing sent upstream, and the session goes on', async () => {
    // oidc-provider knows no `audience` parameter: it answers with the default resource's token.
    const { bff } = twoApis({
      '/reports': { upstream: `${stack.other!.origin}/api`, audience: 'https://reports.example' },
    })
    const user = browser()
    await user.signIn(bff, stack.idp)
    const seen = stack.other!.requests.length
    const refused = await user.fetch(bff, '/reports/me')
    expect(refused.status).toBe(502)
    expect(refused.headers.get('spa-auth-error')).toBe('configuration')
    expect((await refused.json()).error.message).toMatch(/not https:\/\/reports\.example/)
    expect(stack.other!.requests.length).toBe(seen)
    // The rotated refresh token was kept: the other routes still work.
    expect((await user.fetch(bff, '/billing/me')).status).toBe(200)
    expect((await user.fetch(bff, '/orders/me')).status).toBe(200)
  })

  it('J34: a route that names two ways to ask for its token, or a resource that is not a URL, is refused at createBff', () => {
    expect(() =>
      stack.bff({ routes: { '/x': { upstream: stack.api.origin, resource: 'a', audience: 'b' } } }),
    ).toThrow(/routes\['\/x'\].*one of resource, audience, scope/)
    expect(() =>
      stack.bff({ routes: { '/x': { upstream: stack.api.origin, resource: 'not a url' } } }),
    ).toThrow(/routes\['\/x'\]\.resource/)
  })
})
