// Popup sign-in against oidc-provider whose pages send `Cross-Origin-Opener-Policy: same-origin`,
// in Chromium: the popup is cut off from the demo as soon as it reaches the provider, and still
// hands its answer back on the app's own channel when it lands. Catalogue row L11.
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { closeContext } from '../e2e/browser.js'
import { demoRoot, serveApp } from './apps.js'
import { freshPage } from './pages.js'
import { startStackInChromium } from './stack.js'

const ctx = startStackInChromium({
  serve: (env) => serveApp(demoRoot, env),
  accessTokenTtl: 60,
  coop: true,
})

const status = (page: Page) => page.getByTestId('status').textContent()

describe('popup sign-in at a provider that isolates its pages', () => {
  it('L11: signs in through a popup the provider cuts off (COOP same-origin): one code exchange, the page where it was', async () => {
    const { stack, browser } = ctx
    const page = await freshPage(browser)
    await page.goto(stack.app.origin)
    await expect.poll(() => status(page), { timeout: 15_000 }).toBe('unauthenticated')
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('button', { name: 'Sign in in a popup' }).click(),
    ])
    const policies: (string | undefined)[] = []
    popup.on('response', (response) => {
      const page = response.request().isNavigationRequest() && response.status() === 200
      if (page && response.url().startsWith(stack.idp.issuer))
        policies.push(response.headers()['cross-origin-opener-policy'])
    })
    await popup.waitForSelector('input[name="login"]')
    await popup.fill('input[name="login"]', 'alice')
    await popup.fill('input[name="password"]', 'any password')
    await popup.click('button[type="submit"]')
    await popup.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached' })
    await Promise.all([popup.waitForEvent('close'), popup.click('button[type="submit"]')])
    await expect.poll(() => status(page)).toBe('Signed in as Alice Martin')
    expect(new URL(page.url()).pathname).toBe('/')
    expect(stack.idp.tokenRequests(true)).toBe(1)
    // Every provider page the popup showed was isolated from the app.
    expect(policies.length).toBeGreaterThan(0)
    expect(new Set(policies)).toEqual(new Set(['same-origin']))
    expect(stack.idp.serverErrors).toEqual([])
    await closeContext(page.context())
  })
})
