import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  APP,
  CLIENT_ID,
  clientOptions,
  ISSUER,
  rejection,
  sentRequests,
  server,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { type Clock, createAuthClient, type LoginOptions } from './index.js'

const TX = 'spa-auth:tx:'

const text = new TextEncoder()
function b64url(bytes: ArrayBuffer | Uint8Array): string {
  let binary = ''
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
const b64json = (value: unknown) => b64url(text.encode(JSON.stringify(value)))

/** The transaction sessionStorage holds for `state`, or undefined. */
function storedTx(state: string): Record<string, unknown> | undefined {
  const raw = sessionStorage.getItem(TX + state)
  return raw === null ? undefined : JSON.parse(raw)
}
const pendingTransactions = () => Object.keys(sessionStorage).filter((k) => k.startsWith(TX))

/** A client that has started a login: the provider's URL, its state and the stored transaction. */
async function begin(
  options: Parameters<typeof setup>[0] = {},
  login: LoginOptions = { returnTo: '/orders' },
  mock: Parameters<typeof setup>[1] = {},
) {
  const ctx = setup(options, mock)
  await ctx.auth.login(login)
  const authorizeUrl = new URL(ctx.navigations.at(-1)!)
  const state = authorizeUrl.searchParams.get('state')!
  const callback = (user: { sub?: string; deny?: boolean } = {}) =>
    ctx.idp.authorize(authorizeUrl.href, user)
  return { ...ctx, authorizeUrl, state, tx: storedTx(state)!, callback }
}

/** `url` with its query parameters changed: a string sets, null deletes, an array appends. */
function edit(url: string, changes: Record<string, string | null | string[]>, hash?: string) {
  const next = new URL(url)
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) next.searchParams.delete(name)
    else if (Array.isArray(value)) for (const v of value) next.searchParams.append(name, v)
    else next.searchParams.set(name, value)
  }
  if (hash !== undefined) next.hash = hash
  return next.href
}

