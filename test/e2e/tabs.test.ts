import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { launchChromium, placesHoldingTokens, serveDemo, watchPage } from './browser.js'

let server: Awaited<ReturnType<typeof serveDemo>>
let browser: Browser
let context: BrowserContext
let origin: string
let grants: { code: number; refresh: number; errors: number }
const tokens = new Set<string>()

beforeAll(async () => {
  server = await serveDemo('demo-e2e-tabs')
  origin = server.origin
  browser = await launchChromium()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

beforeEach(async () => {
  context = await browser.newContext()
  grants = { code: 0, refresh: 0, errors: 0 }
  context.on('request', (request) => {
    if (!request.url().endsWith('/mock-idp/token')) return
    const grant = new URLSearchParams(request.postData() ?? '').get('grant_type')
    if (grant === 'authorization_code') grants.code++
    if (grant === 'refresh_token') grants.refresh++
  })
  context.on('response', async (response) => {
    if (response.url().endsWith('/mock-idp/token') && response.status() >= 400) grants.errors++
  })
})

afterEach(async () => {
  // Chromium has hung closing a page whose hidden sign-in frame was mid-navigation: close each
  // page and the context, but never wait on one for long.
  const bounded = (closing: Promise<unknown>) =>
    Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 5_000))])
  for (const page of context.pages()) await bounded(page.close({ runBeforeUnload: false }))
  await bounded(context.close())
})

async function open(path = '/'): Promise<Page> {
  const page = await context.newPage()
  for (const token of watchPage(page).tokens) tokens.add(token)
  await page.goto(origin + path)
  return page
}

const statusOf = (page: Page) => page.getByTestId('status').textContent()

async function signedIn(page: Page, timeout = 10_000) {
  await expect.poll(() => statusOf(page), { timeout }).toMatch(/^Signed in as /)
}

async function signIn(page: Page) {
  await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/\/mock-idp\/authorize\?/)
  await page.getByRole('button', { name: 'Continue' }).click()
  await signedIn(page)
}

/** Edits the mock provider's database, which every tab reads before each request. */
async function editProvider(page: Page, change: string) {
  await page.evaluate((code) => {
    const db = JSON.parse(localStorage.getItem('mock-idp:db') ?? '{}')
    new Function('db', code)(db)
    localStorage.setItem('mock-idp:db', JSON.stringify(db))
  }, change)
}

async function callApi(page: Page) {
  await page.getByRole('button', { name: 'Call the API' }).click()
  await expect.poll(() => page.getByTestId('result').textContent()).toMatch(/GET \/api\/me → \d+/)
  return page.getByTestId('result').textContent()
}

describe('one session per browser (Chromium, several tabs)', () => {
  // Tabs shared one session over a BroadcastChannel that carried the refresh token; that channel
  // is gone, and the token worker that shares the session instead comes in the next step.
  it.skip('E1: 4 tabs whose tokens expire together make 1 refresh and no reuse error', async () => {
    const first = await open()
    await expect.poll(() => statusOf(first), { timeout: 15_000 }).toBe('unauthenticated')
    await editProvider(first, 'db.accessTokenLifetime = 20')
    await signIn(first)
    const before = { ...grants }

    const others = [await open(), await open(), await open()]
    for (const tab of others) await signedIn(tab)
    // New tabs got the session from a sibling: no token request at all.
    expect(grants).toEqual(before)

    // The 20 s tokens are due at 10 s in every tab at once.
    await expect.poll(() => grants.refresh, { timeout: 20_000 }).toBeGreaterThanOrEqual(1)
    await new Promise((r) => setTimeout(r, 1_500))
    expect(grants.refresh).toBe(1)
    expect(grants.errors).toBe(0)
    // Every tab's next API call goes out with the shared new token: no refresh of its own.
    await Promise.all([first, ...others].map(signedIn))
    const results = await Promise.all([first, ...others].map(callApi))
    expect(results).toEqual(Array(4).fill('GET /api/me → 200'))
    expect(grants.refresh).toBe(1)
    for (const tab of [first, ...others]) expect(await placesHoldingTokens(tab, tokens)).toEqual([])
    console.log(`E1 figures: tabs=4 refreshRequests=${grants.refresh} reuseErrors=${grants.errors}`)
  })

  it('E3: sign-out in one tab signs out the other three within a bounded time', async () => {
    const first = await open()
    await signIn(first)
    const others = [await open(), await open(), await open()]
    for (const tab of others) await signedIn(tab)

    const started = Date.now()
    await first.getByRole('button', { name: 'Sign out' }).click()
    await Promise.all(
      others.map((tab) =>
        expect.poll(() => statusOf(tab), { timeout: 5_000, interval: 10 }).toBe('unauthenticated'),
      ),
    )
    const elapsed = Date.now() - started
    expect(elapsed).toBeLessThan(5_000)
    // The tab that signed out comes back from the provider signed out, and stays so.
    await first.waitForURL(`${origin}/`)
    await expect.poll(() => statusOf(first), { timeout: 10_000 }).toBe('unauthenticated')
    console.log(`E3 figures: tabs=3 signOutReachedAllInMs=${elapsed}`)
  })

  // Tabs shared one session over a BroadcastChannel that carried the refresh token; that channel
  // is gone, and the token worker that shares the session instead comes in the next step.
  it.skip('restores a reloaded tab from a sibling without a token request', async () => {
    const first = await open()
    await signIn(first)
    const second = await open()
    await signedIn(second)
    const before = { ...grants }
    await second.reload()
    await signedIn(second)
    expect(grants).toEqual(before)
  })

  it('restores a reload alone through prompt=none, and ends signed out without a loop when the provider session is gone', async () => {
    const page = await open()
    await signIn(page)
    const before = grants.code
    await page.reload()
    await signedIn(page)
    // A silent sign-in in a hidden frame: one new code exchange, no visible redirect.
    expect(grants.code).toBe(before + 1)
    expect(new URL(page.url()).pathname).toBe('/')

    await editProvider(page, 'delete db.session')
    const authorizations: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/mock-idp/authorize')) authorizations.push(r.url())
    })
    await page.reload()
    await expect.poll(() => statusOf(page), { timeout: 10_000 }).toBe('unauthenticated')
    await new Promise((r) => setTimeout(r, 1_000))
    expect(await statusOf(page)).toBe('unauthenticated')
    expect(authorizations.length).toBeLessThanOrEqual(1)
    expect(await page.getByRole('alert').count()).toBe(0)
  })

  // Tabs shared one session over a BroadcastChannel that carried the refresh token; that channel
  // is gone, and the token worker that shares the session instead comes in the next step.
  it.skip('E2: a tab that dies holding the refresh lock does not stall the others', async () => {
    const first = await open()
    await signIn(first)
    const second = await open()
    await signedIn(second)
    // The first tab takes the refresh lock and never lets go, as a tab stuck mid-refresh would.
    await first.evaluate((name) => {
      navigator.locks.request(name, () => new Promise(() => {}))
    }, `spa-auth:${origin}/mock-idp|demo-spa:refresh`)
    await editProvider(second, 'db.revokedJtis = db.issuedJtis')
    await second.getByRole('button', { name: 'Call the API' }).click()
    await new Promise((r) => setTimeout(r, 500))
    expect(grants.refresh).toBe(0)

    const killed = Date.now()
    await first.close()
    await expect
      .poll(() => second.getByTestId('result').textContent(), { timeout: 10_000 })
      .toBe('GET /api/me → 200')
    expect(grants.refresh).toBe(1)
    console.log(`E2 figures: refreshAfterLockHolderDiedMs=${Date.now() - killed}`)
  })
})
