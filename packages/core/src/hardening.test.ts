// Group H of the catalogue: what a new user, an attacker and four real providers found.
import { HttpResponse, http } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  API,
  APP,
  ISSUER,
  otherTab,
  rejection,
  server,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { portWorker } from './port.test-util.js'
import { elapse, fakeTime, ofType, track, watchPosts } from './time.test-util.js'

const TOKEN = `${ISSUER}/token`

afterEach(() => {
  vi.useRealTimers()
})

/** Signs in on fake time with `lifetime`-second access tokens; zeroes the provider's counts. */
async function signedIn(lifetime = 3600, options: Parameters<typeof setup>[0] = {}) {
  fakeTime()
  const ctx = setup(options, { accessTokenLifetime: lifetime })
  await ctx.signIn()
  await vi.advanceTimersByTimeAsync(0)
  ctx.idp.resetCounts()
  return ctx
}

/** Whether the session has a token a call could use right now. */
function usable(auth: { getState(): { status: string; expiresAt?: number } }): boolean {
  const { status, expiresAt } = auth.getState()
  return status === 'authenticated' && (expiresAt === undefined || expiresAt > Date.now())
}

describe('H: refresh that never gives up while the user looks signed in', () => {
  it.each([10, 15])(
    'H1: %i s tokens, idle for 10 minutes: refreshed ahead of every expiry, never throttled',
    async (lifetime) => {
      const { auth, idp, events } = await signedIn(lifetime)
      let unusable = 0
      for (let second = 0; second < 600; second += 2) {
        await elapse(2_000, 2_000)
        if (!usable(auth)) unusable++
      }
      const failures = ofType(events, 'refresh_failed')
      console.log(
        `H1 figures: lifetime=${lifetime}s idle=600s refreshes=${idp.counts.refresh} ` +
          `secondsWithoutUsableToken=${unusable * 2} failures=${failures.length}`,
      )
      expect(unusable).toBe(0)
      expect(failures).toEqual([])
      expect(idp.counts.refresh).toBeGreaterThanOrEqual(600 / lifetime)
      expect(await auth.getAccessToken()).toBeTruthy()
    },
    // Ten minutes of fake time: each of its refreshes takes real time on the mock network.
    30_000,
  )

  it('H2: a 40 s outage of the token endpoint: the status says why, and the first call after it gets a token', async () => {
    const { auth, idp, events } = await signedIn(15)
    await elapse(5_000, 1_000)
    idp.faults.token = { kind: 'network' }
    await elapse(40_000, 1_000)
    // Down: the token has expired, and the status says why.
    expect(auth.getState()).toMatchObject({ status: 'authenticated', error: { code: 'network' } })
    const during = track(auth.getAccessToken())
    await elapse(10_000, 1_000)
    expect(during.error).toMatchObject({ code: 'network' })

    delete idp.faults.token
    const back = Date.now()
    const after = track(auth.getAccessToken())
    while (!after.settled) await elapse(500, 500)
    const recoveredIn = Date.now() - back
    expect(after.value).toBeTruthy()
    // At most one backoff wait of the round in flight when it came back.
    expect(recoveredIn).toBeLessThanOrEqual(5_000)
    expect(usable(auth)).toBe(true)
    expect(auth.getState().error).toBeUndefined()
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
    // Short tokens go on being refreshed on time afterwards: no guard holds them up.
    let unusable = 0
    for (let second = 0; second < 120; second += 2) {
      await elapse(2_000, 2_000)
      if (!usable(auth)) unusable++
    }
    expect(unusable).toBe(0)
    const refusals = ofType(events, 'refresh_failed').filter((e) =>
      /paused|throttled/.test(e.error.message),
    )
    expect(refusals).toEqual([])
    console.log(
      `H2 figures: outage=40s tokenAfterOutageMs=${recoveredIn} secondsWithoutUsableTokenAfter=0`,
    )
  }, 30_000)

  it('H3: a clock that jumps back an hour does not hold refreshes up', async () => {
    const { auth, idp } = await signedIn(60)
    let reject = true
    server.use(
      http.get(`${API}/api/me`, () =>
        reject
          ? HttpResponse.json({ error: 'invalid_token' }, { status: 401 })
          : HttpResponse.json({ ok: true }),
      ),
    )
    // Four fresh tokens refused by the API: the guard's minute is full.
    for (let call = 0; call < 5; call++) await auth.fetch(`${API}/api/me`)
    expect(idp.counts.refresh).toBe(4)
    // The clock goes back an hour; the next refused token is cured at once.
    vi.setSystemTime(Date.now() - 3_600_000)
    const response = await auth.fetch(`${API}/api/me`, { headers: { 'x-call': 'after-jump' } })
    expect(idp.counts.refresh).toBe(5)
    expect(response.status).toBe(401)
    reject = false
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
  })

  const REFUSED: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    'token_type N_A': (body) => ({ ...body, token_type: 'N_A' }),
    'no access_token': ({ access_token: _none, ...body }) => body,
  }
  const refusals = Object.keys(REFUSED)
  it.each(refusals)(
    'H5: a 200 refresh answer refused (%s) after the provider rotated: the spent refresh token is never sent again',
    async (name) => {
      const rewrite = REFUSED[name]!
      const { auth, idp } = await signedIn(60)
      const posts = watchPosts(TOKEN)
      idp.faults.rewrite = (body) => (body.refresh_token === undefined ? body : rewrite(body))
      // A 60 s token is due at 54 s.
      await elapse(55_000, 1_000)
      expect(posts).toHaveLength(1)
      // Nothing more is sent with it; the session lives out its access token, then ends, typed.
      await elapse(3_000, 1_000)
      expect(await auth.getAccessToken()).toBeTruthy()
      await elapse(5_000, 1_000)
      await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'session_expired' })
      const sent = posts.map((p) => p.body.refresh_token)
      expect(new Set(sent).size).toBe(sent.length)
      expect(posts).toHaveLength(1)
      expect(auth.getState()).toMatchObject({
        status: 'unauthenticated',
        error: { code: 'session_expired' },
      })
    },
  )
})

