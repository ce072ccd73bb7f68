import { MOCK_MFA_ACR, MOCK_STEP_UP_MAX_AGE } from '@spa-auth/mocks'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { HttpResponse, http } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { sha256 } from '../../mocks/src/encoding.js'
import {
  API,
  ISSUER,
  placesHoldingTokens,
  rejection,
  server,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { simClock } from './sim.test-util.js'

/** The authorization and DPoP headers of every request that reaches `url` (no query), in order. */
function watch(url: string) {
  const seen: { authorization: string | null; proof: string | null }[] = []
  server.events.on('request:start', ({ request }) => {
    if (request.url.split('?')[0] === url) {
      seen.push({
        authorization: request.headers.get('authorization'),
        proof: request.headers.get('dpop'),
      })
    }
  })
  return seen
}

async function signedIn(options: Parameters<typeof setup>[0] = { dpop: true }) {
  const sim = simClock()
  const ctx = setup({ clock: sim.clock, ...options })
  await ctx.signIn()
  /** Makes the access token due: the next call refreshes. */
  const due = () => sim.set(ctx.auth.getState().expiresAt! - 1_000)
  return { ...ctx, sim, due }
}

describe('I: DPoP', () => {
  it('I1: the sign-in names the key, every token request proves it, the tokens are bound to it', async () => {
    const tokens = watch(`${ISSUER}/token`)
    const { auth, idp, navigations, due } = await signedIn()
    const jkt = new URL(navigations[0]!).searchParams.get('dpop_jkt')
    expect(jkt).toMatch(/^[\w-]{43}$/)
    const at = await auth.getAccessToken()
    expect(decodeJwt(at).cnf).toEqual({ jkt })
    due()
    const next = await auth.getAccessToken()
    expect(next).not.toBe(at)
    expect(decodeJwt(next).cnf).toEqual({ jkt })
    expect(tokens).toHaveLength(2)
    for (const { proof } of tokens) {
      expect(decodeProtectedHeader(proof!)).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
      expect(decodeJwt(proof!)).toMatchObject({ htm: 'POST', htu: `${ISSUER}/token` })
    }
    expect(idp.dpopProofs.filter((p) => p.server === 'token' && p.accepted)).toHaveLength(2)
  })

  it('I2: auth.fetch sends `Authorization: DPoP` and a fresh proof of method, URL and token', async () => {
    const api = watch(`${API}/api/me`)
    const echo = watch(`${API}/echo`)
    const names: string[][] = []
    server.use(
      http.post(`${API}/echo`, ({ request }) => {
        names.push([...request.headers.keys()].sort())
        return HttpResponse.json({})
      }),
    )
    const { auth, idp } = await signedIn()
    expect((await auth.fetch(`${API}/api/me?page=2`)).status).toBe(200)
    await auth.fetch(`${API}/echo`, { method: 'post', headers: [['x-a', '1']], body: 'b' })
    await auth.fetch(new Request(`${API}/echo`, { method: 'POST', body: 'c' }))
    const at = await auth.getAccessToken()
    const sent = [...api, ...echo]
    expect(sent.map((r) => r.authorization)).toEqual(Array(3).fill(`DPoP ${at}`))
    const proofs = sent.map((r) => decodeJwt(r.proof!))
    expect(proofs.map((p) => [p.htm, p.htu])).toEqual([
      ['GET', `${API}/api/me`],
      ['POST', `${API}/echo`],
      ['POST', `${API}/echo`],
    ])
    expect(new Set(proofs.map((p) => p.ath))).toEqual(new Set([await sha256(at)]))
    expect(new Set(proofs.map((p) => p.jti)).size).toBe(3)
    // The caller's headers, the token and the proof: nothing else is added.
    expect(names[0]).toEqual(['authorization', 'content-type', 'dpop', 'x-a'])
    expect(idp.dpopProofs.filter((p) => p.server === 'api' && p.accepted)).toHaveLength(1)
  })

  it('I3: a proof never goes to a foreign origin, nor beside a caller’s own Authorization', async () => {
    const foreign = 'https://evil.example.net/collect'
    const seen = watch(foreign)
    const own = watch(`${API}/echo`)
    server.use(
      http.all(foreign, () => HttpResponse.json({})),
      http.all(`${API}/echo`, () => HttpResponse.json({})),
    )
    const { auth, events } = await signedIn()
    await auth.fetch(foreign, { method: 'POST', body: 'x' })
    await auth.fetch(new Request(foreign))
    await auth.fetch(`${API}/echo`, { headers: { authorization: 'Basic abc' } })
    expect(seen).toEqual([
      { authorization: null, proof: null },
      { authorization: null, proof: null },
    ])
    expect(own).toEqual([{ authorization: 'Basic abc', proof: null }])
    // A redirect from the API to elsewhere is not followed: the proof would go along.
    server.use(
      http.get(
        `${API}/moved`,
        () => new HttpResponse(null, { status: 302, headers: { location: foreign } }),
      ),
    )
    await expect(auth.fetch(`${API}/moved`)).rejects.toThrow(TypeError)
    expect(seen).toHaveLength(2)
    expect(events.filter((e) => e.type === 'dpop_proof').map((e) => e.htu)).toEqual([
      `${ISSUER}/token`,
      `${API}/moved`,
    ])
  })

  it('I4: each server’s nonce is taken on its one retry and kept for the calls after', async () => {
    const api = watch(`${API}/api/me`)
    const tokens = watch(`${ISSUER}/token`)
    const { auth, idp, due, events } = await signedIn()
    idp.faults.dpopNonce = true
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
    // Asked once, then known: 3 sends for 2 calls, the 2nd and 3rd with the API's nonce.
    expect(api.map((r) => decodeJwt(r.proof!).nonce !== undefined)).toEqual([false, true, true])
    tokens.length = 0
    due()
    await auth.getAccessToken()
    // The token endpoint has a nonce of its own: one refusal, one retry with it.
    expect(tokens.map((r) => decodeJwt(r.proof!).nonce !== undefined)).toEqual([false, true])
    expect(idp.dpopProofs.filter((p) => p.error === 'use_dpop_nonce')).toHaveLength(2)
    expect((await auth.fetch(`${API}/api/me`)).status).toBe(200)
    expect(api).toHaveLength(4)
    // The demo's timeline: each proof's method, URL and nonce, never a token.
    // Sign-in 1, the API 3, the refresh 2, the API 1.
    expect(events.filter((e) => e.type === 'dpop_proof')).toHaveLength(7)
    // Each refusal said, between the proof without the nonce and the one with it.
    const nonces = events.filter((e) => e.type === 'dpop_nonce').map((e) => e.url)
    expect(nonces).toEqual([`${API}/api/me`, `${ISSUER}/token`])
    expect(placesHoldingTokens({ events })).toEqual([])
  })

  it('I4: a body goes again whole on the nonce’s retry and on the replay after a 401', async () => {
    const { auth } = await signedIn()
    const bodies: string[] = []
    server.use(
      http.post(`${API}/upload`, async ({ request }) => {
        bodies.push(await request.text())
        const nonce = decodeJwt(request.headers.get('dpop')!).nonce
        if (!nonce) {
          const headers = { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n1' }
          return new HttpResponse(null, { status: 401, headers })
        }
        // The first token is refused once it carries the nonce: one refresh, one replay.
        if (bodies.length === 2) {
          const headers = { 'www-authenticate': 'DPoP error="invalid_token"' }
          return new HttpResponse(null, { status: 401, headers })
        }
        return HttpResponse.json({})
      }),
    )
    const request = new Request(`${API}/upload`, { method: 'POST', body: 'from a Request' })
    expect((await auth.fetch(request)).status).toBe(200)
    expect(bodies).toEqual(Array(3).fill('from a Request'))
  })

  it('I5: a nonce refused again is not tried a third time, and no refresh follows', async () => {
    const { auth } = await signedIn()
    let calls = 0
    server.use(
      http.get(`${API}/loop`, () => {
        calls++
        return new HttpResponse(null, {
          status: 401,
          headers: {
            'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"',
            'dpop-nonce': `nonce-${calls}`,
          },
        })
      }),
    )
    const before = tokenRequests()
    expect((await auth.fetch(`${API}/loop`)).status).toBe(401)
    expect(calls).toBe(2)
    expect(tokenRequests()).toBe(before)
  })

  it('I5: the token endpoint’s nonce refused again: the refresh attempt makes two requests, never a third', async () => {
    const { auth, idp, signIn } = setup({ dpop: true })
    await signIn()
    server.use(
      http.get(
        `${API}/stale`,
        () =>
          new HttpResponse(null, {
            status: 401,
            headers: { 'www-authenticate': 'DPoP error="invalid_token"' },
          }),
      ),
    )
    // Two refusals in a row: a third request in the same attempt would have got through.
    idp.faults.token = {
      kind: 'status',
      status: 400,
      body: { error: 'use_dpop_nonce' },
      headers: { 'dpop-nonce': 'always-new' },
    }
    idp.faults.tokenTimes = 2
    const before = tokenRequests()
    let atFailure: number | undefined
    auth.on((e) => {
      if (e.type === 'refresh_failed') atFailure ??= tokenRequests() - before
    })
    await auth.fetch(`${API}/stale`).catch(() => undefined)
    await vi.waitFor(() => expect(atFailure).toBeDefined())
    expect(atFailure).toBe(2)
    // The server's state, not the grant's: the session is not ended for it.
    expect(auth.getState()).toMatchObject({ status: 'authenticated' })
    auth.dispose()
  })

  it('I6: sign-out deletes the key (here the engine’s memory; IndexedDB in Chromium): the next sign-in proves another', async () => {
    const { auth, navigations, signIn } = await signedIn()
    const first = new URL(navigations[0]!).searchParams.get('dpop_jkt')
    await auth.logout({ localOnly: true })
    await signIn()
    const second = new URL(navigations.at(-1)!).searchParams.get('dpop_jkt')
    expect(second).toMatch(/^[\w-]{43}$/)
    expect(second).not.toBe(first)
    expect(decodeJwt(await auth.getAccessToken()).cnf).toEqual({ jkt: second })
  })

  it('I7: a provider without DPoP is a configuration error, never a Bearer session', async () => {
    const { auth, idp, navigations } = setup({ dpop: true })
    idp.faults.dpopUnsupported = 'provider'
    const before = await rejection(auth.login())
    expect(before.code).toBe('configuration')
    expect(before.message).toMatch(
      /does not support DPoP, or not with ES256 \(dpop_signing_alg_values_supported: none\)/,
    )
    expect(navigations).toEqual([])
  })

  it('I7: a provider that says DPoP but ignores the proof: its Bearer token is refused', async () => {
    const { auth, idp, authorizeRedirect } = setup({ dpop: true })
    idp.faults.rewrite = (body) => ({ ...body, token_type: 'Bearer' })
    history.replaceState(null, '', await authorizeRedirect())
    const after = await rejection(auth.handleCallback())
    expect(after.code).toBe('configuration')
    expect(after.message).toMatch(/not DPoP-bound: the provider ignored the proof/)
    expect(auth.getState().status).toBe('unauthenticated')
  })

  it('I8: an API without DPoP is a configuration error, with no refresh and no replay', async () => {
    const api = watch(`${API}/api/me`)
    const { auth, idp } = await signedIn()
    idp.faults.dpopUnsupported = 'api'
    const before = tokenRequests()
    const error = await rejection(auth.fetch(`${API}/api/me`))
    expect(error.code).toBe('configuration')
    expect(error.message).toMatch(
      /does not take DPoP-bound tokens \(it answered one with a challenge for bearer\)/,
    )
    expect(api).toHaveLength(1)
    expect(tokenRequests()).toBe(before)
    expect(placesHoldingTokens({ error })).toEqual([])
  })

  it('I9: `dpop` is checked like every option', () => {
    expect(() => setup({ dpop: 'yes' as unknown as boolean })).toThrow(
      /`dpop` must be true or false/,
    )
    expect(() =>
      setup({ dpop: true, tokenSource: { refresh: async () => ({ access_token: 'a' }) } }),
    ).toThrow(/needs an OAuth provider \(no `tokenSource`\)/)
  })
})

describe('I: a proof refused', () => {
  it('I16: `invalid_dpop_proof` is a configuration error: no refresh for it, and the session and its refresh token stay', async () => {
    const { auth, idp, due } = await signedIn()
    let calls = 0
    server.use(
      http.get(`${API}/picky`, () => {
        calls++
        const headers = { 'www-authenticate': 'DPoP error="invalid_dpop_proof", algs="ES256"' }
        return new HttpResponse(null, { status: 401, headers })
      }),
    )
    const before = tokenRequests()
    expect((await auth.fetch(`${API}/picky`)).status).toBe(401)
    expect([calls, tokenRequests() - before]).toEqual([1, 0])
    // The token endpoint refuses one proof: the refresh fails typed, the grant is not spent.
    idp.faults.token = { kind: 'status', status: 400, body: { error: 'invalid_dpop_proof' } }
    idp.faults.tokenTimes = 1
    due()
    const error = await rejection(auth.getAccessToken())
    expect(error.code).toBe('configuration')
    expect(auth.getState().status).toBe('authenticated')
    const old = await auth.getAccessToken().catch(() => undefined)
    expect(old).toBeTruthy()
    expect(idp.counts.refresh).toBeGreaterThanOrEqual(1)
  })
})

describe('I: step-up', () => {
  for (const dpop of [false, true]) {
    it(`I10: a step-up challenge rejects with what the API asked for and never refreshes (${dpop ? 'DPoP' : 'Bearer'})`, async () => {
      const transfer = watch(`${API}/api/transfer`)
      const { auth } = await signedIn({ dpop })
      const before = tokenRequests()
      const error = await rejection(auth.fetch(`${API}/api/transfer`, { method: 'POST' }))
      expect(error.code).toBe('step_up_required')
      expect(error.challenge).toEqual({ acrValues: MOCK_MFA_ACR, maxAge: MOCK_STEP_UP_MAX_AGE })
      expect(error.message).toMatch(/stronger sign-in/)
      expect(transfer).toHaveLength(1)
      expect(tokenRequests()).toBe(before)
      expect(auth.getState().status).toBe('authenticated')
    })
  }

  it('I10: a step-up challenge on the replay after a refresh is said the same way; a malformed max_age is left out', async () => {
    const { auth } = await signedIn({})
    let calls = 0
    server.use(
      http.get(`${API}/later`, () => {
        calls++
        const www =
          calls === 1
            ? 'Bearer error="invalid_token"'
            : 'Bearer error="insufficient_user_authentication", ACR_VALUES="urn:x", max_age=""'
        return new HttpResponse(null, { status: 401, headers: { 'www-authenticate': www } })
      }),
    )
    const error = await rejection(auth.fetch(`${API}/later`))
    expect(calls).toBe(2)
    expect(error.code).toBe('step_up_required')
    expect(error.challenge).toEqual({ acrValues: 'urn:x' })
  })

  it('I11: a challenge that names nothing still asks the provider for a new sign-in', async () => {
    const { auth, navigations } = await signedIn({})
    await auth.stepUp({}, { returnTo: '/again' })
    expect(new URL(navigations.at(-1)!).searchParams.get('prompt')).toBe('login')
    await auth.stepUp({ maxAge: 0 })
    expect(new URL(navigations.at(-1)!).searchParams.get('prompt')).toBeNull()
  })

  it('I11: auth.stepUp() signs in again as asked, and the new token serves every caller', async () => {
    const { auth, idp, navigations } = await signedIn({ dpop: true })
    const old = await auth.getAccessToken()
    const error = await rejection(auth.fetch(`${API}/api/transfer`, { method: 'POST' }))
    await auth.stepUp(error.challenge!, { returnTo: '/transfer' })
    const request = new URL(navigations.at(-1)!).searchParams
    expect(request.get('acr_values')).toBe(MOCK_MFA_ACR)
    expect(request.get('max_age')).toBe(String(MOCK_STEP_UP_MAX_AGE))
    history.replaceState(null, '', await idp.authorize(navigations.at(-1)!, { mfa: true }))
    expect(await auth.handleCallback()).toEqual({ returnTo: '/transfer' })
    const fresh = await auth.getAccessToken()
    expect(fresh).not.toBe(old)
    expect(decodeJwt(fresh).acr).toBe(MOCK_MFA_ACR)
    expect((await auth.fetch(`${API}/api/transfer`, { method: 'POST' })).status).toBe(200)
  })
})
