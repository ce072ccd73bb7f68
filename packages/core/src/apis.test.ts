// Catalogue group K: several APIs, one session. The authorization parameters a client sends with
// every authorization request (an `audience`, a `resource`), whichever flow or tab makes it; and
// APIs that each get a token of their own, from one refresh token the page never sees.
import { decodeJwt } from 'jose'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  API,
  APP,
  ENGINE,
  ISSUER,
  keptProvider,
  otherTab,
  rejection,
  server,
  setup as setupClient,
} from './harness.test-util.js'
import {
  type ApiOptions,
  type ApiSet,
  type AuthClientOptions,
  createAuthClient,
  defineApis,
} from './index.js'
import { ask, portWorker } from './port.test-util.js'
import { VERSION } from './protocol.js'
import { simClock } from './sim.test-util.js'
import { watchPosts } from './time.test-util.js'

const ORDERS = 'https://orders.example.com'
const params = { audience: ORDERS, organization: 'acme' }

const provider = keptProvider()
const setup = (options: Partial<AuthClientOptions> = {}) =>
  setupClient({ authorizationParams: params, ...options }, provider)

const query = (url: string | undefined) => Object.fromEntries(new URL(url!).searchParams)
const audience = async (auth: { getAccessToken(): Promise<string> }) =>
  decodeJwt(await auth.getAccessToken()).aud

describe('K1: authorization parameters that always apply', () => {
  it('K1: login, the silent restore and step-up all send them, and the restored session gets a token for that audience', async () => {
    const first = setup()
    await first.signIn()
    expect(query(first.navigations[0])).toMatchObject(params)
    expect(await audience(first.auth)).toBe(ORDERS)

    // A reload with no session in memory: the silent restore by redirect.
    await first.auth.logout({ localOnly: true })
    history.replaceState(null, '', `${APP}/orders`)
    const reload = setup({ restore: { silent: 'redirect' } })
    await reload.auth.ready()
    expect(query(reload.navigations[0])).toMatchObject({ ...params, prompt: 'none' })
    history.replaceState(null, '', await reload.idp.authorize(reload.navigations[0]!))
    const back = setup({ restore: { silent: 'redirect' } })
    await back.auth.ready()
    expect(back.auth.getState().status).toBe('authenticated')
    expect(await audience(back.auth)).toBe(ORDERS)

    // Step-up keeps them beside what the API asked for.
    await back.auth.stepUp({ acrValues: 'urn:mfa' }, { returnTo: '/orders' })
    expect(query(back.navigations.at(-1))).toMatchObject({ ...params, acr_values: 'urn:mfa' })
    history.replaceState(null, '', await back.idp.authorize(back.navigations.at(-1)!))
    await back.auth.handleCallback()
    expect(await audience(back.auth)).toBe(ORDERS)
  })

  it('K1: the silent frame sends them too', async () => {
    const frame = new Promise<HTMLIFrameElement>((resolve) => {
      const seen = new MutationObserver(() => {
        const found = document.querySelector<HTMLIFrameElement>('iframe[name="spa-auth:silent"]')
        if (!found) return
        resolve(found)
        seen.disconnect()
      })
      seen.observe(document.body, { childList: true })
    })
    const { auth } = setup({ restore: { silent: 'iframe', silentTimeout: 300 } })
    const ready = auth.ready()
    expect(query((await frame).src)).toMatchObject({ ...params, prompt: 'none' })
    await ready
    // jsdom loads no frames: the frame's timeout ends the restore, signed out.
    expect(auth.getState().status).toBe('unauthenticated')
  })

  it("K1: a call's extraParams and named options win over them; its own parameters stay spa-auth's", async () => {
    const { auth, navigations } = setup()
    await auth.login({ prompt: 'login', extraParams: { organization: 'globex', screen: 'signup' } })
    expect(query(navigations[0])).toMatchObject({
      audience: ORDERS,
      organization: 'globex',
      screen: 'signup',
      prompt: 'login',
    })
  })

  it('K1: a page script with a port of its own still gets them: they are the configuration, not the message', async () => {
    if (ENGINE !== 'port') return
    const { auth, worker } = setup()
    await auth.ready()
    const port = worker!.connect(worker!.name)
    const reply = (await ask(
      port,
      { v: VERSION, id: 1, type: 'authorize', params: {} },
      3_000,
    )) as {
      value?: { url: string }
    }
    expect(query(reply.value?.url)).toMatchObject(params)
    port.close()
  })

  it.each([
    ['scope', /authorizationParams: `scope` is set by spa-auth itself/],
    ['redirect_uri', /`redirect_uri` is set by spa-auth itself/],
    ['state', /`state` is set/],
    ['nonce', /`nonce` is set/],
    ['dpop_jkt', /`dpop_jkt` is set/],
  ])(
    'K1: naming %s is invalid_options at the first sign-in, which goes nowhere',
    async (name, message) => {
      const { auth, navigations } = setup({
        authorizationParams: { audience: ORDERS, [name]: 'x' },
      })
      const error = await rejection(auth.login())
      expect(error.code).toBe('invalid_options')
      expect(error.message).toMatch(message)
      expect(navigations).toEqual([])
    },
  )

  it.each([
    ['a number value', { audience: 1 }],
    ['an array', ['audience']],
    ['a query string', 'audience=x'],
  ])('K1: %s is invalid_options at the first sign-in, naming the option', async (_, value) => {
    const { auth, navigations } = setup({
      authorizationParams: value as unknown as Record<string, string>,
    })
    const error = await rejection(auth.login())
    expect(error.code).toBe('invalid_options')
    expect(error.message).toMatch(/`authorizationParams` must be an object of strings/)
    expect(navigations).toEqual([])
  })
})