describe('H: calls during start-up', () => {
  it('H6: auth.fetch and getAccessToken in a second tab, still loading, wait for the session: no sign-in', async () => {
    const worker = portWorker()
    const first = setup({ tokenWorker: worker.factory })
    await first.signIn()
    const { auth: second, navigations } = otherTab(worker)
    expect(second.getState().status).toBe('loading')
    const before = tokenRequests()
    const [response, token] = await Promise.all([
      second.fetch(`${API}/api/me`),
      second.getAccessToken(),
    ])
    expect(response.status).toBe(200)
    expect(token).toBe(await first.auth.getAccessToken())
    expect(tokenRequests()).toBe(before)
    expect(navigations).toEqual([])
  })

  it('H6: on the callback page, a call made while loading waits for the code exchange', async () => {
    const { auth, authorizeRedirect } = setup()
    history.replaceState(null, '', await authorizeRedirect())
    const call = auth.fetch(`${API}/api/me`)
    auth.start()
    expect((await call).status).toBe(200)
  })

  it('H6: a page with no session anywhere ends the wait with login_required, sending nothing', async () => {
    const { auth } = setup()
    await expect(auth.fetch(`${API}/api/me`)).rejects.toMatchObject({ code: 'login_required' })
    expect(auth.getState().status).toBe('unauthenticated')
  })
})

