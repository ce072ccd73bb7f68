// H12: the hidden silent sign-in frame, in Chromium: a provider page that is not a redirect back
// is an answer (settled at once, not after the whole timeout), and the light page the frame lands
// on saves loading the app in it.
import type { BrowserContext, Frame, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import {
  closeContext,
  editMockDb,
  endTokenWorkers,
  openContext,
  startDemoInChromium,
} from './browser.js'

const demo = startDemoInChromium()

const statusOf = (page: Page) => page.getByTestId('status').textContent()
const isSilentFrame = (frame: Frame) => frame.name() === 'spa-auth:silent'

async function signIn(page: Page) {
  await page.goto(demo.server.origin)
  await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(/\/mock-idp\/authorize\?/)
  await page.getByRole('button', { name: 'Continue' }).click()
  await expect.poll(() => statusOf(page)).toMatch(/^Signed in as /)
}

/** A new tab of `context` with no session in any worker: it has to ask the provider. */
async function freshTab(context: BrowserContext, page: Page): Promise<Page> {
  await page.close()
  await endTokenWorkers(demo.browser)
  return context.newPage()
}

/**
 * The documents the silent frame loaded, in the order they were asked for. Only navigations
 * count: a subresource's frame is not always told apart from the page's.
 */
function frameDocuments(page: Page) {
  const loaded: { url: string }[] = []
  page.on('response', (response) => {
    if (!response.request().isNavigationRequest() || !isSilentFrame(response.frame())) return
    loaded.push({ url: new URL(response.url()).pathname })
  })
  return loaded
}

describe('H12: the silent sign-in frame', () => {
  it('H12: a provider that shows its form for prompt=none: signed out within 1 s of the frame loading it', async () => {
    const context = await openContext(demo.browser)
    try {
      const first = await context.newPage()
      await signIn(first)
      await editMockDb(first, "db.faults = { promptNone: 'form' }")
      const page = await freshTab(context, first)
      let frameLoaded: number | undefined
      page.on('framenavigated', (frame) => {
        if (!isSilentFrame(frame) || !frame.url().includes('/mock-idp/authorize')) return
        frame.waitForLoadState('load').then(() => {
          frameLoaded ??= Date.now()
        })
      })
      const started = Date.now()
      await page.goto(demo.server.origin)
      await expect.poll(() => statusOf(page), { interval: 20 }).toBe('unauthenticated')
      const settled = Date.now()
      expect(frameLoaded).toBeDefined()
      const afterLoad = settled - frameLoaded!
      console.log(
        `H12 figures: providerShowsForm=true signedOutAfterFrameLoadMs=${afterLoad} ` +
          `pageStartToSignedOutMs=${settled - started} silentTimeoutMs=5000`,
      )
      expect(afterLoad).toBeLessThan(1_000)
      expect(await page.getByRole('alert').count()).toBe(0)
    } finally {
      await closeContext(context)
    }
  })

  it('H12: the frame lands on the light silent-callback page: one small document instead of the app', async () => {
    const context = await openContext(demo.browser)
    try {
      const first = await context.newPage()
      await signIn(first)
      // What the app costs a document that loads it: the frame would load as much on /callback.
      const app: { url: string; bytes: number }[] = []
      const probe = await context.newPage()
      probe.on('response', async (response) => {
        const bytes = (await response.body().catch(() => Buffer.alloc(0))).length
        app.push({ url: new URL(response.url()).pathname, bytes })
      })
      await probe.goto(`${demo.server.origin}/callback`, { waitUntil: 'load' })
      await probe.close()

      const page = await freshTab(context, first)
      const loaded = frameDocuments(page)
      const started = Date.now()
      await page.goto(demo.server.origin)
      await expect.poll(() => statusOf(page), { interval: 20 }).toMatch(/^Signed in as /)
      const ms = Date.now() - started
      // The frame's last document is the light page.
      expect(loaded.at(-1)?.url).toBe('/silent-callback.html')
      // Asked for again: the browser does not hand a frame's document body to the test.
      const landingBytes = (
        await (await fetch(`${demo.server.origin}/silent-callback.html`)).arrayBuffer()
      ).byteLength
      const appBytes = app.reduce((n, r) => n + r.bytes, 0)
      console.log(
        `H12 figures: silentSignInMs=${ms} landingPage=1 request/${landingBytes} B ` +
          `appInstead=${app.length} requests/${appBytes} B (what the frame would load on /callback)`,
      )
      expect(landingBytes).toBeLessThan(1_000)
      expect(appBytes).toBeGreaterThan(50 * landingBytes)
    } finally {
      await closeContext(context)
    }
  })
})
