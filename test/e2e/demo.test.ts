import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, placesHoldingTokens, serveDemo, watchPage } from './browser.js'

const shots = fileURLToPath(new URL('../../test-results/e2e', import.meta.url))

let server: Awaited<ReturnType<typeof serveDemo>>
let browser: Browser
let page: Page
let watched: ReturnType<typeof watchPage>
let origin: string

beforeAll(async () => {
  server = await serveDemo()
  origin = server.origin
  browser = await launchChromium()
  page = await browser.newPage()
  watched = watchPage(page)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

const status = () => page.getByTestId('status')
const timeline = () => page.getByTestId('timeline')

async function expectNoTokenAnywhere(step: string) {
  expect(await placesHoldingTokens(page, watched.tokens), step).toEqual([])
}

async function signIn(user = 'Alice Martin') {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(/\/mock-idp\/authorize\?/)
  const tx = await page.evaluate(() => Object.keys(sessionStorage))
  expect(tx.some((key) => key.startsWith('spa-auth:tx:'))).toBe(true)
  await page.getByLabel(user).check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await expect.poll(() => status().textContent()).toBe(`Signed in as ${user}`)
  expect(new URL(page.url()).search).toBe('')
  expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([])
}

async function refreshesIn(text: RegExp) {
  return (await timeline().locator('li').allTextContents()).filter((t) => text.test(t)).length
}

describe('the demo, end to end in Chromium', () => {
  it('signs in, refreshes, survives a 401 and a burst, ends a revoked session, signs out', async () => {
    await page.goto(origin)
    await expect.poll(() => status().textContent(), { timeout: 15_000 }).toBe('unauthenticated')

    await signIn()
    await expectNoTokenAnywhere('after sign-in')
    mkdirSync(shots, { recursive: true })

    await page.getByRole('button', { name: 'Call the API' }).click()
    await expect.poll(() => page.getByTestId('result').textContent()).toBe('GET /api/me → 200')
    // The second API takes a token of its own audience only, and says which it took.
    await page.getByRole('button', { name: 'Call the billing API' }).click()
    await expect
      .poll(() => page.getByTestId('result').textContent())
      .toBe('GET /billing/api/me → 200, a token for urn:billing')
    // Its token came from one refresh-token grant of its own, which the timeline tells apart.
    await expect.poll(() => refreshesIn(/Token for the billing API/)).toBe(1)
    await expectNoTokenAnywhere('after the billing API call')

    // Short-lived tokens from now on; a revoked access token forces the 401 → refresh → replay.
    await page.getByRole('button', { name: '15 s' }).click()
    await page.getByRole('button', { name: 'Revoke access token' }).click()
    await page.getByRole('button', { name: 'Call the API' }).click()
    await expect.poll(() => refreshesIn(/401 → refresh → replay/)).toBe(1)
    await expect.poll(() => page.getByTestId('result').textContent()).toBe('GET /api/me → 200')
    await expectNoTokenAnywhere('after 401 replay')

    // A 15 s token is refreshed ahead of expiry without any call.
    await expect
      .poll(() => refreshesIn(/Token refreshed \(scheduled\)/), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(1)
    await page.screenshot({ path: `${shots}/demo-signed-in.png`, fullPage: true })

    await page.getByRole('button', { name: 'Revoke access token' }).click()
    await page.getByRole('button', { name: 'Burst 20 calls' }).click()
    await expect
      .poll(() => page.getByTestId('result').textContent())
      .toBe('20 calls: 20 ok, 1 refresh')
    await expectNoTokenAnywhere('after burst')

    await page.getByRole('button', { name: 'Revoke refresh token' }).click()
    await page.getByRole('button', { name: 'Call the API' }).click()
    await expect.poll(() => status().textContent()).toBe('unauthenticated')
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Your session ended')
    await expectNoTokenAnywhere('after session end')

    await signIn('Bob Chen')
    await Promise.all([
      page.waitForURL(/\/mock-idp\/logout\?/),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ])
    await page.waitForURL(`${origin}/`)
    await expect.poll(() => status().textContent()).toBe('unauthenticated')
    await expectNoTokenAnywhere('after sign-out')

    // The browser reports the 401 and 400 answers we provoked, and, at times, a service-worker
    // update that lost a race with MSW's worker unregistering itself when its last page left for
    // the provider. Nothing else may reach the console.
    const expected = [
      /Failed to load resource: the server responded with a status of 40[01]/,
      /^Failed to update a ServiceWorker for scope .*mockServiceWorker\.js'\): Not found$/,
    ]
    const unexpected = watched.consoleErrors.filter((text) => !expected.some((re) => re.test(text)))
    expect(unexpected).toEqual([])
    console.log(
      `demo e2e figures: tokensSeen=${watched.tokens.size} storageLeaks=0 consoleErrors=${unexpected.length}`,
    )
  }, 120_000)
})
