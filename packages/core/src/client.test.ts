import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { API, APP, ENGINE, ISSUER, placesHoldingTokens, setup } from './harness.test-util.js'

describe('sign-in, API call and sign-out', () => {
  it('signs in from login() to authenticated and back out', async () => {
    const { auth, idp, signIn, navigations, events } = setup()
    expect(auth.getState().status).toBe('loading')

    const { returnTo } = await signIn()

    expect(returnTo).toBe('/orders')
    expect(auth.getState()).toMatchObject({
      status: 'authenticated',
      user: { sub: 'alice', name: 'Alice Martin', email: 'alice@example.com' },
    })
    expect(location.href).toBe(`${APP}/callback`)
    expect(idp.counts.code).toBe(1)

    const me = await auth.fetch(`${API}/api/me`)
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ sub: 'alice' })

    await auth.logout({ returnTo: '/bye' })
    expect(auth.getState().status).toBe('unauthenticated')
    expect(idp.counts.revocation).toBe(1)
    const endSession = new URL(navigations.at(-1)!)
    expect(endSession.origin + endSession.pathname).toBe(`${ISSUER}/logout`)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/bye`)
    expect(endSession.searchParams.has('id_token_hint')).toBe(false)
    expect(events.map((e) => e.type)).toEqual(['login', 'logout'])
    expect(placesHoldingTokens({ state: auth.getState(), client: auth, events })).toEqual([])
  })

  it('says once where the session is kept: in the page here, where no worker runs', async () => {
    const { auth } = setup()
    const said: unknown[] = []
    auth.on((event) => {
      if (event.type === 'connected') said.push(event)
    })
    await auth.ready()
    await auth.ready()
    expect(said).toEqual([
      { type: 'connected', holder: ENGINE === 'port' ? 'shared-worker' : 'page' },
    ])
  })

  it('rejects auth.fetch without a session, sending nothing', async () => {
    const { auth } = setup()
    let sent = 0
    const { server } = await import('./harness.test-util.js')
    server.use(
      http.get(`${API}/api/me`, () => {
        sent++
        return HttpResponse.json({})
      }),
    )
    await expect(auth.fetch(`${API}/api/me`)).rejects.toMatchObject({ code: 'login_required' })
    expect(sent).toBe(0)
  })
})