describe('H: inputs that are refused', () => {
  it.each([
    '//evil.example/orders',
    'https://evil.example/',
    'javascript:alert(1)',
    '/\\\\evil.example',
    '\t//evil.example',
    'http://app.example.com/orders',
  ])(
    'H9: login({ returnTo: %j }) is refused: invalid_options, nothing stored, no navigation',
    async (returnTo) => {
      const { auth, navigations } = setup()
      const error = await rejection(auth.login({ returnTo }))
      expect(error.code).toBe('invalid_options')
      expect(error.message).toMatch(/returnTo/)
      expect(navigations).toEqual([])
      expect(Object.keys(sessionStorage)).toEqual([])
    },
  )

  it('H9: a same-origin returnTo comes back as a path; a tampered one at the callback is dropped', async () => {
    const { auth, idp, navigations } = setup()
    await auth.login({ returnTo: `${APP}/orders?page=2#top` })
    history.replaceState(null, '', await idp.authorize(navigations.at(-1)!))
    expect(await auth.handleCallback()).toEqual({ returnTo: '/orders?page=2#top' })

    const next = setup()
    await next.auth.login({ returnTo: '/orders' })
    const state = new URL(next.navigations.at(-1)!).searchParams.get('state')!
    const key = `spa-auth:tx:${state}`
    const tx = JSON.parse(sessionStorage.getItem(key)!)
    sessionStorage.setItem(key, JSON.stringify({ ...tx, returnTo: 'https://evil.example/' }))
    history.replaceState(null, '', await next.idp.authorize(next.navigations.at(-1)!))
    expect(await next.auth.handleCallback()).toEqual({ returnTo: undefined })
    expect(next.auth.getState().status).toBe('authenticated')
  })

  it.each(['http://api.example.com', 'http://10.0.0.7:8080'])(
    'H10: an http: API origin (%s) is refused: the token would travel in clear text',
    (origin) => {
      expect(() => setup({ apiOrigins: [origin] })).toThrow(
        expect.objectContaining({
          code: 'invalid_options',
          message: expect.stringMatching(/https:/),
        }),
      )
    },
  )

  it('H10: http: is accepted for loopback API origins, and where insecure HTTP is allowed', () => {
    expect(() =>
      setup({ apiOrigins: ['http://localhost:8080', 'http://127.0.0.1:3000'] }),
    ).not.toThrow()
    expect(() =>
      setup({ apiOrigins: ['http://api.internal'], dangerouslyAllowInsecureHttp: true }),
    ).not.toThrow()
  })

  it("H11: a provider's error_description that echoes the refresh token reaches no message, description or cause", async () => {
    const { auth } = await signedIn(60)
    const echoed: string[] = []
    server.use(
      http.post(TOKEN, async ({ request }) => {
        const token = new URLSearchParams(await request.text()).get('refresh_token') ?? ''
        echoed.push(token)
        return HttpResponse.json(
          {
            error: 'invalid_grant',
            error_description: `The refresh token ${token} was revoked at 12:00`,
          },
          { status: 400 },
        )
      }),
    )
    vi.setSystemTime(Date.now() + 55_000)
    const error = await rejection(auth.getAccessToken())
    expect(echoed).toHaveLength(1)
    expect(error.code).toBe('session_expired')
    const everything = `${error.message} ${error.description} ${error.stack} ${JSON.stringify(error)} ${String(
      error.cause,
    )} ${JSON.stringify(error.cause)} ${JSON.stringify((error.cause as { cause?: unknown })?.cause)}`
    expect(everything).not.toContain(echoed[0])
    expect(error.description).toBe('The refresh token [redacted] was revoked at 12:00')
  })

  it('H18: an issuer mismatch at the callback names both issuers', async () => {
    const { auth, authorizeRedirect } = setup()
    const callback = new URL(await authorizeRedirect())
    callback.searchParams.set('iss', 'https://evil.example.com')
    const error = await rejection(auth.handleCallback(callback.href))
    expect(error.code).toBe('issuer_mismatch')
    expect(error.message).toContain('"https://evil.example.com"')
    expect(error.message).toContain(`"${ISSUER}"`)
    expect(tokenRequests()).toBe(0)
  })

  it('H18: a metadata document of another issuer names both issuers', async () => {
    const { auth, idp } = setup()
    server.use(
      http.get(`${ISSUER}/.well-known/openid-configuration`, () =>
        HttpResponse.json({ ...idp.metadata, issuer: 'https://login.example.com' }),
      ),
    )
    const error = await rejection(auth.login())
    expect(error.code).toBe('discovery_failed')
    expect(error.message).toContain(
      `GET ${ISSUER}/.well-known/openid-configuration: the document's issuer is ` +
        `"https://login.example.com", but the client's is "${ISSUER}/"`,
    )
  })

  it('H19: a discovery document answering 200 with HTML says it was not JSON, and its content type', async () => {
    const { auth } = setup()
    server.use(
      http.get(
        `${ISSUER}/.well-known/*`,
        () =>
          new HttpResponse('<html>Sign in</html>', { headers: { 'content-type': 'text/html' } }),
      ),
    )
    const error = await rejection(auth.login())
    expect(error.code).toBe('discovery_failed')
    expect(error.message).toBe(
      `Discovery failed: GET ${ISSUER}/.well-known/openid-configuration: HTTP 200, not JSON (content-type text/html); ` +
        `GET ${ISSUER}/.well-known/oauth-authorization-server: HTTP 200, not JSON (content-type text/html)`,
    )
  })
})

describe('H: restore with providers that answer oddly', () => {
  it('H13: prompt=none answered with error=login_required and no state, after a silent redirect: signed out, quietly', async () => {
    const first = setup({ restore: { silent: 'redirect' } })
    await first.auth.ready()
    expect(new URL(first.navigations[0]!).searchParams.get('prompt')).toBe('none')
    // This provider sends no state with its error.
    history.replaceState(null, '', `${APP}/callback?error=login_required`)
    const back = setup({ restore: { silent: 'redirect' } })
    await back.auth.ready()
    expect(back.auth.getState()).toEqual({ status: 'unauthenticated' })
    expect(back.events.filter((e) => e.type === 'error')).toEqual([])
    expect(back.navigations).toEqual([])
    expect(new URL(location.href).search).toBe('')
  })

  it('H13: the same answer without a silent redirect before it is still an error', async () => {
    history.replaceState(null, '', `${APP}/callback?error=login_required`)
    const { auth } = setup()
    await auth.ready()
    expect(auth.getState()).toMatchObject({
      status: 'unauthenticated',
      error: { code: 'callback_invalid' },
    })
  })
})