describe('the authorization URL', () => {
  it('A12: asks for a code with PKCE S256, state and nonce, all kept for the callback', async () => {
    const { authorizeUrl, state, tx } = await begin({ scope: 'openid profile' })
    const params = authorizeUrl.searchParams

    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${ISSUER}/authorize`)
    expect(params.get('response_type')).toBe('code')
    expect(params.get('client_id')).toBe(CLIENT_ID)
    expect(params.get('redirect_uri')).toBe(`${APP}/callback`)
    expect(params.get('scope')).toBe('openid profile')
    expect(params.get('code_challenge_method')).toBe('S256')
    expect(state).toMatch(/^[\w-]{20,}$/)
    expect(tx).toMatchObject({ state, returnTo: '/orders', nonce: params.get('nonce') })
    expect(params.get('nonce')).toMatch(/^[\w-]{20,}$/)
    const digest = await crypto.subtle.digest('SHA-256', text.encode(String(tx.verifier)))
    expect(params.get('code_challenge')).toBe(b64url(digest))
  })

  it('A12: the verifier is 43–128 unreserved characters, new for every login', async () => {
    const { auth, navigations } = setup()
    for (let i = 0; i < 5; i++) await auth.login()
    const states = navigations.map((url) => new URL(url).searchParams.get('state')!)
    const verifiers = states.map((state) => String(storedTx(state)?.verifier))

    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/)
    expect(new Set(verifiers).size).toBe(5)
    expect(new Set(states).size).toBe(5)
  })

  it('A12: sends no nonce when the scope lacks openid', async () => {
    const { authorizeUrl, tx } = await begin({ scope: 'profile offline_access' })
    expect(authorizeUrl.searchParams.has('nonce')).toBe(false)
    expect(tx.nonce).toBeUndefined()
  })

  it('maps prompt, loginHint, acrValues, maxAge and uiLocales to their parameters', async () => {
    const { authorizeUrl, tx } = await begin(
      {},
      { prompt: 'login', loginHint: 'alice@example.com', acrValues: 'urn:acr:mfa', maxAge: 0 },
    )
    const { authorizeUrl: second } = await begin({}, { uiLocales: 'fr-CA en', maxAge: 300 })

    expect(Object.fromEntries(authorizeUrl.searchParams)).toMatchObject({
      prompt: 'login',
      login_hint: 'alice@example.com',
      acr_values: 'urn:acr:mfa',
      max_age: '0',
    })
    expect(authorizeUrl.searchParams.has('ui_locales')).toBe(false)
    expect(tx.maxAge).toBe(0)
    expect(second.searchParams.get('ui_locales')).toBe('fr-CA en')
    expect(second.searchParams.get('max_age')).toBe('300')
    expect(second.searchParams.has('prompt')).toBe(false)
  })

  it('passes extraParams through but never lets them override its own parameters', async () => {
    const own = {
      client_id: 'evil',
      redirect_uri: 'https://evil.example.com/cb',
      response_type: 'token',
      scope: 'admin',
      state: 'chosen-state',
      nonce: 'chosen-nonce',
      code_challenge: 'chosen',
      code_challenge_method: 'plain',
    }
    const { authorizeUrl, state, tx } = await begin(
      {},
      { prompt: 'consent', extraParams: { ...own, audience: 'orders', prompt: 'none' } },
    )
    const params = authorizeUrl.searchParams

    expect(params.get('audience')).toBe('orders')
    expect(params.get('prompt')).toBe('consent')
    for (const [name, value] of Object.entries(own)) {
      expect(params.getAll(name)).toHaveLength(1)
      expect(params.get(name)).not.toBe(value)
    }
    expect(state).not.toBe('chosen-state')
    expect(params.get('nonce')).toBe(tx.nonce)
  })

  it('A12: refuses to start when the given metadata lists PKCE methods without S256', async () => {
    const { idp } = setup()
    const navigations: string[] = []
    const auth = createAuthClient({
      issuer: ISSUER,
      clientId: CLIENT_ID,
      redirectUri: `${APP}/callback`,
      metadata: { ...idp.metadata, code_challenge_methods_supported: ['plain'] },
      navigate: (url) => navigations.push(url),
    })

    const error = await rejection(auth.login())

    expect(error.code).toBe('configuration')
    expect(error.message).toMatch(/S256/)
    expect(navigations).toEqual([])
    expect(pendingTransactions()).toEqual([])
    expect(sentRequests).toEqual([])
  })

  it('A12: refuses to start when the discovered metadata lists PKCE methods without S256', async () => {
    const { auth, idp, navigations } = setup()
    server.use(
      http.get(`${ISSUER}/.well-known/openid-configuration`, () =>
        HttpResponse.json({ ...idp.metadata, code_challenge_methods_supported: ['plain'] }),
      ),
    )

    expect((await rejection(auth.login())).code).toBe('configuration')
    expect(navigations).toEqual([])
    expect(pendingTransactions()).toEqual([])
  })
})

describe('the callback', () => {
  it.each([
    ['missing', { state: null }],
    ['wrong', { state: 'not-the-state' }],
    ['empty', { state: '' }],
  ])(
    'A1: a callback whose state is %s is rejected with no token request; the login is ended',
    async (_, change) => {
      const { auth, callback, state } = await begin()
      const url = edit(await callback(), change)

      const error = await rejection(auth.handleCallback(url))

      expect(error.code).toBe('callback_invalid')
      expect(tokenRequests()).toBe(0)
      expect(storedTx(state)).toBeUndefined()
      expect(pendingTransactions()).toEqual([])
      expect(auth.getState()).toMatchObject({ status: 'unauthenticated', error })
    },
  )

  it.each([
    ['state', (state: string) => [state]],
    ['code', () => ['a-second-code']],
    ['iss', () => [ISSUER]],
  ])('A2: a callback with %s given twice is rejected with no token request', async (name, more) => {
    const { auth, callback, state } = await begin()
    const url = edit(await callback(), { [name]: more(state) })

    const error = await rejection(auth.handleCallback(url))

    expect(error.code).toBe('callback_invalid')
    expect(error.message).toContain(name)
    expect(tokenRequests()).toBe(0)
    expect(pendingTransactions()).toEqual([])
  })

  it.each([
    ['names another issuer', { iss: 'https://evil.example.com' }],
    ['has a look-alike issuer', { iss: `${ISSUER}/` }],
    ['lacks iss while the provider advertises it', { iss: null }],
  ])('A3: a callback that %s is an issuer_mismatch, with no token request', async (_, change) => {
    const { auth, callback } = await begin()

    const error = await rejection(auth.handleCallback(edit(await callback(), change)))

    expect(error.code).toBe('issuer_mismatch')
    expect(tokenRequests()).toBe(0)
  })

  it('A3: a callback without iss is accepted when the provider does not advertise it', async () => {
    const { auth, callback, idp } = await begin({}, {}, { advertiseIss: false })
    await auth.handleCallback(edit(await callback(), { iss: null }))
    expect(idp.counts.code).toBe(1)
    expect(auth.getState().status).toBe('authenticated')
  })

  it('A4: access_denied reaches the caller as authorization_error, with no retry', async () => {
    const { auth, callback, navigations } = await begin()

    const error = await rejection(auth.handleCallback(await callback({ deny: true })))
    await new Promise((resolve) => setTimeout(resolve, 20))

    expect(error).toMatchObject({
      code: 'authorization_error',
      oauthError: 'access_denied',
      description: 'The user denied the request',
    })
    expect(tokenRequests()).toBe(0)
    expect(navigations).toHaveLength(1)
    expect(auth.getState()).toMatchObject({ status: 'unauthenticated', error })
  })

  it('A4: login_required after prompt=none reaches the caller, with no retry', async () => {
    const { auth, callback, navigations } = await begin({}, { prompt: 'none' })

    const error = await rejection(auth.handleCallback(await callback()))
    await new Promise((resolve) => setTimeout(resolve, 20))

    expect(error).toMatchObject({ code: 'authorization_error', oauthError: 'login_required' })
    expect(tokenRequests()).toBe(0)
    expect(navigations).toHaveLength(1)
  })

  it('A5: a forged error with a bad state fails on the state, not the error', async () => {
    const { auth, state } = await begin()
    const forged = `${APP}/callback?error=access_denied&error_description=Call+0800&state=forged&iss=${ISSUER}`

    const error = await rejection(auth.handleCallback(forged))

    expect(error.code).toBe('callback_invalid')
    expect(error.oauthError).toBeUndefined()
    expect(storedTx(state)).toBeUndefined()
  })

  it.each([
    ['access_token in the query', { access_token: 'leaked-token-value' }, undefined],
    ['token in the query', { token: 'leaked-token-value' }, undefined],
    ['id_token in the query', { id_token: 'leaked-token-value' }, undefined],
    ['access_token in the fragment', {}, '#access_token=leaked-token-value&token_type=bearer'],
    ['token in the fragment', {}, '#token=leaked-token-value'],
    ['id_token in the fragment', {}, '#id_token=leaked-token-value'],
  ])(
    'A6: a callback with %s is rejected and leaves no token in the URL',
    async (_, change, hash) => {
      const { auth, callback } = await begin()
      history.replaceState(null, '', edit(await callback(), change, hash))

      const error = await rejection(auth.handleCallback())

      expect(error.code).toBe('callback_invalid')
      expect(tokenRequests()).toBe(0)
      expect(location.href).not.toContain('leaked-token-value')
    },
  )

  it('A7: a callback with no stored transaction is rejected, cleaned, with no request', async () => {
    const { auth, callback } = await begin()
    history.replaceState(null, '', await callback())
    sessionStorage.clear()
    sentRequests.length = 0

    const error = await rejection(auth.handleCallback())

    expect(error.code).toBe('callback_invalid')
    expect(location.href).toBe(`${APP}/callback`)
    expect(sentRequests).toEqual([])
  })

  it('A8: a replayed callback (a reload after success) makes no token request', async () => {
    const { auth, callback, navigations } = await begin()
    const url = await callback()
    history.replaceState(null, '', url)
    await auth.handleCallback()
    expect(tokenRequests()).toBe(1)

    history.replaceState(null, '', url)
    const reloaded = createAuthClient(clientOptions(navigations))
    const error = await rejection(reloaded.handleCallback())

    expect(error.code).toBe('callback_invalid')
    expect(tokenRequests()).toBe(1)
    expect(reloaded.getState().status).toBe('unauthenticated')
    expect(location.href).toBe(`${APP}/callback`)
  })

  it('A14: a router that leaves the callback before the client starts does not lose the sign-in', async () => {
    const { callback, navigations } = await begin()
    // The page loads at the callback and creates its client; a redirect of the app's router
    // (an effect that runs before the client starts) takes the address bar elsewhere.
    const url = await callback()
    history.replaceState(null, '', url)
    const page = createAuthClient(clientOptions(navigations))
    history.replaceState(null, '', '/')

    const result = await page.ready()

    expect(result).toEqual({ returnTo: '/orders' })
    expect(page.getState().status).toBe('authenticated')
    expect(tokenRequests()).toBe(1)
    // The address bar the router chose is left as it is.
    expect(location.href).toBe(`${APP}/`)
    // Handled once: the same callback asked for again makes no other exchange.
    expect(await page.handleCallback(url)).toEqual({ returnTo: '/orders' })
    expect(tokenRequests()).toBe(1)
    page.dispose()
  })

  it('A9: concurrent handleCallback() calls make one code exchange and share its result', async () => {
    const { auth, callback, idp } = await begin()
    const url = await callback()
    history.replaceState(null, '', url)

    const first = auth.handleCallback()
    const second = auth.handleCallback(url)
    // The address bar is clean now: a third call with the default URL reads the cleaned one.
    const third = auth.handleCallback()
    const results = await Promise.all([first, second, third])

    expect(results).toEqual([
      { returnTo: '/orders' },
      { returnTo: '/orders' },
      { returnTo: '/orders' },
    ])
    expect(tokenRequests()).toBe(1)
    expect(idp.counts.code).toBe(1)
  })

  it('A9: concurrent handleCallback() calls share one failure, with one token request', async () => {
    const { auth, callback, idp } = await begin()
    idp.faults.token = { kind: 'status', status: 400, body: { error: 'invalid_grant' } }
    const url = await callback()
    history.replaceState(null, '', url)

    const outcomes = await Promise.allSettled([
      auth.handleCallback(),
      auth.handleCallback(url),
      auth.handleCallback(),
    ])

    const reasons = outcomes.map((o) => (o.status === 'rejected' ? o.reason : o))
    expect(reasons[0]).toMatchObject({ code: 'token_error', oauthError: 'invalid_grant' })
    expect(reasons[1]).toBe(reasons[0])
    expect(reasons[2]).toBe(reasons[0])
    expect(tokenRequests()).toBe(1)
  })

  it('A10: after success, the callback parameters leave the URL and the rest stays', async () => {
    const { auth, callback } = await begin()
    const url = edit(await callback(), { keep: '1', session_state: 'abc' }, '#section')
    history.replaceState(null, '', url)

    await auth.handleCallback()

    expect(location.href).toBe(`${APP}/callback?keep=1#section`)
    expect(auth.getState().status).toBe('authenticated')
  })

  it('A10: after failure, the callback parameters leave the URL and the rest stays', async () => {
    const { auth, callback } = await begin()
    const url = edit(await callback({ deny: true }), { keep: '1', session_state: 'abc' })
    expect(url).toMatch(/error=.*error_description=.*state=.*iss=/)
    history.replaceState(null, '', url)

    await rejection(auth.handleCallback())

    expect(location.href).toBe(`${APP}/callback?keep=1`)
  })

  it('A11: fuzzed callback URLs always give an AuthError and never a token request', async () => {
    const big = 'A'.repeat(64 * 1024)
    const iss = encodeURIComponent(ISSUER)
    const at = (query: string) => `${APP}/callback${query}`
    const inputs: ((state: string) => string)[] = [
      () => at(''),
      (s) => at(`?code=&state=${s}&iss=${iss}`),
      () => at('?code=&state=&iss='),
      (s) => at(`?code=ab%00cd&state=${s}&iss=${iss}`),
      (s) => at(`?code=abc&state=${s}%00&iss=${iss}`),
      () => at('?%00=%00&state=%00&code=%00'),
      (s) => at(`?code=${big}&state=${s}&iss=${iss}`),
      () => at(`?code=abc&state=${big}&iss=${iss}`),
      (s) => at(`?code=abc&state=${s}&iss=${big}`),
      (s) => at(`?state=${s}&iss=${iss}&junk=${big}`),
      (s) => at(`#code=abc&state=${s}&iss=${iss}`),
      (s) => at(`?code=abc&state=${s}&iss=${iss}#code=abc&state=${s}`),
      (s) => at(`?code=abc&state=${s}&iss=${iss}#${big}&code=x`),
      () => at('?%%%&&==&state=%E0%A4%A'),
      () => at('?code=abc&state=%F0%9F%92%A5&iss=x'),
      (s) => at(`?code=%0d%0aSet-Cookie:%20x&state=${s}&iss=${iss}`),
      (s) => at(`?code=caf%C3%A9&state=${s}&iss=${iss}`),
      (s) => at(`?response=eyJhbGciOiJub25lIn0.e30.&state=${s}&iss=${iss}`),
      (s) => at(`?state=${s}`),
      (s) => at(`?error=&state=${s}&iss=${iss}`),
      (s) => at(`?code=abc&code=abc&state=${s}&state=${s}&iss=${iss}&iss=${iss}`),
      (s) => at(`?CODE=abc&STATE=${s}&ISS=${iss}`),
      () => 'not a url at all',
      () => 'javascript:alert(1)//?state=x&code=y',
      () => '',
    ]
    const { auth, navigations } = setup()
    const codes = new Set<string>()
    for (const input of inputs) {
      await auth.login()
      const state = new URL(navigations.at(-1)!).searchParams.get('state')!
      const error = await rejection(auth.handleCallback(input(state)))
      codes.add(error.code)
    }

    console.log(`A11 figures: inputs=${inputs.length} tokenRequests=${tokenRequests()}`)
    expect(tokenRequests()).toBe(0)
    expect([...codes].sort()).toEqual(['callback_invalid', 'issuer_mismatch'])
  })

  // Defect in client.ts: `new URL(href)` throws a TypeError, synchronously, before any promise.
  it('A11: an unparsable callback URL rejects with an AuthError, not a TypeError', async () => {
    const { auth } = setup()
    await rejection(auth.handleCallback('http://['))
  })

  it.each([
    ['in the order they started', [0, 1]],
    ['in the opposite order', [1, 0]],
  ])('A13: two logins complete %s, each with its own returnTo', async (_, order) => {
    const { auth, idp, navigations } = setup()
    await auth.login({ returnTo: '/first' })
    await auth.login({ returnTo: '/second' })
    const callbacks = await Promise.all(navigations.map((url) => idp.authorize(url)))
    expect(pendingTransactions()).toHaveLength(2)

    const results = []
    for (const i of order) results.push(await auth.handleCallback(callbacks[i]))

    const expected = ['/first', '/second']
    expect(results.map((r) => r.returnTo)).toEqual(order.map((i) => expected[i]))
    expect(idp.counts.code).toBe(2)
    expect(pendingTransactions()).toEqual([])
    expect(auth.getState().status).toBe('authenticated')
  })
})

