// The BFF's API proxy: the token attached and refreshed once for every caller, one replay after a
// 401, challenges passed on, what never crosses it, timeouts; session lifetimes. Catalogue group J.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { memoryStore } from '@spa-auth/bff'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browser, grants, startBffStack } from './harness.js'

/** An upstream API whose answers the path picks; it records what it received. */
async function startUpstream() {
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = []
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const path = new URL(req.url ?? '/', 'http://up').pathname
    received.push({ path, headers: req.headers, body })
    if (path === '/always-401')
      return res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
    if (path === '/step-up') {
      return res
        .writeHead(401, {
          'www-authenticate':
            'Bearer error="insufficient_user_authentication", acr_values="urn:example:mfa"',
        })
        .end()
    }
    if (path === '/hang') return // never answers
    if (path === '/gzip') {
      return res
        .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' })
        .end(gzipSync(JSON.stringify({ zipped: true })))
    }
    if (path === '/redirect')
      return res.writeHead(302, { location: 'https://elsewhere.example/' }).end()
    res.writeHead(200, {
      'content-type': 'application/json',
      'set-cookie': 'upstream=1; Path=/',
      connection: 'x-upstream-hop',
      'x-upstream-hop': 'secret',
      'spa-auth-error': 'session_expired',
      'cache-control': 'max-age=60',
    })
    res.end(JSON.stringify({ ok: true, method: req.method }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

let stack: Awaited<ReturnType<typeof startBffStack>>
let upstream: Awaited<ReturnType<typeof startUpstream>>
beforeAll(async () => {
  ;[stack, upstream] = await Promise.all([startBffStack(), startUpstream()])
})
afterAll(() => Promise.all([stack?.close(), upstream?.close()]))

/** A BFF on a clock the test moves, with the stack's API on `/api` and the test upstream on `/up`. */
function clockedBff(options: Parameters<typeof stack.bff>[0] = {}) {
  let offset = 0
  const clock = () => Date.now() + offset
  const bff = stack.bff({
    clock,
    store: memoryStore({ clock }),
    routes: { '/api': `${stack.api.origin}/api`, '/up': upstream.origin },
    ...options,
  })
  return { bff, advance: (ms: number) => (offset += ms) }
}

const refreshes = () => grants(stack.idp, 'refresh_token')

describe('the API proxy', () => {
  it("J9: attaches the session's token; the browser's cookies, CSRF header and hop-by-hop headers never go upstream, the API's cookies never come back", async () => {
    const { bff } = clockedBff()
    const b = browser()
    await b.signIn(bff, stack.idp)
    const answer = await b.fetch(bff, '/up/echo?x=1', {
      method: 'POST',
      body: JSON.stringify({ hello: 'world' }),
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer forged-by-the-page',
        connection: 'x-hop',
        'x-hop': 'private',
        'keep-alive': 'timeout=5',
        'x-forwarded-for': '10.0.0.1',
        'x-real-ip': '10.0.0.1',
        expect: '100-continue',
        'accept-encoding': 'zstd',
        'x-app': 'kept',
      },
    })
    expect(answer.status).toBe(200)
    expect(await answer.json()).toEqual({ ok: true, method: 'POST' })
    expect(answer.headers.get('set-cookie')).toBeNull()
    expect(answer.headers.get('x-upstream-hop')).toBeNull()
    // An API cannot speak for the BFF: the page would take it for the BFF's own failure.
    expect(answer.headers.get('spa-auth-error')).toBeNull()
    expect(answer.headers.get('cache-control')).toBe('max-age=60')
    const sent = upstream.received.at(-1)!
    expect(sent.path).toBe('/echo')
    expect(sent.body).toBe('{"hello":"world"}')
    expect(sent.headers.authorization).toBe(`Bearer ${stack.idp.lastTokens().accessToken}`)
    expect(sent.headers['x-app']).toBe('kept')
    for (const name of ['cookie', 'x-csrf', 'x-hop', 'keep-alive', 'origin', 'sec-fetch-site'])
      expect(sent.headers[name], name).toBeUndefined()
    for (const name of ['x-forwarded-for', 'x-real-ip', 'expect'])
      expect(sent.headers[name], name).toBeUndefined()
    // Only encodings the BFF's fetch decodes: the browser gets bytes it can read.
    expect(sent.headers['accept-encoding']).toBe('gzip, deflate, br')
  })

  it.each([1, 100, 1_000])(
    'J10: %i concurrent calls after the token expired make one token request',
    async (n) => {
      const { bff, advance } = clockedBff()
      const b = browser()
      await b.signIn(bff, stack.idp)
      await b.fetch(bff, '/api/me')
      advance(45_000) // 60 s tokens, refreshed 30 s ahead
      const before = refreshes()
      const answers = await Promise.all(Array.from({ length: n }, () => b.fetch(bff, '/api/me')))
      expect(answers.map((a) => a.status)).toEqual(Array(n).fill(200))
      expect(refreshes() - before).toBe(1)
      // The rotated session serves the next calls without another refresh.
      expect((await b.fetch(bff, '/api/orders')).status).toBe(200)
      expect(refreshes() - before).toBe(1)
    },
  )

  it("J11: after the API's 401, one refresh and one replay; a second 401 is the caller's, never a loop", async () => {
    const { bff } = clockedBff()
    const b = browser()
    await b.signIn(bff, stack.idp)
    const me = await b.fetch(bff, '/api/me')
    expect(me.status).toBe(200)
    // The API stops taking the session's token: the BFF refreshes and replays once.
    const jti = stack.api.requests.at(-1)?.jti as string
    stack.api.revoke(jti)
    let before = refreshes()
    const replayed = await b.fetch(bff, '/api/me')
    expect(replayed.status).toBe(200)
    expect(refreshes() - before).toBe(1)
    // An API that refuses every token: two requests, one refresh, its 401 passed on.
    before = refreshes()
    const seen = upstream.received.length
    const refused = await b.fetch(bff, '/up/always-401')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('spa-auth-error')).toBeNull()
    expect(upstream.received.length - seen).toBe(2)
    expect(refreshes() - before).toBe(1)
  })

  it('J12: a step-up challenge (RFC 9470) goes to the browser as it is, with no refresh', async () => {
    const { bff } = clockedBff()
    const b = browser()
    await b.signIn(bff, stack.idp)
    const before = refreshes()
    const seen = upstream.received.length
    const answer = await b.fetch(bff, '/up/step-up')
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toMatch(/insufficient_user_authentication/)
    expect(upstream.received.length - seen).toBe(1)
    expect(refreshes()).toBe(before)
  })

  it('J13: an upstream that hangs is a 504 timeout; a redirect is passed on, not followed; a gzipped answer arrives decoded', async () => {
    const { bff } = clockedBff({ upstreamTimeout: 300 })
    const b = browser()
    await b.signIn(bff, stack.idp)
    const started = Date.now()
    const hung = await b.fetch(bff, '/up/hang')
    expect(hung.status).toBe(504)
    expect(hung.headers.get('spa-auth-error')).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(3_000)
    const moved = await b.fetch(bff, '/up/redirect')
    expect(moved.status).toBe(302)
    expect(moved.headers.get('location')).toBe('https://elsewhere.example/')
    const zipped = await b.fetch(bff, '/up/gzip')
    expect(zipped.headers.get('content-encoding')).toBeNull()
    expect(await zipped.json()).toEqual({ zipped: true })
  })

  it('J14: a body over maxBodyBytes is refused with 413 and nothing upstream', async () => {
    const { bff } = clockedBff({ maxBodyBytes: 1024 })
    const b = browser()
    await b.signIn(bff, stack.idp)
    const seen = upstream.received.length
    const big = await b.fetch(bff, '/up/echo', { method: 'POST', body: 'x'.repeat(2048) })
    expect(big.status).toBe(413)
    expect(upstream.received.length).toBe(seen)
  })

  it('J15: without a session, 401 login_required; a refresh token the provider no longer takes ends the session with one session_expired', async () => {
    const { bff, advance } = clockedBff()
    const b = browser()
    const none = await b.fetch(bff, '/api/me')
    expect(none.status).toBe(401)
    expect(none.headers.get('spa-auth-error')).toBe('login_required')
    await b.signIn(bff, stack.idp)
    await b.fetch(bff, '/api/me')
    // Revoked behind the BFF's back: the next refresh gets invalid_grant.
    const { refreshToken } = stack.idp.lastTokens()
    await fetch(`${stack.idp.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('bff-app:bff-secret-not-a-secret')}` },
      body: new URLSearchParams({ token: refreshToken as string }),
    })
    advance(45_000)
    const ended = await b.fetch(bff, '/api/me')
    expect(ended.status).toBe(401)
    expect(ended.headers.get('spa-auth-error')).toBe('session_expired')
    expect((await b.fetch(bff, '/bff/session')).status).toBe(401)
  })
})

