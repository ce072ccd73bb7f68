// The page's client in BFF mode against a BFF's HTTP answers (MSW plays `@spa-auth/bff`'s
// contract: its README). The client holds no token: what it must get right is the state, the
// CSRF header, the navigations and the typed errors.
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type AuthClient, AuthError, type AuthEvent, createAuthClient } from '../bff.js'
import { createAuthClient as createTokenWorkerClient } from '../index.js'

const APP = 'https://app.example.com'
const server = setupServer()
const sent: Request[] = []
server.events.on('request:start', ({ request }) => {
  sent.push(request.clone())
})
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
const clients: AuthClient[] = []
afterEach(() => {
  vi.restoreAllMocks()
  for (const made of clients.splice(0)) made.dispose()
  server.resetHandlers()
  sent.length = 0
})
afterAll(() => server.close())

const ALICE = { sub: 'alice', name: 'Alice Martin' }

/** A BFF's own failure, as `@spa-auth/bff` answers it. */
function failure(status: number, code: string, extra: Record<string, string> = {}) {
  return HttpResponse.json(
    { error: { code, message: `the BFF says ${code}`, ...extra } },
    { status, headers: { 'Spa-Auth-Error': code, 'Cache-Control': 'no-store' } },
  )
}

/** The BFF's session endpoint: signed in as `user`, or not (`undefined`). */
function session(user: object | undefined) {
  return http.get(`${APP}/bff/session`, () =>
    user
      ? HttpResponse.json({ user, expiresAt: Date.now() + 60_000 })
      : failure(401, 'login_required'),
  )
}

function client(
  navigations: string[] = [],
  bff: Parameters<typeof createAuthClient>[0] = { bff: '/bff' },
) {
  const made = createAuthClient({
    ...bff,
    navigate: (url: string) => navigations.push(url),
  } as never)
  clients.push(made)
  return made
}

const api = (status = 200) =>
  http.all(`${APP}/api/*`, ({ request }) =>
    HttpResponse.json({ path: new URL(request.url).pathname }, { status }),
  )

