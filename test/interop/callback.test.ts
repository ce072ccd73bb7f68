import type { Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { placesHoldingTokens, watchPage } from '../e2e/browser.js'
import { bareAppRoot, serveApp } from './apps.js'
import { freshPage, passProviderPages } from './pages.js'
import { startStackInChromium } from './stack.js'

const ctx = startStackInChromium({ serve: (env) => serveApp(bareAppRoot, env), accessTokenTtl: 10 })
const figures: Record<string, number> = {}

afterEach(() => {
  expect(ctx.stack.idp.serverErrors).toEqual([])
})

// Code exchanges only, the token requests a callback can make: a session signed in by an earlier
// case goes on refreshing in its own tab (10 s tokens), and on a busy machine its refresh can land
// while a case counts.
const codeExchanges = () =>
  ctx.stack.idp.requests.filter((r) => r.grantType === 'authorization_code' && r.origin).length
const CALLBACK_PARAMS = ['code', 'state', 'iss', 'error', 'error_description']

/** A fresh browser (no provider session) on the bare app, ready. */
async function openApp() {
  const page = await freshPage(ctx.browser)
  const watched = watchPage(page)
  await page.goto(ctx.stack.app.origin)
  await page.waitForFunction(() => 'interop' in globalThis)
  return { page, watched }
}

/** Signs in at the provider and stops on the app's callback page, unhandled. Returns its URL. */
async function reachCallback(page: Page, options: { denyConsent?: boolean } = {}) {
  await passProviderPages(
    page,
    // Not awaited in the page: login() navigates away.
    () => page.evaluate(() => void interop.login()),
    { issuer: ctx.stack.idp.issuer, appOrigin: ctx.stack.app.origin, ...options },
  )
  await page.waitForFunction(() => 'interop' in globalThis)
  expect(new URL(page.url()).pathname).toBe('/callback')
  return page.url()
}

const handle = (page: Page, url?: string) => page.evaluate((href) => interop.callback(href), url)

async function expectCleanPage(page: Page, watched: ReturnType<typeof watchPage>) {
  const params = [...new URL(page.url()).searchParams.keys()]
  expect(params.filter((name) => CALLBACK_PARAMS.includes(name))).toEqual([])
  // The login transaction is single-use: gone whatever the outcome.
  expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([])
  expect(await placesHoldingTokens(page, watched.tokens)).toEqual([])
}

describe('callbacks from oidc-provider, in Chromium', () => {
  it('P7 (A4, A10): a user who denies consent gets a typed access_denied and a clean URL', async () => {
    const { page, watched } = await openApp()
    const before = codeExchanges()
    const url = await reachCallback(page, { denyConsent: true })
    expect(new URL(url).searchParams.get('error')).toBe('access_denied')

    expect(await handle(page)).toMatchObject({
      ok: false,
      isAuthError: true,
      code: 'authorization_error',
      oauthError: 'access_denied',
    })
    figures.deny = codeExchanges() - before
    expect(figures.deny).toBe(0)
    await expectCleanPage(page, watched)
  })

  it('P8 (A1): a tampered state is a typed error with no token request, and ends the pending login', async () => {
    const { page, watched } = await openApp()
    const genuine = await reachCallback(page)
    const tampered = new URL(genuine)
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`)
    const before = codeExchanges()

    expect(await handle(page, tampered.href)).toMatchObject({
      ok: false,
      isAuthError: true,
      code: 'callback_invalid',
      message: expect.stringMatching(/no login is waiting for this state/),
    })
    figures.tamperedState = codeExchanges() - before
    // This tab's pending login cannot come back any more: the genuine response is refused too.
    expect(await handle(page, genuine)).toMatchObject({
      ok: false,
      code: 'callback_invalid',
      message: expect.stringMatching(/no login is waiting for this state/),
    })
    figures.genuineAfterTamper = codeExchanges() - before - figures.tamperedState
    expect(figures).toMatchObject({ tamperedState: 0, genuineAfterTamper: 0 })
    await expectCleanPage(page, watched)
  })

  it('P9 (A8): a replayed callback URL (reload, back button) makes no token request', async () => {
    const { page, watched } = await openApp()
    const url = await reachCallback(page)
    const before = codeExchanges()
    expect(await handle(page)).toEqual({ ok: true, status: 'authenticated' })
    expect(codeExchanges() - before).toBe(1)

    await page.goto(url)
    await page.waitForFunction(() => 'interop' in globalThis)
    expect(await handle(page)).toMatchObject({
      ok: false,
      isAuthError: true,
      code: 'callback_invalid',
      message: expect.stringMatching(/no login is waiting for this state/),
    })
    figures.replayedCallback = codeExchanges() - before - 1
    expect(figures.replayedCallback).toBe(0)
    await expectCleanPage(page, watched)
  })

  it('P10: an expired authorization code is a typed invalid_grant after one refused exchange, never retried', async () => {
    const { page, watched } = await openApp()
    ctx.stack.idp.codeTtl = 1
    try {
      await reachCallback(page)
    } finally {
      ctx.stack.idp.codeTtl = 60
    }
    // Codes expire on whole seconds: past two of them it is expired whatever the rounding.
    await page.waitForTimeout(2_100)
    const before = codeExchanges()

    expect(await handle(page)).toMatchObject({
      ok: false,
      isAuthError: true,
      code: 'token_error',
      oauthError: 'invalid_grant',
    })
    await page.waitForTimeout(500)
    figures.expiredCode = codeExchanges() - before
    expect(figures.expiredCode).toBe(1)
    await expectCleanPage(page, watched)
  })

  it('P11 (A7): a login left waiting longer than 30 minutes is refused without a token request', async () => {
    const { page, watched } = await openApp()
    await reachCallback(page)
    await page.clock.install()
    await page.clock.fastForward('31:00')
    const before = codeExchanges()

    expect(await handle(page)).toMatchObject({
      ok: false,
      isAuthError: true,
      code: 'callback_invalid',
      message: expect.stringMatching(/the login has expired/),
    })
    figures.expiredLogin = codeExchanges() - before
    expect(figures.expiredLogin).toBe(0)
    await expectCleanPage(page, watched)

    console.log(
      `interop callback figures: tokenRequests deny=${figures.deny} tamperedState=${figures.tamperedState} ` +
        `genuineAfterTamper=${figures.genuineAfterTamper} replayedCallback=${figures.replayedCallback} ` +
        `expiredCode=${figures.expiredCode} (the refused exchange; 0 retries) expiredLogin=${figures.expiredLogin}`,
    )
  })
  // oidc-provider cannot revoke a JWT access token and says `unsupported_token_type` (RFC 7009
  // §2.2.1): the refresh token is revoked, and the sign-out counts as revoked.
  it('P12 (H14): sign-out revokes the refresh token only: oidc-provider refuses JWT access tokens', async () => {
    const { page } = await openApp()
    await reachCallback(page)
    expect(await handle(page)).toEqual({ ok: true, status: 'authenticated' })
    const events: string[] = []
    page.on('console', (message) => events.push(message.text()))
    const from = ctx.stack.idp.requests.length

    await Promise.all([
      page.waitForURL(`${ctx.stack.idp.issuer}/session/end**`),
      page.evaluate(() => void interop.logout()),
    ])
    const revocations = ctx.stack.idp.requests
      .slice(from)
      .filter((r) => r.path === '/token/revocation' && r.method === 'POST')
    // The refresh token's revocation ends the grant; the JWT access token is not sent, so the
    // provider's 400 unsupported_token_type (and the console error it made) is gone.
    expect(revocations.map((r) => r.status)).toEqual([200])
    expect(events.filter((text) => text.startsWith('spa-auth event logout'))).toEqual([
      'spa-auth event logout revoked=true',
    ])
  })
})
