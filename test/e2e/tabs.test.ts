import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  closeContext,
  editMockDb,
  endTokenWorkers,
  launchChromium,
  type MockDb,
  openContext,
  placesHoldingTokens,
  readMockDb,
  serveDemo,
  signOutOfDemo,
} from './browser.js'

let server: Awaited<ReturnType<typeof serveDemo>>
let browser: Browser
let context: BrowserContext
let origin: string
// Every address any tab requested: the provider's authorize endpoint among them.
let authorizations: number

beforeAll(async () => {
  server = await serveDemo()
  origin = server.origin
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

beforeEach(async () => {
  context = await openContext(browser)
  authorizations = 0
  context.on('request', (request) => {
    if (request.url().includes('/mock-idp/authorize')) authorizations++
  })
})

afterEach(async () => {
  await closeContext(context)
})

async function open(path = '/'): Promise<Page> {
  const page = await context.newPage()
  await page.goto(origin + path)
  return page
}

const statusOf = (page: Page) => page.getByTestId('status').textContent()

async function signedIn(page: Page, timeout = 10_000) {
  await expect.poll(() => statusOf(page), { timeout }).toMatch(/^Signed in as /)
}

async function signIn(page: Page) {
  await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(/\/mock-idp\/authorize\?/)
  await page.getByRole('button', { name: 'Continue' }).click()
  await signedIn(page)
}

/** The token endpoint's counts, from the mock provider's own records. */
async function grants(page: Page): Promise<MockDb['counts']> {
  return (await readMockDb(page)).counts
}

async function callApi(page: Page) {
  await page.getByRole('button', { name: 'Call the API' }).click()
  await expect.poll(() => page.getByTestId('result').textContent()).toMatch(/GET \/api\/me → \d+/)
  return page.getByTestId('result').textContent()
}

describe('one session per browser: the token worker (Chromium, several tabs)', () => {
  it('E1: 4 tabs whose tokens expire together make 1 refresh and no reuse error', async () => {
    const first = await open()
    await expect.poll(() => statusOf(first), { timeout: 15_000 }).toBe('unauthenticated')
    await editMockDb(first, 'db.accessTokenLifetime = 20')
    await signIn(first)
    const before = await grants(first)

    const others = [await open(), await open(), await open()]
    for (const tab of others) await signedIn(tab)
    // New tabs found the session in the token worker: no request at all.
    expect(await grants(first)).toEqual(before)

    // The 20 s tokens are due at 15 s, in every tab at once: the worker refreshes once.
    await expect
      .poll(async () => (await grants(first)).refresh, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(1)
    await new Promise((r) => setTimeout(r, 1_500))
    const after = await grants(first)
    expect(after.refresh).toBe(1)
    expect(after.token - before.token).toBe(1)
    // Every tab's next API call goes out with the new token: no refresh of its own.
    await Promise.all([first, ...others].map((tab) => signedIn(tab)))
    const results = await Promise.all([first, ...others].map(callApi))
    expect(results).toEqual(Array(4).fill('GET /api/me → 200'))
    expect((await grants(first)).refresh).toBe(1)
    for (const tab of [first, ...others])
      expect(await placesHoldingTokens(tab, new Set())).toEqual([])
    console.log(
      `E1 figures: tabs=4 refreshRequests=${after.refresh} tokenRequests=${after.token - before.token}`,
    )
  })

  it('E3: sign-out in one tab signs out the other three within a bounded time', async () => {
    const first = await open()
    await signIn(first)
    const others = [await open(), await open(), await open()]
    for (const tab of others) await signedIn(tab)

    const started = Date.now()
    const leaving = signOutOfDemo(first, origin)
    await Promise.all(
      others.map((tab) =>
        expect.poll(() => statusOf(tab), { timeout: 5_000, interval: 10 }).toBe('unauthenticated'),
      ),
    )
    const elapsed = Date.now() - started
    expect(elapsed).toBeLessThan(5_000)
    // The tab that signed out comes back from the provider signed out, and stays so.
    await leaving
    await expect.poll(() => statusOf(first)).toBe('unauthenticated')
    console.log(`E3 figures: tabs=3 signOutReachedAllInMs=${elapsed}`)
  })

  it('E7: a lone tab that reloads finds the living worker: 0 authorize and 0 token requests', async () => {
    const page = await open()
    await signIn(page)
    const before = await grants(page)
    const asked = authorizations
    const started = Date.now()
    await page.reload()
    await signedIn(page)
    const ms = Date.now() - started
    expect(await grants(page)).toEqual(before)
    expect(authorizations).toBe(asked)
    console.log(`E7 figures: reloadToSignedInMs=${ms} authorizeRequests=0 tokenRequests=0`)
  })

  it('restores a tab with no session in the worker through prompt=none, and ends signed out without a loop when the provider session is gone', async () => {
    const page = await open()
    await signIn(page)
    const before = await grants(page)
    // The worker is gone (a browser without extendedLifetime, or it was ended): the next page
    // asks the provider, silently, in a hidden frame.
    await page.close()
    await endTokenWorkers(browser)
    const again = await open()
    await signedIn(again)
    expect((await grants(again)).code).toBe(before.code + 1)
    expect(new URL(again.url()).pathname).toBe('/')

    await editMockDb(again, 'delete db.session')
    await again.close()
    await endTokenWorkers(browser)
    const asked = authorizations
    const last = await open()
    await expect.poll(() => statusOf(last)).toBe('unauthenticated')
    await new Promise((r) => setTimeout(r, 1_000))
    expect(await statusOf(last)).toBe('unauthenticated')
    expect(authorizations - asked).toBeLessThanOrEqual(1)
    expect(await last.getByRole('alert').count()).toBe(0)
  })

  it('E2: the tab that asked for a refresh closes mid-refresh: the worker finishes it for the others', async () => {
    const first = await open()
    await signIn(first)
    const second = await open()
    await signedIn(second)
    // The token endpoint answers after 1.5 s; the tab that asks is closed meanwhile.
    await editMockDb(first, 'db.faults = { tokenDelayMs: 1500 }; db.revokedJtis = db.issuedJtis')
    await first.getByRole('button', { name: 'Call the API' }).click()
    await expect
      .poll(async () => (await grants(second)).token, { timeout: 5_000 })
      .toBeGreaterThan(1)
    const closed = Date.now()
    await first.close()
    await editMockDb(second, 'db.faults = {}')
    await expect.poll(async () => (await grants(second)).refresh).toBe(1)
    expect(await callApi(second)).toBe('GET /api/me → 200')
    expect((await grants(second)).refresh).toBe(1)
    console.log(`E2 figures: refreshFinishedAfterAskerClosedMs=${Date.now() - closed}`)
  })
})
