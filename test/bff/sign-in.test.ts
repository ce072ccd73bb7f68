// @spa-auth/bff against oidc-provider: sign-in, the session cookie, the callback's checks, the
// session endpoint, sign-out. Catalogue group J.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP, browser, grants, startBffStack } from './harness.js'

let stack: Awaited<ReturnType<typeof startBffStack>>
beforeAll(async () => {
  stack = await startBffStack()
})
afterAll(() => stack?.close())

/** Every token the provider issued, to look for in what the browser got. */
const issuedTokens = () =>
  stack.idp.tokenAnswers.flatMap((a) => [a.accessToken, a.refreshToken]).filter(Boolean) as string[]

/** `returnTo` values that must not send the browser anywhere but this origin. */
const RETURN_TOS = [
  '//evil.example/x',
  'https://evil.example/',
  '/\\evil.example',
  'javascript:alert(1)',
  'orders',
  '/%2F%2Fevil.example',
]

describe('sign-in through the BFF', () => {
  it('J1: signs in with code + PKCE as a confidential client; the browser holds an opaque __Host- cookie and never a token', async () => {
    const bff = stack.bff()
    const b = browser()
    const back = await b.signIn(bff, stack.idp, { query: 'returnTo=%2Forders%3Fpage%3D2' })
    expect(back.status).toBe(302)
    expect(back.headers.get('location')).toBe(`${APP}/orders?page=2`)
    const cookie = b.cookies.get('__Host-spa-auth')
    expect(cookie?.value).toMatch(/^[\w-]{43}$/)
    expect(cookie?.attributes).toEqual(
      expect.arrayContaining(['Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict']),
    )
    expect(cookie?.attributes.some((a) => /^domain=/i.test(a))).toBe(false)
    // The transaction's cookie is gone once used.
    expect([...b.cookies.keys()].filter((n) => n.startsWith('__Host-spa-auth-tx-'))).toEqual([])

    const session = await b.fetch(bff, '/bff/session')
    expect(session.status).toBe(200)
    expect(session.headers.get('cache-control')).toBe('no-store')
    const body = await session.json()
    expect(body.user).toMatchObject({ sub: 'alice', name: 'Alice Martin' })
    expect(body.user).not.toHaveProperty('nonce')
    expect(body.expiresAt).toBeGreaterThan(Date.now())
    expect(body.sessionExpiresAt).toBeGreaterThan(body.expiresAt)

    const api = await b.fetch(bff, '/api/me')
    expect(api.status).toBe(200)
    expect(await api.json()).toMatchObject({ sub: 'alice', client_id: 'bff-app' })

    const tokens = issuedTokens()
    expect(tokens.length).toBeGreaterThanOrEqual(2)
    for (const answer of b.seen) for (const token of tokens) expect(answer).not.toContain(token)
  })

  it('J2: the session id is new at every sign-in: a planted or earlier cookie never becomes the session (no fixation)', async () => {
    const bff = stack.bff()
    const b = browser()
    b.cookies.set('__Host-spa-auth', { value: 'planted-by-an-attacker', attributes: [] })
    await b.signIn(bff, stack.idp)
    const first = b.cookies.get('__Host-spa-auth')?.value
    expect(first).not.toBe('planted-by-an-attacker')
    await b.signIn(bff, stack.idp)
    const second = b.cookies.get('__Host-spa-auth')?.value
    expect(second).not.toBe(first)
    // The replaced session is over.
    const old = browser()
    old.cookies.set('__Host-spa-auth', { value: first as string, attributes: [] })
    expect((await old.fetch(bff, '/bff/session')).status).toBe(401)
    expect((await b.fetch(bff, '/bff/session')).status).toBe(200)
  })

  it("J3: a callback this browser did not start is refused with 400 and no token request: no cookie, another browser's, a replay, a forged state", async () => {
    const bff = stack.bff()
    const victim = browser()
    const attacker = browser()
    // The attacker's own sign-in, stopped at the callback: a code for the attacker's account.
    const start = await attacker.fetch(bff, '/bff/login?returnTo=/', { api: false })
    const { followSignIn } = await import('../interop/node-sign-in.js')
    const back = await followSignIn(new URL(start.headers.get('location') as string), {
      issuer: stack.idp.issuer,
      redirectUri: `${APP}/bff/callback`,
      login: 'mallory',
    })
    const codes = grants(stack.idp, 'authorization_code')
    const callback = back.pathname + back.search
    const forged = callback.replace(/state=[^&]+/, 'state=forged')
    for (const path of [callback, forged, '/bff/callback?code=x', '/bff/callback']) {
      const answer = await victim.fetch(bff, path, { api: false })
      expect(answer.status).toBe(400)
      expect(answer.headers.get('spa-auth-error')).toBe('invalid_request')
      expect(victim.cookies.has('__Host-spa-auth')).toBe(false)
    }
    // The attacker's transaction cookie on the victim's browser with another value: refused too.
    const txName = [...attacker.cookies.keys()].find((n) => n.startsWith('__Host-spa-auth-tx-'))
    victim.cookies.set(txName as string, { value: 'guessed', attributes: [] })
    expect((await victim.fetch(bff, callback, { api: false })).status).toBe(400)
    expect(grants(stack.idp, 'authorization_code')).toBe(codes)
    // The browser that started it completes it once; a replay is refused without a token request.
    expect((await attacker.fetch(bff, callback, { api: false })).status).toBe(302)
    expect(grants(stack.idp, 'authorization_code')).toBe(codes + 1)
    attacker.cookies.set(txName as string, { value: 'again', attributes: [] })
    expect((await attacker.fetch(bff, callback, { api: false })).status).toBe(400)
    expect(grants(stack.idp, 'authorization_code')).toBe(codes + 1)
  })

  it.each(RETURN_TOS)(
    "J4: login refuses a returnTo that is not a path on the app's origin: %s",
    async (returnTo) => {
      const bff = stack.bff()
      const b = browser()
      const answer = await b.fetch(bff, `/bff/login?returnTo=${encodeURIComponent(returnTo)}`, {
        api: false,
      })
      if (answer.status === 302) {
        // Only a harmless path on this origin may pass (the encoded slashes stay a path).
        const tx = [...b.cookies.keys()].find((n) => n.startsWith('__Host-spa-auth-tx-'))
        expect(tx).toBeDefined()
        expect(returnTo).toBe('/%2F%2Fevil.example')
      } else {
        expect(answer.status).toBe(400)
        expect(answer.headers.get('spa-auth-error')).toBe('invalid_request')
      }
    },
  )

  it('J5: login passes prompt, login_hint, acr_values and max_age on for step-up, and refuses malformed ones', async () => {
    const bff = stack.bff({ authorizationParams: { ui_locales: 'en' } })
    const b = browser()
    const ok = await b.fetch(
      bff,
      '/bff/login?returnTo=/&prompt=login&login_hint=alice&acr_values=urn:mace:incommon:iap:silver&max_age=0',
      { api: false },
    )
    const target = new URL(ok.headers.get('location') as string)
    expect(Object.fromEntries(target.searchParams)).toMatchObject({
      prompt: 'login',
      login_hint: 'alice',
      acr_values: 'urn:mace:incommon:iap:silver',
      max_age: '0',
      ui_locales: 'en',
      client_id: 'bff-app',
      code_challenge_method: 'S256',
      redirect_uri: `${APP}/bff/callback`,
    })
    expect(target.searchParams.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(target.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/)
    for (const bad of [
      'max_age=1e99',
      'max_age=-1',
      `login_hint=${'a'.repeat(300)}`,
      'prompt=evil',
    ]) {
      const answer = await b.fetch(bff, `/bff/login?returnTo=/&${bad}`, { api: false })
      expect(answer.status, bad).toBe(400)
    }
    expect(() => stack.bff({ authorizationParams: { state: 'x' } })).toThrow(
      /authorizationParams.state/,
    )
  })

  it("J6: the provider's error at the callback comes back to returnTo, and session says authorization_error once", async () => {
    const bff = stack.bff()
    const b = browser()
    const start = await b.fetch(bff, '/bff/login?returnTo=/here', { api: false })
    const state = new URL(start.headers.get('location') as string).searchParams.get('state')
    const iss = encodeURIComponent(stack.idp.issuer)
    const back = await b.fetch(
      bff,
      `/bff/callback?error=access_denied&error_description=no+thanks&state=${state}&iss=${iss}`,
      { api: false },
    )
    expect(back.status).toBe(302)
    expect(back.headers.get('location')).toBe(`${APP}/here`)
    const first = await b.fetch(bff, '/bff/session')
    expect(first.status).toBe(401)
    expect(first.headers.get('spa-auth-error')).toBe('authorization_error')
    expect((await first.json()).error).toMatchObject({
      oauthError: 'access_denied',
      description: 'no thanks',
    })
    const second = await b.fetch(bff, '/bff/session')
    expect(second.headers.get('spa-auth-error')).toBe('login_required')
  })

  it('J7: session and every API route refuse a request without the CSRF header, from another origin or another site, and OPTIONS: 403 and nothing upstream', async () => {
    const bff = stack.bff()
    const b = browser()
    await b.signIn(bff, stack.idp)
    const before = stack.api.requests.length
    const tries: [string, RequestInit & { api?: boolean }][] = [
      ['/api/me', { api: false }],
      ['/api/me', { headers: { origin: 'https://evil.example' } }],
      ['/api/me', { headers: { origin: 'null' } }],
      ['/api/me', { headers: { 'sec-fetch-site': 'cross-site' } }],
      ['/api/me', { headers: { 'sec-fetch-site': 'same-site' } }],
      ['/api/me', { method: 'OPTIONS' }],
      [
        '/api/orders',
        {
          method: 'POST',
          api: false,
          body: 'x=1',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
      ],
      ['/bff/session', { api: false }],
      ['/bff/logout', { method: 'POST', api: false }],
      ['/bff/logout', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } }],
    ]
    for (const [path, init] of tries) {
      const answer = await b.fetch(bff, path, init)
      expect(answer.status, `${init.method ?? 'GET'} ${path} ${JSON.stringify(init.headers)}`).toBe(
        403,
      )
      expect(answer.headers.get('spa-auth-error')).toBe('csrf')
    }
    expect(stack.api.requests.length).toBe(before)
    // Still signed in: the refused sign-outs did nothing.
    expect((await b.fetch(bff, '/bff/session')).status).toBe(200)
  })

  it('J8: sign-out ends the session, revokes the refresh token and names the end-session URL without the ID token', async () => {
    const bff = stack.bff()
    const b = browser()
    await b.signIn(bff, stack.idp)
    await b.fetch(bff, '/api/me')
    const { refreshToken } = stack.idp.lastTokens()
    const cookie = b.cookies.get('__Host-spa-auth')?.value as string
    const out = await b.fetch(bff, '/bff/logout', { method: 'POST' })
    expect(out.status).toBe(200)
    const { endSessionUrl } = await out.json()
    const url = new URL(endSessionUrl)
    expect(url.href.startsWith(`${stack.idp.issuer}/session/end`)).toBe(true)
    expect(url.searchParams.get('client_id')).toBe('bff-app')
    expect(url.searchParams.has('id_token_hint')).toBe(false)
    expect(b.cookies.has('__Host-spa-auth')).toBe(false)
    // The old cookie, presented again, is worth nothing; the refresh token is revoked.
    const replay = browser()
    replay.cookies.set('__Host-spa-auth', { value: cookie, attributes: [] })
    expect((await replay.fetch(bff, '/api/me')).status).toBe(401)
    await expect
      .poll(() => stack.idp.requests.some((r) => r.path === '/token/revocation'))
      .toBe(true)
    const refreshed = await fetch(`${stack.idp.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('bff-app:bff-secret-not-a-secret')}` },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken as string,
      }),
    })
    expect(refreshed.status).toBe(400)
  })

  it('J30: the popup-done page a popup sign-in lands on runs only its own script (CSP hash), tells the opener on the BFF channel, and closes', async () => {
    const bff = stack.bff()
    const page = await browser().fetch(bff, '/bff/popup-done?popup=p1', { api: false })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    const script = /<script>(.*)<\/script>/.exec(html)?.[1] as string
    expect(script).toContain('new BroadcastChannel("spa-auth:bff:/bff")')
    expect(script).toContain('close()')
    const { createHash } = await import('node:crypto')
    const sha = createHash('sha256').update(script).digest('base64')
    expect(page.headers.get('content-security-policy')).toBe(
      `default-src 'none'; script-src 'sha256-${sha}'`,
    )
    expect(page.headers.get('cache-control')).toBe('no-store')
  })
})
