// F5 against oidc-provider: the attacker of test/e2e/attacker.ts in the demo's real mode. The
// refresh tokens are the ones the provider itself answered with, never learned from the page.
import type { BrowserContext, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { installAttacker } from '../e2e/attacker.js'
import { closeContext, openContext } from '../e2e/browser.js'
import { demoRoot, serveApp } from './apps.js'
import { passProviderPages } from './pages.js'
import { startStackInChromium } from './stack.js'

const ctx = startStackInChromium({ serve: (env) => serveApp(demoRoot, env), accessTokenTtl: 10 })

const statusOf = (page: Page) => page.getByTestId('status').textContent()
const refreshes = () =>
  ctx.stack.idp.requests.filter((r) => r.grantType === 'refresh_token' && r.origin !== undefined)

async function attackedContext(): Promise<{ context: BrowserContext; seen: Set<string> }> {
  const context = await openContext(ctx.browser)
  // The provider's pages @import a web font; this machine has no Internet: an empty style sheet.
  await context.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) =>
    route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
  )
  const { seen } = await installAttacker(context)
  return { context, seen }
}

describe('F5: a page script that patches every reader and channel, against oidc-provider', () => {
  it('F5: E5: E6: the refresh tokens oidc-provider issued never reach page script', async () => {
    const { context, seen } = await attackedContext()
    const page = await context.newPage()
    await page.goto(ctx.stack.app.origin)
    await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
    await passProviderPages(
      page,
      () => page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      {
        issuer: ctx.stack.idp.issuer,
        appOrigin: ctx.stack.app.origin,
      },
    )
    await expect.poll(() => statusOf(page)).toMatch(/^Signed in as /)
    // Three refreshes of the 10 s tokens, with rotation.
    await expect.poll(() => refreshes().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(3)

    const exchanges = () =>
      ctx.stack.idp.requests.filter((r) => r.grantType === 'authorization_code').length
    const exchangesBefore = exchanges()
    const answers = (await page.evaluate(() =>
      (globalThis as unknown as { __attackerForge(): Promise<unknown[]> }).__attackerForge(),
    )) as { id: number; ok: boolean; error?: { code: string; oauthError?: string } }[]
    // A transaction of the port's own: not a sign-in the worker started, refused before any
    // token request (H25); nothing else changed.
    expect(answers.find((a) => a.id === 9006)).toMatchObject({
      ok: false,
      error: { code: 'callback_invalid' },
    })
    expect(exchanges()).toBe(exchangesBefore)
    expect(await statusOf(page)).toMatch(/^Signed in as /)
    await page.getByRole('button', { name: 'Call the API' }).click()
    await expect.poll(() => page.getByTestId('result').textContent()).toBe('GET /api/me → 200')

    const second = await context.newPage()
    await second.goto(ctx.stack.app.origin)
    await expect.poll(() => statusOf(second), { timeout: 15_000 }).toMatch(/^Signed in as /)
    await page.reload()
    await expect.poll(() => statusOf(page), { timeout: 15_000 }).toMatch(/^Signed in as /)
    await Promise.all([
      page.waitForURL(`${ctx.stack.idp.issuer}/session/end**`),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ])
    await Promise.all([
      page.waitForURL(`${ctx.stack.app.origin}/`),
      page.click('button[value="yes"]'),
    ])
    await expect.poll(() => statusOf(second)).toBe('unauthenticated')

    const issued = ctx.stack.idp.tokenAnswers.flatMap((a) =>
      a.refreshToken ? [a.refreshToken] : [],
    )
    const accessTokens = ctx.stack.idp.tokenAnswers.flatMap((a) =>
      a.accessToken ? [a.accessToken] : [],
    )
    const sightings = issued.filter((token) => [...seen].some((text) => text.includes(token)))
    const accessSeen = accessTokens.filter((token) =>
      [...seen].some((text) => text.includes(token)),
    )
    console.log(
      `F5 interop figures: stringsSeen=${seen.size} refreshTokensIssued=${issued.length} ` +
        `refreshTokensSeenByPageScript=${sightings.length} accessTokensSeen=${accessSeen.length}/${accessTokens.length}`,
    )
    expect(issued.length).toBeGreaterThanOrEqual(4)
    expect(sightings).toEqual([])
    await closeContext(context)
  })
})