describe('what an attacker sends the BFF', () => {
  it('J29: oversized cookies and headers, a flood of sign-in cookies, malformed callbacks: 4xx, and the BFF keeps serving', async () => {
    const { bff } = clockedBff()
    const user = browser()
    await user.signIn(bff, stack.idp)
    const stranger = browser()
    const huge = 'x'.repeat(64 * 1024)
    const attempts: [string, RequestInit][] = [
      ['/api/me', { headers: { cookie: `__Host-spa-auth=${huge}` } }],
      [
        '/api/me',
        { headers: { cookie: Array.from({ length: 2_000 }, (_, i) => `c${i}=${i}`).join('; ') } },
      ],
      ['/api/me', { headers: { 'x-csrf': huge, cookie: '__Host-spa-auth=a; __Host-spa-auth=b' } }],
      ['/bff/session', { headers: { cookie: `__Host-spa-auth-error=${huge}` } }],
      ['/bff/callback?state=a&state=b&code=c', {}],
      [`/bff/callback?state=${huge}&code=c`, {}],
      ['/bff/callback?code=c&code=d&state=%00', {}],
      ['/bff/login?returnTo=/&max_age=99999999999999999999', {}],
      ['/bff/nothing-here', {}],
      ['/bff/logout', { method: 'GET' }],
    ]
    for (const [path, init] of attempts) {
      const answer = await stranger.fetch(bff, path, init)
      expect(answer.status, path.slice(0, 60)).toBeGreaterThanOrEqual(400)
      expect(answer.status, path.slice(0, 60)).toBeLessThan(500)
      expect(answer.headers.get('spa-auth-error')).toEqual(expect.any(String))
    }
    // A page that starts sign-ins in a loop: the transaction cookies never pile up past a few.
    for (let i = 0; i < 20; i++) await stranger.fetch(bff, '/bff/login?returnTo=/', { api: false })
    const open = [...stranger.cookies.keys()].filter((n) => n.startsWith('__Host-spa-auth-tx-'))
    expect(open.length).toBeLessThanOrEqual(4)
    // Through all that, the signed-in user was served as before.
    expect((await user.fetch(bff, '/api/me')).status).toBe(200)
  })
})

