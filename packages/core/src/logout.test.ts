import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { API, APP, CLIENT_ID, ISSUER, sentRequests, server, setup } from './harness.test-util.js'

/** Records what each revocation request carried, then lets the mock provider answer it. */
function recordRevocations() {
  const revoked: { token: string | null; hint: string | null }[] = []
  server.use(
    http.post(`${ISSUER}/revoke`, async ({ request }) => {
      const form = new URLSearchParams(await request.clone().text())
      revoked.push({ token: form.get('token'), hint: form.get('token_type_hint') })
      return undefined
    }),
  )
  return revoked
}

/** What the provider's token endpoint says to a refresh with `refreshToken` now. */
async function refreshAnswer(refreshToken: string): Promise<number> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
  })
  return (await fetch(`${ISSUER}/token`, { method: 'POST', body })).status
}

const payloadOf = (jwt: string) =>
  JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))

/** Signed-in client; the access token is read through the public API. */
async function signedIn(options: Parameters<typeof setup>[0] = {}) {
  const ctx = setup(options)
  await ctx.signIn()
  const accessToken = await ctx.auth.getAccessToken()
  sentRequests.length = 0
  return { ...ctx, accessToken }
}

async function expectSignedOut(ctx: Awaited<ReturnType<typeof signedIn>>) {
  expect(ctx.auth.getState()).toEqual({ status: 'unauthenticated', signedOut: true })
  await expect(ctx.auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  await expect(ctx.auth.fetch(`${API}/api/me`)).rejects.toMatchObject({ code: 'login_required' })
}

describe('logout', () => {
  it('H14: revokes the refresh token only, which ends the grant and its access tokens, and ends the provider session', async () => {
    const ctx = await signedIn()
    const revoked = recordRevocations()

    await ctx.auth.logout({ returnTo: '/bye' })

    // A JWT access token is not sent: most providers refuse it (unsupported_token_type).
    expect(revoked.map((r) => r.hint)).toEqual(['refresh_token'])
    const refreshToken = revoked[0]!.token!
    expect(refreshToken).not.toBe(ctx.accessToken)
    // The provider really forgot them: the refresh token and the access token are dead.
    expect(await refreshAnswer(refreshToken)).toBe(400)
    const me = await fetch(`${API}/api/me`, {
      headers: { authorization: `Bearer ${ctx.accessToken}` },
    })
    expect(me.status).toBe(401)

    const endSession = new URL(ctx.navigations.at(-1)!)
    expect(endSession.origin + endSession.pathname).toBe(`${ISSUER}/logout`)
    expect(endSession.searchParams.get('client_id')).toBe(CLIENT_ID)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/bye`)
    // No token in the URL (it would stay in the browser's history) unless asked for.
    expect(endSession.searchParams.has('id_token_hint')).toBe(false)
    expect(ctx.events.at(-1)).toEqual({ type: 'logout', revoked: true })
    await expectSignedOut(ctx)
  })

  it('sends the ID token as id_token_hint only when the client is configured to', async () => {
    const ctx = await signedIn({ idTokenHint: true })
    await ctx.auth.logout()
    const endSession = new URL(ctx.navigations.at(-1)!)
    expect(payloadOf(endSession.searchParams.get('id_token_hint')!)).toMatchObject({
      iss: ISSUER,
      aud: CLIENT_ID,
      sub: 'alice',
    })
  })

  it('H15: sends the user back to the page origin by default, with the "/" providers register', async () => {
    const ctx = await signedIn()
    await ctx.auth.logout()
    const endSession = new URL(ctx.navigations.at(-1)!)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`)
  })

  it('H14: revokes an opaque access token when it is the only credential', async () => {
    const ctx = setup()
    ctx.idp.faults.rewrite = ({ refresh_token: _none, ...body }) => ({
      ...body,
      access_token: 'opaque-access-token-0123456789',
    })
    await ctx.signIn()
    const revoked = recordRevocations()
    await ctx.auth.logout()
    expect(revoked).toEqual([{ token: 'opaque-access-token-0123456789', hint: 'access_token' }])
  })

  it('H14: sends no revocation for a session whose one credential is a JWT access token', async () => {
    const ctx = setup()
    ctx.idp.faults.rewrite = ({ refresh_token: _none, ...body }) => body
    await ctx.signIn()
    const revoked = recordRevocations()
    await ctx.auth.logout()
    expect(revoked).toEqual([])
    expect(ctx.events.at(-1)).toEqual({ type: 'logout', revoked: true })
  })

  it('signs out without a request or a navigation when the provider has neither endpoint', async () => {
    const probe = setup()
    const { revocation_endpoint: _r, end_session_endpoint: _e, ...metadata } = probe.idp.metadata
    const ctx = await signedIn({ metadata })
    const navigated = ctx.navigations.length

    await ctx.auth.logout({ returnTo: '/bye' })

    expect(sentRequests).toEqual([])
    expect(ctx.navigations).toHaveLength(navigated)
    expect(ctx.events.at(-1)).toEqual({ type: 'logout', revoked: false })
    await expectSignedOut(ctx)
  })

  it.each([
    ['a 500', () => HttpResponse.json({ error: 'server_error' }, { status: 500 })],
    ['a network error', () => HttpResponse.error()],
    [
      'a 400 invalid_request',
      () => HttpResponse.json({ error: 'invalid_request' }, { status: 400 }),
    ],
  ])('signs out even when the revocation meets %s', async (_, answer) => {
    const ctx = await signedIn()
    server.use(http.post(`${ISSUER}/revoke`, answer))

    await ctx.auth.logout()

    expect(sentRequests.filter((r) => r === `POST ${ISSUER}/revoke`)).toHaveLength(1)
    expect(ctx.events.at(-1)).toEqual({ type: 'logout', revoked: false })
    expect(new URL(ctx.navigations.at(-1)!).pathname).toBe('/logout')
    await expectSignedOut(ctx)
  })

  it('signs out without waiting past the timeout when the revocation hangs', async () => {
    // Long enough for the sign-in's exchange beside the browser tests on two cores.
    const ctx = await signedIn({ requestTimeout: 500 })
    server.use(http.post(`${ISSUER}/revoke`, () => new Promise<never>(() => {})))

    await ctx.auth.logout()

    expect(ctx.events.at(-1)).toEqual({ type: 'logout', revoked: false })
    await expectSignedOut(ctx)
  })

  it('localOnly: true forgets the session with no request and no navigation', async () => {
    const ctx = await signedIn()
    const navigated = ctx.navigations.length

    await ctx.auth.logout({ localOnly: true })

    expect(sentRequests).toEqual([])
    expect(ctx.navigations).toHaveLength(navigated)
    expect(ctx.events.at(-1)).toEqual({ type: 'logout', revoked: false })
    await expectSignedOut(ctx)
  })
})