// Two APIs with a token each: one on an origin of its own, asked for by resource (RFC 8707); one
// under a path of the session API's origin, asked for by audience; and one under a path of that.
const BILLING = `${API}/billing`
const ADMIN = `${API}/billing/admin`
const APIS = defineApis({
  orders: { url: ORDERS, resource: ORDERS },
  billing: { url: `${BILLING}/`, audience: 'urn:billing' },
  admin: { url: `${ADMIN}/`, scope: 'urn:billing-admin' },
})
const RESOURCES = [
  { url: ORDERS, audience: ORDERS },
  { url: BILLING, audience: 'urn:billing' },
  { url: ADMIN, audience: 'urn:billing-admin' },
]

/** Signed in with the three APIs, on a clock the test moves; token requests counted from here. */
async function withApis(options: Partial<AuthClientOptions> = {}, mock = {}) {
  const sim = simClock()
  const ctx = setupClient(
    { apis: APIS, clock: sim.clock, ...options },
    { resources: RESOURCES, ...mock },
  )
  await ctx.signIn()
  const posts = watchPosts(`${ISSUER}/token`)
  /** The refresh-token grants since sign-in, by what they asked for. */
  const grants = () =>
    posts.map((p) => p.body.resource ?? p.body.audience ?? p.body.scope ?? 'session')
  return { ...ctx, sim, grants }
}

/** The audience of the token a response's request carried, as the mock resource says. */
const audOf = async (response: Response) =>
  response.ok ? ((await response.json()) as { aud: unknown }).aud : response.status