describe('the transaction', () => {
  function manualClock(start = Date.now()) {
    const clock: Clock & { at: number } = {
      at: start,
      now: () => clock.at,
      setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    }
    return clock
  }

  it('refuses a callback for a login older than 30 minutes, with no token request', async () => {
    const clock = manualClock()
    const { auth, callback, state } = await begin({ clock })
    const url = await callback()
    clock.at += 30 * 60_000 + 1

    const error = await rejection(auth.handleCallback(url))

    expect(error.code).toBe('callback_invalid')
    expect(error.message).toMatch(/expired/)
    expect(tokenRequests()).toBe(0)
    expect(storedTx(state)).toBeUndefined()
  })

  it('completes a callback for a login just under 30 minutes old', async () => {
    const clock = manualClock()
    const { auth, callback } = await begin({ clock })
    const url = await callback()
    clock.at += 30 * 60_000 - 1000

    await auth.handleCallback(url)

    expect(tokenRequests()).toBe(1)
    expect(auth.getState().status).toBe('authenticated')
  })

  it('sweeps abandoned transactions at the next login and keeps recent ones', async () => {
    const clock = manualClock()
    const { auth, navigations } = setup({ clock })
    const stateOf = (url: string | undefined) => new URL(String(url)).searchParams.get('state')!
    sessionStorage.setItem(`${TX}junk`, 'not json')
    sessionStorage.setItem('another-app:key', 'kept')
    await auth.login()
    const abandoned = stateOf(navigations.at(-1))
    clock.at += 20 * 60_000
    await auth.login()
    const recent = stateOf(navigations.at(-1))
    expect(storedTx(abandoned)).toBeDefined()
    clock.at += 11 * 60_000

    await auth.login()
    const latest = stateOf(navigations.at(-1))

    expect(pendingTransactions().sort()).toEqual([TX + recent, TX + latest].sort())
    expect(sessionStorage.getItem('another-app:key')).toBe('kept')
  })
})

