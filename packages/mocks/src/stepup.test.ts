import { findByRole, fireEvent, getByLabelText, getByRole, getByText } from '@testing-library/dom'
import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  authorizationRequest,
  authorize,
  callApi,
  clock,
  dpopKey,
  exchange,
  mockProvider,
  refresh,
  signIn,
  TOKEN,
  tokens,
} from './flow.test-util.js'
import { showProviderPage } from './pages.js'
import { MOCK_MFA_ACR, MOCK_PWD_ACR } from './stepup.js'
import { mockBrowser } from './testing.js'

beforeEach(() => {
  clock.now = Date.parse('2030-01-01T00:00:00Z')
})

const mfa = { acr_values: MOCK_MFA_ACR }
const transfer = (accessToken: string, key?: Awaited<ReturnType<typeof dpopKey>>) =>
  callApi('/api/transfer', accessToken, { method: 'POST', ...(key ? { key } : {}) })
const STEP_UP =
  'error="insufficient_user_authentication", error_description="A second factor is required", acr_values="urn:spa-auth:mfa", max_age=300'

describe('the sensitive route', () => {
  it('asks a password sign-in for a second factor', async () => {
    const idp = mockProvider()
    const { access_token, claims } = await signIn(idp)
    expect(claims.acr).toBe(MOCK_PWD_ACR)
    const response = await transfer(access_token)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(`Bearer ${STEP_UP}`)
    expect(idp.counts.stepUp).toBe(1)
  })

  it('asks with the DPoP scheme for a DPoP-bound token', async () => {
    const key = await dpopKey()
    const { access_token } = await signIn(mockProvider(), { key })
    const response = await transfer(access_token, key)
    expect(response.headers.get('www-authenticate')).toBe(`DPoP ${STEP_UP}, algs="ES256"`)
  })

  it('takes a token of a sign-in with a second factor, for 300 s', async () => {
    const idp = mockProvider()
    const { access_token, claims, id_token } = await signIn(idp, {
      params: mfa,
      user: { mfa: true },
    })
    expect(claims).toMatchObject({ acr: MOCK_MFA_ACR, auth_time: clock.now / 1000 })
    expect(decodeJwt(id_token!)).toMatchObject({ acr: MOCK_MFA_ACR, auth_time: clock.now / 1000 })
    const ok = await transfer(access_token)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ ok: true })
    clock.now += 301_000
    expect((await transfer(access_token)).headers.get('www-authenticate')).toContain(
      'error="insufficient_user_authentication"',
    )
  })

  it('keeps the acr and auth_time of the sign-in through refreshes', async () => {
    const idp = mockProvider()
    const { refresh_token } = await signIn(idp, { params: mfa, user: { mfa: true } })
    const signedIn = clock.now / 1000
    clock.now += 60_000
    const { claims } = await tokens(await refresh(refresh_token))
    expect(claims).toMatchObject({ acr: MOCK_MFA_ACR, auth_time: signedIn })
  })

  it('issues a password acr when the user does not pass the second factor', async () => {
    const { claims } = await signIn(mockProvider(), { params: mfa, user: { mfa: false } })
    expect(claims.acr).toBe(MOCK_PWD_ACR)
  })
})

describe('the provider session', () => {
  it('answers prompt=none for MFA only after a sign-in with it', async () => {
    const idp = mockProvider()
    await signIn(idp)
    const silent = { ...mfa, prompt: 'none' }
    expect((await authorize(idp, silent)).error).toBe('login_required')
    await signIn(idp, { params: mfa, user: { mfa: true } })
    expect((await authorize(idp, silent)).error).toBeNull()
  })

  it('answers prompt=none only within max_age, never for max_age=0', async () => {
    const idp = mockProvider()
    await signIn(idp)
    clock.now += 120_000
    expect((await authorize(idp, { prompt: 'none', max_age: '300' })).error).toBeNull()
    expect((await authorize(idp, { prompt: 'none', max_age: '60' })).error).toBe('login_required')
    expect((await authorize(idp, { prompt: 'none', max_age: '0' })).error).toBe('login_required')
  })

  it('signs the user in again past max_age rather than reuse the session', async () => {
    const idp = mockProvider()
    await signIn(idp, { user: { sub: 'bob' } })
    clock.now += 120_000
    const { claims } = await tokens(await exchange(await authorize(idp, { max_age: '60' })))
    expect(claims).toMatchObject({ sub: 'bob', auth_time: clock.now / 1000 })
    clock.now += 10_000
    const reused = await tokens(await exchange(await authorize(idp, { max_age: '60' })))
    expect(reused.claims.auth_time).toBe(claims.auth_time)
  })
})

