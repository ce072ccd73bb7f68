// The demo's lifecycle with the token worker forced off, as a browser without SharedWorker (a
// dedicated Worker per tab) or without any worker (the engine in the page) would run it.
import type { BrowserContext, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import {
  closeContext,
  openContext,
  placesHoldingTokens,
  readMockDb,
  signOutOfDemo,
  startDemoInChromium,
  watchPage,
} from './browser.js'

const demo = startDemoInChromium()

const MODES = [
  {
    name: 'no SharedWorker: a dedicated Worker per tab',
    remove: ['SharedWorker'],
    holder: "this tab's own token worker",
    said: /SharedWorker is not available: each tab keeps its own session in a token worker/,
  },
  {
    name: 'no worker at all: the engine in the page',
    remove: ['SharedWorker', 'Worker'],
    holder: 'this page',
    said: /this browser runs no workers: the session is kept in this page/,
  },
] as const

async function openTab(context: BrowserContext, remove: readonly string[]) {
  const page = await context.newPage()
  // What the browser lacks, before any script of the page runs.
  await page.addInitScript((names) => {
    for (const name of names) delete (globalThis as Record<string, unknown>)[name]
  }, remove)
  const watched = watchPage(page)
  // What each document of the tab said, document by document.
  const info: string[][] = []
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) info.push([])
  })
  page.on('console', (m) => {
    if (m.type() === 'info' && m.text().startsWith('spa-auth:')) info.at(-1)?.push(m.text())
  })
  await page.goto(demo.server.origin)
  return { page, watched, info }
}

const statusOf = (page: Page) => page.getByTestId('status').textContent()
const result = (page: Page) => page.getByTestId('result').textContent()
const timeline = async (page: Page, text: RegExp) =>
  (await page.getByTestId('timeline').locator('li').allTextContents()).filter((t) => text.test(t))
    .length

describe.each(MODES)('E8: $name', ({ remove, holder, said }) => {
  it('E8: signs in, refreshes, survives a 401 and a burst, and signs out every tab', async () => {
    const context = await openContext(demo.browser)
    try {
      const { page, watched, info } = await openTab(context, remove)
      await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
      await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      await page.waitForURL(/\/mock-idp\/authorize\?/)
      await page.getByRole('button', { name: 'Continue' }).click()
      await expect.poll(() => statusOf(page)).toBe('Signed in as Alice Martin')
      expect(await page.getByTestId('holder').textContent()).toContain(holder)
      // Said once by every document of the app (the provider's page, a document of its own, has no client).
      const saidBy = info.map((texts) => texts.filter((text) => said.test(text)).length)
      expect(saidBy.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2)
      expect(Math.max(...saidBy)).toBe(1)

      // A 401 (the access token revoked at the server): one refresh, one replay.
      await page.getByRole('button', { name: '15 s' }).click()
      await page.getByRole('button', { name: 'Revoke access token' }).click()
      await page.getByRole('button', { name: 'Call the API' }).click()
      await expect.poll(() => timeline(page, /401 → refresh → replay/)).toBe(1)
      await expect.poll(() => result(page)).toBe('GET /api/me → 200')
      // A 15 s token is refreshed ahead of expiry without any call.
      await expect
        .poll(() => timeline(page, /Token refreshed \(scheduled\)/), { timeout: 15_000 })
        .toBeGreaterThanOrEqual(1)
      await page.getByRole('button', { name: 'Revoke access token' }).click()
      await page.getByRole('button', { name: 'Burst 20 calls' }).click()
      await expect.poll(() => result(page)).toBe('20 calls: 20 ok, 1 refresh')
      expect(await placesHoldingTokens(page, watched.tokens)).toEqual([])

      // A second tab keeps a session of its own (sign-in through the provider's session, no
      // prompt), and sign-out in the first reaches it.
      const second = await openTab(context, remove)
      await expect.poll(() => statusOf(second.page), { timeout: 15_000 }).toMatch(/^Signed in as /)
      const codes = (await readMockDb(page)).counts.code
      expect(codes).toBe(2)
      const started = Date.now()
      const leaving = signOutOfDemo(page, demo.server.origin)
      await expect
        .poll(() => statusOf(second.page), { timeout: 5_000, interval: 10 })
        .toBe('unauthenticated')
      const ms = Date.now() - started
      await leaving
      await expect.poll(() => statusOf(page)).toBe('unauthenticated')
      console.log(
        `E8 figures: mode=${remove.join('+')} holder="${holder}" codeExchanges=${codes} signOutReachedOtherTabMs=${ms}`,
      )
    } finally {
      await closeContext(context)
    }
  })
})