describe('K: several APIs, a token of their own each', () => {
  it('K2: one token request per API for 1, 10 and 1,000 concurrent callers of each, then one refresh per API per lifetime', async () => {
    for (const callers of [1, 10, 1_000]) {
      const { auth, grants, sim } = await withApis()
      const calls = (base: string) =>
        Promise.all(Array.from({ length: callers }, () => auth.fetch(`${base}/api/me`).then(audOf)))
      const [orders, billing, admin] = await Promise.all([
        calls(ORDERS),
        calls(BILLING),
        calls(ADMIN),
      ])

      expect(new Set(orders)).toEqual(new Set([ORDERS]))
      expect(new Set(billing)).toEqual(new Set(['urn:billing']))
      expect(new Set(admin)).toEqual(new Set(['urn:billing-admin']))
      expect(grants().sort()).toEqual([ORDERS, 'urn:billing', 'urn:billing-admin'].sort())

      // An hour on: each token is due, and each is refreshed once for every caller.
      sim.sleep(3_600_000 - 30_000)
      await Promise.all([calls(ORDERS), calls(BILLING)])
      expect(grants().filter((g) => g === ORDERS)).toHaveLength(2)
      expect(grants().filter((g) => g === 'urn:billing')).toHaveLength(2)
      // Nobody called the third again: its token waits, and costs no request.
      expect(grants().filter((g) => g === 'urn:billing-admin')).toHaveLength(1)
      await auth.logout({ localOnly: true })
    }
  }, 60_000)

  it('K2: getAccessToken({ api }) gives that API its own token; an API the client does not have is invalid_options', async () => {
    const { auth, grants } = await withApis()
    const session = await auth.getAccessToken()
    const orders = await auth.getAccessToken({ api: 'orders' })
    expect(decodeJwt(orders).aud).toBe(ORDERS)
    expect(decodeJwt(session).aud).toBe(API)
    expect(await auth.getAccessToken({ api: 'orders' })).toBe(orders)
    expect(grants()).toEqual([ORDERS])
    const error = await rejection(auth.getAccessToken({ api: 'payroll' }))
    expect(error.code).toBe('invalid_options')
    expect(error.message).toMatch(/"payroll"/)
  })

  it('K3: four tabs on one token worker, two APIs: one token request per API, whichever tab asks', async () => {
    const sim = simClock()
    const worker = portWorker({ clock: sim.clock })
    const first = setupClient(
      { apis: APIS, clock: sim.clock, tokenWorker: worker.factory },
      { resources: RESOURCES },
    )
    await first.signIn()
    const posts = watchPosts(`${ISSUER}/token`)
    const tabs = [
      first.auth,
      ...[1, 2, 3].map(() => otherTab(worker, { apis: APIS, clock: sim.clock }).auth),
    ]
    await Promise.all(tabs.map((tab) => tab.ready()))
    const seen = await Promise.all(
      tabs.flatMap((tab) => [
        tab.fetch(`${ORDERS}/api/me`).then(audOf),
        tab.fetch(`${BILLING}/api/me`).then(audOf),
      ]),
    )
    expect(seen).toEqual(Array.from({ length: 4 }, () => [ORDERS, 'urn:billing']).flat())
    expect(posts.map((p) => p.body.resource ?? p.body.audience).sort()).toEqual(
      [ORDERS, 'urn:billing'].sort(),
    )
  })

  it("K4: a 401 at one API refreshes that API's token only; a new sign-in (a step-up) replaces every one", async () => {
    const { auth, grants, navigations, idp } = await withApis()
    await auth.fetch(`${ORDERS}/api/me`)
    await auth.fetch(`${BILLING}/api/me`)
    const before = {
      session: await auth.getAccessToken(),
      orders: await auth.getAccessToken({ api: 'orders' }),
      billing: await auth.getAccessToken({ api: 'billing' }),
    }
    let refused = 1
    server.use(
      http.get(`${ORDERS}/api/me`, () => {
        if (refused-- > 0) return new HttpResponse(null, { status: 401 })
      }),
    )
    const response = await auth.fetch(`${ORDERS}/api/me`)
    expect(await audOf(response)).toBe(ORDERS)
    expect(grants()).toEqual([ORDERS, 'urn:billing', ORDERS])
    expect(await auth.getAccessToken({ api: 'orders' })).not.toBe(before.orders)
    expect(await auth.getAccessToken({ api: 'billing' })).toBe(before.billing)
    expect(await auth.getAccessToken()).toBe(before.session)

    // A step-up is a new sign-in: no API keeps a token of the weaker one.
    await auth.stepUp({ acrValues: 'urn:mfa' })
    history.replaceState(null, '', await idp.authorize(navigations.at(-1)!))
    await auth.handleCallback()
    const billing = await auth.getAccessToken({ api: 'billing' })
    expect(billing).not.toBe(before.billing)
    expect(grants().at(-1)).toBe('urn:billing')
  })

  it('K5: a token goes to its own API only: look-alike origins, overlapping and unnormalized paths', async () => {
    const { auth } = await withApis()
    const sent: Record<string, unknown> = {}
    server.use(
      http.all('*', ({ request }) => {
        if (request.url.startsWith(ISSUER)) return undefined
        const header = request.headers.get('authorization')
        sent[request.url] = header ? decodeJwt(header.replace(/^Bearer /, '')).aud : 'none'
        return HttpResponse.json({})
      }),
    )
    const cases: [string, string, unknown][] = [
      [`${ORDERS}/api/me`, `${ORDERS}/api/me`, ORDERS],
      ['HTTPS://ORDERS.EXAMPLE.COM/api/me', `${ORDERS}/api/me`, ORDERS],
      [
        'https://orders.example.com.evil.example/api/me',
        'https://orders.example.com.evil.example/api/me',
        'none',
      ],
      ['https://orders.example.com:8443/api/me', 'https://orders.example.com:8443/api/me', 'none'],
      ['http://orders.example.com/api/me', 'http://orders.example.com/api/me', 'none'],
      [`${BILLING}/api/me`, `${BILLING}/api/me`, 'urn:billing'],
      [`${BILLING}/./api/me`, `${BILLING}/api/me`, 'urn:billing'],
      [`${BILLING}`, `${BILLING}`, API],
      [`${BILLING}x/api/me`, `${BILLING}x/api/me`, API],
      [`${API}/BILLING/api/me`, `${API}/BILLING/api/me`, API],
      [`${BILLING}/../orders`, `${API}/orders`, API],
      [`${BILLING}/%2e%2e/orders`, `${API}/orders`, API],
      [`${BILLING}%2Fapi`, `${BILLING}%2Fapi`, API],
      [`${ADMIN}/users`, `${ADMIN}/users`, 'urn:billing-admin'],
      [`${ADMIN}istrator`, `${ADMIN}istrator`, 'urn:billing'],
      [`${ADMIN}/../me`, `${BILLING}/me`, 'urn:billing'],
      [`${ORDERS}/../../billing/api/me`, `${ORDERS}/billing/api/me`, ORDERS],
    ]
    for (const [url, requested, aud] of cases) {
      await auth.fetch(url)
      expect([url, sent[requested]]).toEqual([url, aud])
    }
    await auth.fetch(new Request(`${BILLING}/../orders`))
    expect(sent[`${API}/orders`]).toBe(API)
  })

  it('K6: a provider that ignores the resource is configuration, said once: no token goes on, and no further request is made', async () => {
    const { auth, grants } = await withApis({}, { ignoreResources: true })
    const reached: string[] = []
    server.events.on('request:start', ({ request }) => {
      if (request.url.startsWith(ORDERS)) reached.push(request.url)
    })
    const error = await rejection(auth.fetch(`${ORDERS}/api/me`))
    expect(error.code).toBe('configuration')
    expect(error.message).toContain(`the token for the API "orders" is for ${API}, not ${ORDERS}`)
    expect(auth.getState().error?.code).toBe('configuration')
    const again = await rejection(auth.getAccessToken({ api: 'orders' }))
    expect(again.message).toBe(error.message)
    expect(grants()).toEqual([ORDERS])
    expect(reached).toEqual([])
    // The session and the other APIs are untouched: their calls go on.
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
    expect(decodeJwt(await auth.getAccessToken()).aud).toBe(API)
  })

  it('K6: a port asking for an API the worker does not have gets invalid_options', async () => {
    const worker = portWorker()
    const { auth } = setupClient(
      { apis: APIS, tokenWorker: worker.factory },
      { resources: RESOURCES },
    )
    await auth.ready()
    const port = worker.connect(worker.name)
    const reply = (await ask(
      port,
      { v: VERSION, id: 1, type: 'token', reason: 'scheduled', api: '__proto__' },
      3_000,
    )) as { ok: boolean; error?: { code: string } }
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_options' } })
    port.close()
  })

  it.each([
    ['not an object', 'orders', /`apis` must be an object/],
    ['no url', { orders: { resource: ORDERS } }, /`apis.orders`.url must be an https: URL/],
    ['a query', { orders: { url: `${ORDERS}/?v=1`, resource: ORDERS } }, /no query or fragment/],
    ['http:', { orders: { url: 'http://orders.example.com', resource: ORDERS } }, /https:/],
    [
      'two kinds',
      { orders: { url: ORDERS, resource: ORDERS, audience: 'x' } },
      /exactly one of resource, audience, scope/,
    ],
    ['no kind', { orders: { url: ORDERS } }, /exactly one of/],
    ['a typo', { orders: { url: ORDERS, resouce: ORDERS } }, /unknown option `resouce`/],
    [
      'one URL twice',
      { a: { url: ORDERS, resource: ORDERS }, b: { url: `${ORDERS}/`, audience: 'b' } },
      /another API's too/,
    ],
  ])('K5: defineApis refuses %s, naming the API and what to fix', async (_, apis, message) => {
    const error = await rejection(
      Promise.resolve().then(() => defineApis(apis as unknown as Record<string, ApiOptions>)),
    )
    expect(error.code).toBe('invalid_options')
    expect(error.message).toMatch(message)
  })

  it('K5: `apis` that did not come from defineApis are refused at creation', async () => {
    const error = await rejection(
      Promise.resolve().then(() =>
        createAuthClient({
          issuer: ISSUER,
          clientId: 'spa',
          redirectUri: `${APP}/callback`,
          apis: { orders: { url: ORDERS, resource: ORDERS } } as unknown as ApiSet,
        }),
      ),
    )
    expect(error.code).toBe('invalid_options')
    expect(error.message).toMatch(/`apis` takes what defineApis\(\) makes, with an OAuth provider/)
  })
})
