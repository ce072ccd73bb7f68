import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeContext, openContext } from '../e2e/browser.js'
import { demoRoot, serveApp } from './apps.js'
import { passProviderPages } from './pages.js'
import { startStackInChromium } from './stack.js'

// Refreshed 5 s before expiry (the default leeway, half this lifetime): every 5 s, in every tab
// at once.
const ACCESS_TOKEN_TTL = 10

const ctx = startStackInChromium({
  serve: (env) => serveApp(demoRoot, env),
  accessTokenTtl: ACCESS_TOKEN_TTL,
})
let context: BrowserContext

beforeAll(async () => {
  context = await openContext(ctx.browser)
})
afterAll(() => closeContext(context))

const statusOf = (page: Page) => page.getByTestId('status').textContent()
const refreshes = () =>
  ctx.stack.idp.requests.filter((r) => r.grantType === 'refresh_token' && r.origin !== undefined)

async function open(): Promise<Page> {
  const page = await context.newPage()
  await page.goto(ctx.stack.app.origin)
  return page
}

describe('one session per browser, against oidc-provider with rotating refresh tokens', () => {
  it('E1: 4 tabs whose tokens expire together make 1 refresh, and no reuse error', async () => {
    const first = await open()
    await expect.poll(() => statusOf(first), { timeout: 15_000 }).toBe('unauthenticated')
    await passProviderPages(
      first,
      () => first.getByRole('button', { name: 'Sign in', exact: true }).click(),
      {
        issuer: ctx.stack.idp.issuer,
        appOrigin: ctx.stack.app.origin,
      },
    )
    await expect.poll(() => statusOf(first)).toMatch(/^Signed in as /)
    const signedInAt = ctx.stack.idp.tokenRequests(true)

    const tabs = [first, await open(), await open(), await open()]
    for (const tab of tabs) {
      await expect.poll(() => statusOf(tab)).toMatch(/^Signed in as /)
    }
    // The three new tabs found the session in the token worker: no token request.
    expect(ctx.stack.idp.tokenRequests(true)).toBe(signedInAt)

    await expect.poll(() => refreshes().length, { timeout: 15_000 }).toBeGreaterThanOrEqual(1)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(refreshes()).toHaveLength(1)

    const results = await Promise.all(
      tabs.map(async (tab) => {
        await tab.getByRole('button', { name: 'Call the API' }).click()
        await expect.poll(() => tab.getByTestId('result').textContent()).toMatch(/→ \d+$/)
        return tab.getByTestId('result').textContent()
      }),
    )
    expect(results).toEqual(Array(4).fill('GET /api/me → 200'))
    // Rotation is on: a second use of any refresh token would have been refused with a 400.
    expect(refreshes().map((r) => r.status)).toEqual(refreshes().map(() => 200))
    for (const tab of tabs) expect(await statusOf(tab)).toMatch(/^Signed in as /)
    console.log(
      `E1 interop figures: tabs=4 refreshRequestsInFirstRound=1 refreshStatuses=${refreshes()
        .map((r) => r.status)
        .join('+')}`,
    )
  })
})