describe('paths, hosts and floods', () => {
  it('J35: an encoded slash, dot or backslash in an API path is refused (400) before anything goes upstream', async () => {
    const { bff } = clockedBff()
    const user = browser()
    await user.signIn(bff, stack.idp)
    const seen = upstream.received.length
    for (const path of [
      '/up/..%2fadmin',
      '/up/.%2e%2fadmin',
      '/up/a%5C..%5Cadmin',
      '/up/x%2F..%2F..%2Fetc',
      '/up/..;/admin',
    ]) {
      const answer = await user.fetch(bff, path)
      expect(answer.status, path).toBe(400)
    }
    expect(upstream.received.length).toBe(seen)
    // Dot segments, plain or encoded, are resolved before routing: out of the route, not forwarded.
    expect((await user.fetch(bff, '/up/../bff/session')).status).toBe(200)
    expect((await user.fetch(bff, '/up/%2e%2e/admin')).status).toBe(404)
    expect(upstream.received.length).toBe(seen)
  })

  it('J36: through node:http, a Host no URL can be made of is a 400 and the server keeps serving', async () => {
    const { toNodeListener } = await import('@spa-auth/bff/node')
    const { bff } = clockedBff()
    const server = createServer(toNodeListener(bff))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const { connect } = await import('node:net')
      const raw = (text: string) =>
        new Promise<string>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(text))
          let answer = ''
          socket.on('data', (chunk) => {
            answer += chunk
          })
          socket.on('close', () => resolve(answer))
        })
      expect(
        await raw('GET /bff/session HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n'),
      ).toMatch(/^HTTP\/1\.1 400/)
      const ok = await fetch(`http://127.0.0.1:${port}/bff/session`, { headers: { 'x-csrf': '1' } })
      expect(ok.status).toBe(401)
      expect(ok.headers.get('spa-auth-error')).toBe('login_required')
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('J37: a flood of sign-ins drops only sign-ins under way, never a session or a logout: a full store refuses (503) rather than forget', async () => {
    const store = memoryStore({ maxEntries: 10 })
    for (const name of ['s:a', 's:b', 'end:sid:x', 'gone:c']) await store.set(name, 'kept', 60_000)
    for (let i = 0; i < 30; i++) await store.set(`tx:${i}`, 'v', 60_000)
    const kept = await store.get(['s:a', 's:b', 'end:sid:x', 'gone:c', 'tx:29', 'tx:0'])
    expect(kept).toEqual(['kept', 'kept', 'kept', 'kept', 'v', undefined])
    for (let i = 0; i < 6; i++) await store.set(`s:more${i}`, 'kept', 60_000)
    await expect(store.set('s:one-too-many', 'x', 60_000)).rejects.toThrow(/none to drop/)
    await store.close?.()
    // Through the BFF: a user signed in before a flood of 200 sign-ins is still signed in after.
    const { bff } = clockedBff({ store: memoryStore({ maxEntries: 50 }) })
    const user = browser()
    await user.signIn(bff, stack.idp)
    const flood = browser()
    for (let i = 0; i < 200; i++) await flood.fetch(bff, '/bff/login?returnTo=/', { api: false })
    expect((await user.fetch(bff, '/bff/session')).status).toBe(200)
    const late = browser()
    expect((await late.signIn(bff, stack.idp)).status).toBe(302)
    expect((await late.fetch(bff, '/bff/session')).status).toBe(200)
  })
})

describe('session lifetimes', () => {
  it('J16: a session idle past idleTimeout ends; one in use lives until absoluteTimeout, not past it', async () => {
    const { bff, advance } = clockedBff({
      session: { idleTimeout: 10 * 60_000, absoluteTimeout: 25 * 60_000 },
      refreshLeeway: 1_000,
    })
    const idle = browser()
    await idle.signIn(bff, stack.idp)
    const busy = browser()
    await busy.signIn(bff, stack.idp)
    for (let minute = 0; minute < 24; minute += 2) {
      advance(2 * 60_000)
      const answer = await busy.fetch(bff, '/bff/session')
      expect(answer.status, `minute ${minute + 2}`).toBe(200)
    }
    expect((await idle.fetch(bff, '/bff/session')).headers.get('spa-auth-error')).toBe(
      'session_expired',
    )
    advance(2 * 60_000)
    expect((await busy.fetch(bff, '/bff/session')).headers.get('spa-auth-error')).toBe(
      'session_expired',
    )
  })
})