describe('BFF mode: the session comes from the BFF', () => {
  it('a page asks the session endpoint once, with the CSRF header, and shows the user', async () => {
    server.use(session(ALICE))
    const auth = client()
    const events: AuthEvent[] = []
    auth.on((e) => events.push(e))
    await Promise.all([auth.ready(), auth.ready(), auth.start()])
    expect(auth.getState()).toMatchObject({ status: 'authenticated', user: ALICE })
    const asked = sent.filter((r) => r.url === `${APP}/bff/session`)
    expect(asked).toHaveLength(1)
    expect(asked[0]!.headers.get('x-csrf')).toBe('1')
    expect(events).toContainEqual({ type: 'connected', holder: 'bff' })
    auth.dispose()
  })

  it('no session: signed out, quietly; a failed sign-in at the BFF is said once, typed', async () => {
    server.use(session(undefined))
    const auth = client()
    await auth.ready()
    expect(auth.getState()).toEqual({ status: 'unauthenticated' })

    server.use(
      http.get(`${APP}/bff/session`, () =>
        failure(401, 'authorization_error', { oauthError: 'access_denied' }),
      ),
    )
    const failed = client()
    await failed.ready()
    const { status, error } = failed.getState()
    expect(status).toBe('unauthenticated')
    expect(error).toBeInstanceOf(AuthError)
    expect(error).toMatchObject({ code: 'authorization_error', oauthError: 'access_denied' })
    auth.dispose()
    failed.dispose()
  })

  it('a BFF that cannot be reached: signed out with a network error, never a hang', async () => {
    server.use(http.get(`${APP}/bff/session`, () => HttpResponse.error()))
    const auth = client()
    await auth.ready()
    expect(auth.getState().error?.code).toBe('network')
  })

  it('getAccessToken(), setTokens() and handleCallback() say there is no token in the browser', async () => {
    server.use(session(ALICE))
    const auth = client()
    await expect(auth.getAccessToken()).rejects.toMatchObject({
      code: 'invalid_options',
      message: expect.stringMatching(/no token reaches the browser/),
    })
    expect(() => auth.setTokens({ access_token: 'x' })).toThrow(AuthError)
    await expect(auth.handleCallback()).rejects.toMatchObject({ code: 'invalid_options' })
  })

  it('an option of the token-worker mode beside `bff` is refused, by name', () => {
    expect(() =>
      createAuthClient({ bff: '/bff', issuer: 'https://idp.example.com' } as never),
    ).toThrow(/check `issuer` \(the BFF holds the provider's settings\)/)
    expect(() => createAuthClient({ bff: { prefix: '/bff', csrf: 'X' } } as never)).toThrow(
      /`bff.csrf` \(it takes prefix and csrfHeader\)/,
    )
    expect(() => createAuthClient({ bff: 'https://evil.example/bff' })).toThrow(
      /check `bff` \(a path/,
    )
  })

  it('`bff` given to the token-worker entry says which entry to import', () => {
    expect(() => createTokenWorkerClient({ bff: '/bff' } as never)).toThrow(
      /with `bff`, import it from '@spa-auth\/core\/bff'/,
    )
    expect(() => createAuthClient({ bff: true })).not.toThrow()
  })
})

describe('BFF mode: sign-in and sign-out', () => {
  it('login() and stepUp() go to the BFF with returnTo as a path and the parameters it passes on', async () => {
    server.use(session(undefined))
    const navigations: string[] = []
    const auth = client(navigations)
    await auth.login({ returnTo: '/orders?page=2', prompt: 'login', loginHint: 'alice' })
    await auth.stepUp({ acrValues: 'mfa', maxAge: 300 }, { returnTo: '/transfer' })
    expect(navigations.map((u) => new URL(u, APP))).toMatchObject([
      {
        pathname: '/bff/login',
        search: '?returnTo=%2Forders%3Fpage%3D2&prompt=login&login_hint=alice',
      },
      { pathname: '/bff/login', search: '?returnTo=%2Ftransfer&acr_values=mfa&max_age=300' },
    ])
    expect(sent.filter((r) => r.method !== 'GET')).toEqual([])
  })

  it.each([['//evil.example'], ['https://evil.example/'], ['javascript:alert(1)']])(
    'login() refuses returnTo %s, and navigates nowhere',
    async (returnTo) => {
      const navigations: string[] = []
      const auth = client(navigations)
      await expect(auth.login({ returnTo })).rejects.toMatchObject({ code: 'invalid_options' })
      await expect(auth.login({ extraParams: { audience: 'x' } })).rejects.toMatchObject({
        code: 'invalid_options',
      })
      await expect(auth.login({ maxAge: 1.5 })).rejects.toMatchObject({ code: 'invalid_options' })
      expect(navigations).toEqual([])
    },
  )

  it('logout() posts with the CSRF header, shows signed out at once, and goes to the provider', async () => {
    server.use(
      session(ALICE),
      http.post(`${APP}/bff/logout`, () =>
        HttpResponse.json({ endSessionUrl: 'https://idp.example.com/logout?client_id=bff' }),
      ),
    )
    const navigations: string[] = []
    const auth = client(navigations)
    await auth.ready()
    const leaving = auth.logout()
    expect(auth.getState()).toEqual({ status: 'unauthenticated', signedOut: true })
    await leaving
    const post = sent.find((r) => r.method === 'POST')!
    expect(post.url).toBe(`${APP}/bff/logout`)
    expect(post.headers.get('x-csrf')).toBe('1')
    expect(navigations).toEqual(['https://idp.example.com/logout?client_id=bff'])
    // On its way to the provider: a sign-in started now would undo the sign-out.
    await auth.login()
    expect(navigations).toHaveLength(1)
  })

  it('a sign-out the BFF could not take rejects, typed, so the app can say so', async () => {
    server.use(
      session(ALICE),
      http.post(`${APP}/bff/logout`, () => failure(503, 'unavailable')),
    )
    const auth = client()
    await auth.ready()
    await expect(auth.logout()).rejects.toMatchObject({ code: 'network' })
  })

  it('sign-out in one tab reaches another; a forged "signed out" on the channel changes nothing', async () => {
    let signedIn = true
    server.use(
      http.get(`${APP}/bff/session`, () =>
        signedIn ? HttpResponse.json({ user: ALICE }) : failure(401, 'login_required'),
      ),
      // The session ends when the BFF answers, not when the request arrives: a tab that asks
      // before that must not be told "signed out" already.
      http.post(`${APP}/bff/logout`, async () => {
        await new Promise((resolve) => setTimeout(resolve, 50))
        signedIn = false
        return HttpResponse.json({})
      }),
    )
    const [a, b] = [client(), client()]
    await Promise.all([a.ready(), b.ready()])
    const asked = () => sent.filter((r) => r.url.endsWith('/session')).length
    // Each tab said it is signed in; the other asked once more. Then a page script's messages.
    await expect.poll(asked).toBe(4)
    const forged = new BroadcastChannel('spa-auth:bff:/bff')
    forged.postMessage({ v: 1, type: 'logout' })
    forged.postMessage({ v: 1, type: 'plant', user: { sub: 'mallory' } })
    await expect.poll(asked).toBe(6)
    expect(b.getState()).toMatchObject({ status: 'authenticated', user: ALICE })

    await a.logout({ localOnly: true })
    await expect.poll(() => b.getState()).toEqual({ status: 'unauthenticated', signedOut: true })
    forged.close()
    a.dispose()
    b.dispose()
  })
})

describe('BFF mode: sign-in in a popup', () => {
  /** A popup as the opener sees it; its location is where the client sent it. */
  function popupWindow() {
    const popup = { closed: false, close: vi.fn(), location: { href: 'about:blank' } }
    vi.spyOn(window, 'open').mockImplementation(() => popup as unknown as Window)
    return popup
  }

  it('L1: loginWithPopup() sends the popup through the BFF to its popup-done page, and resolves once the BFF has the session; the page stays', async () => {
    let signedIn = false
    server.use(
      http.get(`${APP}/bff/session`, () =>
        signedIn ? HttpResponse.json({ user: ALICE }) : failure(401, 'login_required'),
      ),
    )
    const popup = popupWindow()
    const navigations: string[] = []
    const auth = client(navigations)
    await auth.ready()
    const done = auth.loginWithPopup({ loginHint: 'alice' })
    await vi.waitFor(() => expect(popup.location.href).toMatch(/^\/bff\/login\?/))
    const sentTo = new URL(popup.location.href, APP)
    const landing = new URL(sentTo.searchParams.get('returnTo') as string, APP)
    expect(landing.pathname).toBe('/bff/popup-done')
    expect(sentTo.searchParams.get('login_hint')).toBe('alice')
    // What the BFF's popup-done page says once the callback set the session cookie.
    signedIn = true
    const channel = new BroadcastChannel('spa-auth:bff:/bff')
    channel.postMessage({ v: 1, type: 'popup-done', popup: 'another popup' })
    channel.postMessage({ v: 1, type: 'popup-done', popup: landing.searchParams.get('popup') })
    channel.close()
    await done
    expect(auth.getState()).toMatchObject({ status: 'authenticated', user: ALICE })
    expect(navigations).toEqual([])
  })

  it('L3: a popup the browser refused is popup_blocked; a closed one popup_closed', async () => {
    server.use(session(undefined))
    vi.spyOn(window, 'open').mockImplementation(() => null)
    const auth = client()
    await expect(auth.loginWithPopup()).rejects.toMatchObject({ code: 'popup_blocked' })
    vi.restoreAllMocks()
    const popup = popupWindow()
    const closing = auth.stepUp({ acrValues: 'mfa' }, { popup: true })
    await vi.waitFor(() => expect(popup.location.href).toMatch(/acr_values=mfa/))
    await new Promise((resolve) => setTimeout(resolve, 300)) // seen at the sign-in
    popup.closed = true
    await expect(closing).rejects.toMatchObject({ code: 'popup_closed' })
  })
})

describe('BFF mode: auth.fetch', () => {
  it('adds the CSRF header on this origin only, never a token; keeps the caller`s request', async () => {
    server.use(
      session(ALICE),
      api(),
      http.get('https://cdn.example.com/x', () => HttpResponse.text('ok')),
    )
    const auth = client()
    const response = await auth.fetch('/api/orders', {
      method: 'POST',
      body: 'x',
      headers: { 'X-Trace': '1' },
    })
    expect(await response.json()).toEqual({ path: '/api/orders' })
    await auth.fetch('https://cdn.example.com/x')
    const [toApi, toCdn] = sent.filter((r) => !r.url.endsWith('/session'))
    expect(toApi!.headers.get('x-csrf')).toBe('1')
    expect(toApi!.headers.get('x-trace')).toBe('1')
    expect(await toApi!.text()).toBe('x')
    expect(toApi!.headers.get('authorization')).toBeNull()
    expect(toCdn!.headers.get('x-csrf')).toBeNull()
  })

  it('waits for the session while it loads; signed out, it rejects login_required and sends nothing', async () => {
    server.use(session(undefined), api())
    const auth = client()
    await expect(auth.fetch('/api/orders')).rejects.toMatchObject({ code: 'login_required' })
    expect(sent.map((r) => new URL(r.url).pathname)).toEqual(['/bff/session'])
  })

  it('the BFF ends the session (a 401 of its own): one session_expired state, the call rejects typed', async () => {
    server.use(
      session(ALICE),
      http.get(`${APP}/api/*`, () => failure(401, 'session_expired')),
    )
    const auth = client()
    const events: string[] = []
    auth.on((e) => events.push(e.type))
    await auth.ready()
    const results = await Promise.allSettled([auth.fetch('/api/a'), auth.fetch('/api/b')])
    expect(results.map((r) => r.status === 'rejected' && (r.reason as AuthError).code)).toEqual([
      'session_expired',
      'session_expired',
    ])
    expect(auth.getState()).toMatchObject({
      status: 'unauthenticated',
      error: { code: 'session_expired' },
    })
    expect(events.filter((t) => t === 'session_expired').length).toBeGreaterThanOrEqual(1)
  })

  it('an upstream 401 of the API itself, and its 403, come back as they came', async () => {
    server.use(session(ALICE), api(401))
    const auth = client()
    expect((await auth.fetch('/api/orders')).status).toBe(401)
    expect(auth.getState().status).toBe('authenticated')
  })

  it('a step-up challenge the BFF passed on rejects step_up_required with what the API asked for', async () => {
    server.use(
      session(ALICE),
      http.post(
        `${APP}/api/transfer`,
        () =>
          new HttpResponse(null, {
            status: 401,
            headers: {
              'WWW-Authenticate':
                'Bearer error="insufficient_user_authentication", acr_values="mfa", max_age=300',
            },
          }),
      ),
    )
    const auth = client()
    const error = await auth.fetch('/api/transfer', { method: 'POST' }).catch((e: AuthError) => e)
    expect(error).toMatchObject({
      code: 'step_up_required',
      challenge: { acrValues: 'mfa', maxAge: 300 },
    })
  })

  it('the BFF cannot reach the provider or its store: a network error beside the session', async () => {
    server.use(
      session(ALICE),
      http.get(`${APP}/api/*`, () => failure(503, 'unavailable')),
    )
    const auth = client()
    await expect(auth.fetch('/api/orders')).rejects.toMatchObject({ code: 'network' })
    expect(auth.getState()).toMatchObject({ status: 'authenticated', error: { code: 'network' } })
  })
})