describe('ID token validation at the code exchange', () => {
  /** Answers the token endpoint with `idToken` beside a plausible access token. */
  function answerWithIdToken(idToken: string) {
    server.use(
      http.post(`${ISSUER}/token`, () =>
        HttpResponse.json({
          access_token: 'crafted-access-token',
          token_type: 'Bearer',
          expires_in: 3600,
          id_token: idToken,
        }),
      ),
    )
  }

  /** A key of our own, served as the provider's JWKS, to sign claims `idp.sign` cannot shape. */
  async function ownSigner() {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey)
    server.use(
      http.get(`${ISSUER}/jwks`, () =>
        HttpResponse.json({ keys: [{ ...jwk, kid: 'own', alg: 'ES256', use: 'sig' }] }),
      ),
    )
    return async (claims: Record<string, unknown>) => {
      const input = `${b64json({ alg: 'ES256', kid: 'own', typ: 'JWT' })}.${b64json(claims)}`
      const signature = await crypto.subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        pair.privateKey,
        text.encode(input),
      )
      return `${input}.${b64url(signature)}`
    }
  }

  async function expectRejected(auth: ReturnType<typeof setup>['auth'], url: string) {
    const error = await rejection(auth.handleCallback(url))
    expect(error.code).toBe('invalid_response')
    expect(tokenRequests()).toBe(1)
    expect(auth.getState()).toMatchObject({ status: 'unauthenticated', error })
    expect(auth.getState().user).toBeUndefined()
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    return error
  }

  const signedByProvider: [string, (nonce: string) => Record<string, unknown>, number][] = [
    ['aud names another client', (nonce) => ({ sub: 'alice', aud: 'other-client', nonce }), 600],
    [
      'azp names another client',
      (nonce) => ({ sub: 'alice', aud: [CLIENT_ID, 'other'], azp: 'other', nonce }),
      600,
    ],
    ['sub is missing', (nonce) => ({ aud: CLIENT_ID, nonce }), 600],
    ['it has expired', (nonce) => ({ sub: 'alice', aud: CLIENT_ID, nonce }), -120],
    ['the nonce is wrong', () => ({ sub: 'alice', aud: CLIENT_ID, nonce: 'not-ours' }), 600],
    ['the nonce is missing', () => ({ sub: 'alice', aud: CLIENT_ID }), 600],
  ]

  it.each(signedByProvider)('B5: an ID token whose %s is rejected', async (_, claims, lifetime) => {
    const { auth, callback, idp, tx } = await begin()
    const url = await callback()
    answerWithIdToken(await idp.sign(claims(String(tx.nonce)), lifetime))
    await expectRejected(auth, url)
  })

  it('B5: a well-formed ID token signed by the provider is accepted (control)', async () => {
    const { auth, callback, idp, tx } = await begin()
    const url = await callback()
    answerWithIdToken(await idp.sign({ sub: 'bob', aud: CLIENT_ID, nonce: tx.nonce }, 600))

    await auth.handleCallback(url)

    expect(auth.getState()).toMatchObject({ status: 'authenticated', user: { sub: 'bob' } })
  })

  const now = () => Math.floor(Date.now() / 1000)
  const selfSigned: [string, (nonce: string) => Record<string, unknown>][] = [
    [
      'iss names another provider',
      (nonce) => ({ iss: 'https://evil.example.com', sub: 'alice', aud: CLIENT_ID, nonce }),
    ],
    ['iat is missing', (nonce) => ({ iss: ISSUER, sub: 'alice', aud: CLIENT_ID, nonce })],
    ['exp is missing', (nonce) => ({ iss: ISSUER, sub: 'alice', aud: CLIENT_ID, nonce })],
  ]

  it.each(selfSigned)('B5: an ID token whose %s is rejected', async (name, claims) => {
    const { auth, callback, tx } = await begin()
    const url = await callback()
    const sign = await ownSigner()
    const times = {
      ...(name.startsWith('iat') ? {} : { iat: now() }),
      ...(name.startsWith('exp') ? {} : { exp: now() + 600 }),
    }
    answerWithIdToken(await sign({ ...claims(String(tx.nonce)), ...times }))
    await expectRejected(auth, url)
  })

  it('B5: an ID token with every claim right, signed by the served key, is accepted (control)', async () => {
    const { auth, callback, tx } = await begin()
    const url = await callback()
    const sign = await ownSigner()
    const claims = { iss: ISSUER, sub: 'carol', aud: CLIENT_ID, nonce: tx.nonce }
    answerWithIdToken(await sign({ ...claims, iat: now(), exp: now() + 600 }))

    await auth.handleCallback(url)

    expect(auth.getState()).toMatchObject({ status: 'authenticated', user: { sub: 'carol' } })
  })

  function claimsFor(nonce: unknown) {
    return { iss: ISSUER, sub: 'alice', aud: CLIENT_ID, nonce, iat: now(), exp: now() + 600 }
  }

  it('B9: an ID token with alg none is rejected', async () => {
    const { auth, callback, tx } = await begin()
    const url = await callback()
    answerWithIdToken(`${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claimsFor(tx.nonce))}.`)
    await expectRejected(auth, url)
  })

  it("B9: an ID token in HS256 keyed with the provider's public key is rejected", async () => {
    const { auth, callback, tx } = await begin()
    const url = await callback()
    const { keys } = (await (await fetch(`${ISSUER}/jwks`)).json()) as { keys: JsonWebKey[] }
    const jwk = keys[0] as JsonWebKey & { kid: string }
    const publicKey = await crypto.subtle.importKey(
      'jwk',
      jwk,
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['verify'],
    )
    const spki = btoa(
      String.fromCharCode(...new Uint8Array(await crypto.subtle.exportKey('spki', publicKey))),
    )
    const pem = `-----BEGIN PUBLIC KEY-----\n${spki}\n-----END PUBLIC KEY-----\n`
    const hmac = await crypto.subtle.importKey(
      'raw',
      text.encode(pem),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const input = `${b64json({ alg: 'HS256', kid: jwk.kid, typ: 'JWT' })}.${b64json(claimsFor(tx.nonce))}`
    const signature = await crypto.subtle.sign('HMAC', hmac, text.encode(input))

    answerWithIdToken(`${input}.${b64url(signature)}`)
    await expectRejected(auth, url)
  })
})