describe('the sign-in page', () => {
  const APP_ISSUER = 'https://app.example.com/mock-idp'
  afterEach(() => {
    history.replaceState(null, '', '/')
    document.body.replaceChildren()
  })

  async function open(params: Record<string, string>) {
    const idp = mockProvider({ issuer: APP_ISSUER })
    const request = authorizationRequest(params)
    const url = new URL(request.url)
    history.replaceState(null, '', `/mock-idp/authorize${url.search}`)
    const redirects: string[] = []
    const navigated = new Promise<string>((resolve) => {
      const navigate = (url: string) => {
        redirects.push(url)
        resolve(url)
      }
      expect(showProviderPage(idp, { navigate })).toBe(true)
    })
    return { idp, verifier: request.verifier, navigated, redirects }
  }

  it('asks for the code from the authenticator when MFA is asked for', async () => {
    const { verifier, navigated, redirects } = await open(mfa)
    fireEvent.click(await findByRole(document.body, 'button', { name: 'Continue' }))
    const field = getByLabelText(document.body, 'Enter the code from your authenticator')
    fireEvent.input(field, { target: { value: '12a' } })
    fireEvent.click(getByRole(document.body, 'button', { name: 'Verify' }))
    expect(getByRole(document.body, 'alert').textContent).toMatch(/6 digits/)
    expect(redirects).toEqual([])
    fireEvent.input(field, { target: { value: '123456' } })
    fireEvent.click(getByRole(document.body, 'button', { name: 'Verify' }))
    const code = new URL(await navigated).searchParams.get('code')!
    const { claims } = await tokens(
      await exchange({ code, verifier }, undefined, `${APP_ISSUER}/token`),
    )
    expect(claims.acr).toBe(MOCK_MFA_ACR)
  })

  it('signs in with a password alone otherwise', async () => {
    const { navigated } = await open({})
    fireEvent.click(await findByRole(document.body, 'button', { name: 'Continue' }))
    expect(new URL(await navigated).searchParams.get('code')).toBeTruthy()
    expect(() => getByText(document.body, 'Enter the code from your authenticator')).toThrow()
  })

  it('offers the user the provider’s session names: who comes back for a second factor', async () => {
    const { idp } = await open(mfa)
    await findByRole(document.body, 'button', { name: 'Continue' })
    // Bob signed in before; the page opens again for his step-up.
    await idp.authorize(authorizationRequest({}).url, { sub: 'bob' })
    document.body.replaceChildren()
    expect(showProviderPage(idp, { navigate: () => {} })).toBe(true)
    const bob = await findByRole(document.body, 'radio', { name: /Bob Chen/ })
    expect(bob).toHaveProperty('checked', true)
  })
})

describe('mockBrowser', () => {
  /** A client enough for mockBrowser: its own PKCE, and DPoP with one key. */
  async function client(browser: ReturnType<typeof mockBrowser>) {
    const key = await dpopKey()
    let verifier = ''
    const issued: Array<Awaited<ReturnType<typeof tokens>>> = []
    return {
      issued,
      async login(options: { acrValues?: string; maxAge?: number } = {}) {
        const request = authorizationRequest({
          dpop_jkt: key.jkt,
          ...(options.acrValues ? { acr_values: options.acrValues } : {}),
          ...(options.maxAge !== undefined ? { max_age: String(options.maxAge) } : {}),
        })
        verifier = request.verifier
        browser.navigate(request.url)
      },
      async handleCallback() {
        const code = new URLSearchParams(location.search).get('code') ?? ''
        issued.push(
          await tokens(await exchange({ code, verifier }, await key.proof('POST', TOKEN))),
        )
      },
      key,
    }
  }

  it('passes acr_values and dpop_jkt through, and passes the second factor', async () => {
    const idp = mockProvider()
    const browser = mockBrowser(idp)
    const auth = await client(browser)
    await browser.signIn(auth, { acrValues: MOCK_MFA_ACR })
    expect(auth.issued[0]?.claims).toMatchObject({ acr: MOCK_MFA_ACR, cnf: { jkt: auth.key.jkt } })
    expect(idp.counts.mfa).toBe(1)
  })

  it('fails the second factor when told to', async () => {
    const browser = mockBrowser(mockProvider())
    const auth = await client(browser)
    await browser.signIn(auth, { acrValues: MOCK_MFA_ACR, mfa: false })
    expect(auth.issued[0]?.claims.acr).toBe(MOCK_PWD_ACR)
  })

  it('completes a sign-in the client started', async () => {
    const browser = mockBrowser(mockProvider())
    const auth = await client(browser)
    await browser.signIn(auth, { user: 'bob' })
    clock.now += 120_000
    await auth.login({ acrValues: MOCK_MFA_ACR, maxAge: 0 })
    await browser.completeSignIn(auth)
    expect(auth.issued[1]?.claims).toMatchObject({
      sub: 'bob',
      acr: MOCK_MFA_ACR,
      auth_time: clock.now / 1000,
    })
  })
})
