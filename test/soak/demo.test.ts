// H1, H2 in Chromium: the demo with 15 s access tokens, left idle for 10 minutes (the token worker
// refreshing alone), with the token endpoint down for 40 s in the middle. Real time: the worker's
// clock cannot be faked from the page. SPA_AUTH_SOAK_S shortens it for a quick look.
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import {
  closeContext,
  editMockDb,
  openContext,
  readMockDb,
  startDemoInChromium,
  watchPage,
} from '../e2e/browser.js'

const SECONDS = Number(process.env.SPA_AUTH_SOAK_S ?? 600)
const OUTAGE_S = 40
const LIFETIME_S = 15

const demo = startDemoInChromium()

const statusOf = (page: Page) => page.getByTestId('status').textContent()

/** Seconds the access token has left, as the page shows it; 0 when it shows none. */
async function secondsLeft(page: Page): Promise<number> {
  const text = await page
    .getByTestId('countdown')
    .textContent({ timeout: 1_000 })
    .catch(() => null)
  return Number(text?.replace(' s', '') ?? 0)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the demo at 15 s access tokens, in Chromium', () => {
  it(
    'H1: H2: keeps a usable token for 10 minutes of idle and through a 40 s token-endpoint outage',
    async () => {
      const context = await openContext(demo.browser)
      const page = await context.newPage()
      const watched = watchPage(page)
      await page.goto(demo.server.origin)
      await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
      await editMockDb(page, `db.accessTokenLifetime = ${LIFETIME_S}`)
      await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      await page.waitForURL(/\/mock-idp\/authorize\?/)
      await page.getByRole('button', { name: 'Continue' }).click()
      await expect.poll(() => statusOf(page)).toMatch(/^Signed in as /)

      const outageAt = Math.floor(SECONDS / 2)
      let idleWithoutToken = 0
      let outageSaidWhy = false
      let recoveredMs = -1
      for (let second = 0; second < SECONDS + OUTAGE_S; second++) {
        const inOutage = second >= outageAt && second < outageAt + OUTAGE_S
        if (second === outageAt)
          await page.getByRole('button', { name: 'Take token endpoint down' }).click()
        if (second === outageAt + OUTAGE_S) {
          await page.getByRole('button', { name: 'Bring token endpoint back' }).click()
          // The first call after the outage gets a token (a refresh on demand) and a 200.
          const back = Date.now()
          await page.getByRole('button', { name: 'Call the API' }).click()
          await expect
            .poll(() => page.getByTestId('result').textContent())
            .toBe('GET /api/me → 200')
          recoveredMs = Date.now() - back
        }
        if (inOutage && (await page.getByTestId('session-error').count()) > 0) outageSaidWhy = true
        // Outside the outage, the page holds an unexpired token every second, with no call made.
        if (!inOutage && (await secondsLeft(page)) <= 0) idleWithoutToken++
        expect(await statusOf(page)).toMatch(/^Signed in as /)
        await sleep(1_000)
      }
      const db = await readMockDb(page)
      const unexpected = watched.consoleErrors.filter(
        (text) => !/Failed to load resource/.test(text),
      )
      console.log(
        `H1 H2 demo figures: lifetime=${LIFETIME_S}s idle=${SECONDS}s outage=${OUTAGE_S}s ` +
          `refreshes=${db.counts.refresh} secondsWithoutUsableTokenOutsideOutage=${idleWithoutToken} ` +
          `statusSaidWhyDuringOutage=${outageSaidWhy} firstCallAfterOutageMs=${recoveredMs} consoleErrors=${unexpected.length}`,
      )
      expect(idleWithoutToken).toBe(0)
      expect(outageSaidWhy).toBe(true)
      expect(db.counts.refresh).toBeGreaterThanOrEqual(Math.floor(SECONDS / LIFETIME_S))
      expect(unexpected).toEqual([])
      await closeContext(context)
    },
    (SECONDS + OUTAGE_S) * 1_000 + 120_000,
  )
})
