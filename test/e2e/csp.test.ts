import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, placesHoldingTokens, serveDemo, watchPage } from './browser.js'

// No 'unsafe-eval', no 'unsafe-inline', nothing from elsewhere.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "frame-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ')

let server: Awaited<ReturnType<typeof serveDemo>>
let browser: Browser
let page: Page

beforeAll(async () => {
  server = await serveDemo({ 'Content-Security-Policy': CSP })
  browser = await launchChromium()
  page = await browser.newPage()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('the demo under a strict Content-Security-Policy', () => {
  it('F4: signs in through the mock provider and calls the API with no CSP violation', async () => {
    const watched = watchPage(page)
    const violations: string[] = []
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) violations.push(message.text())
    })
    // Every document of the page reports its violations, the mock sign-in page included.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(
          `Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`,
        )
      })
    })

    const response = await page.goto(server.origin)
    expect(response?.headers()['content-security-policy']).toBe(CSP)
    const status = page.getByTestId('status')
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('unauthenticated')

    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.waitForURL(/\/mock-idp\/authorize\?/)
    await page.getByLabel('Alice Martin').check()
    await page.getByRole('button', { name: 'Continue' }).click()
    await expect.poll(() => status.textContent()).toBe('Signed in as Alice Martin')

    await page.getByRole('button', { name: 'Call the API' }).click()
    await expect.poll(() => page.getByTestId('result').textContent()).toBe('GET /api/me → 200')
    expect(await placesHoldingTokens(page, watched.tokens)).toEqual([])
    const duringFlow = [...violations]
    expect(duringFlow).toEqual([])
    // The page really is under the policy: an inline script is refused (and reported).
    const inlineRan = await page.evaluate(() => {
      const script = document.createElement('script')
      script.textContent = 'window.__inline = 1'
      document.body.append(script)
      return (window as { __inline?: number }).__inline === 1
    })
    expect(inlineRan).toBe(false)
    await expect.poll(() => violations.length).toBeGreaterThan(0)
    console.log(
      `F4 figures: violationsDuringFlow=${duringFlow.length} inlineScriptBlocked=true tokensSeen=${watched.tokens.size}`,
    )
  }, 120_000)
})
