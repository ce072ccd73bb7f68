// The demo in BFF mode, in Chromium: two BFF instances on one Redis in front of the demo's build,
// oidc-provider's own pages, a resource server behind the BFF's /api route. Sign-in, API calls
// through either instance, reload, a second tab, sign-out reaching every tab, and no token in the
// browser at any step, also for a script that runs before the app and reads all the page reads.
import type { Browser, Page, Response } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBffDemo } from '../bff/demo-stack.js'
import { freshPage, passProviderPages } from '../interop/pages.js'
import { type Attacker, installAttacker } from './attacker.js'
import { closeContext, launchChromium, placesHoldingTokens } from './browser.js'

let demo: Awaited<ReturnType<typeof startBffDemo>>
let browser: Browser
let page: Page
// A script that runs before the app in every page, patching every reader a token could pass.
let attacker: Attacker
/** Every answer of the app's origin the tabs got, as text: headers and body. */
const answers: string[] = []
const instances = new Set<string>()

beforeAll(async () => {
  ;[demo, browser] = await Promise.all([
    startBffDemo({ mode: 'build', instances: 2, accessTokenTtl: 30 }),
    launchChromium(),
  ])
  page = await freshPage(browser)
  attacker = await installAttacker(page.context())
  watch(page)
})

afterAll(async () => {
  try {
    if (page) await closeContext(page.context())
    await browser?.close()
  } finally {
    await demo?.close()
  }
})

function watch(tab: Page) {
  tab.on('response', async (response: Response) => {
    if (!response.url().startsWith(demo.origin)) return
    const instance = response.headers()['spa-auth-instance']
    if (instance) instances.add(instance)
    const body = await response.text().catch(() => '')
    answers.push(`${JSON.stringify(response.headers())}\n${body}`)
  })
}

const statusOf = (tab: Page) => () => tab.getByTestId('status').textContent()
const issued = () =>
  new Set(
    demo.idp.tokenAnswers
      .flatMap((a) => [a.accessToken, a.refreshToken, a.idToken])
      .filter(Boolean) as string[],
  )

/** No token the provider issued in any place page script can read, nor in any answer it got. */
async function expectNoToken(tab: Page, step: string) {
  const tokens = issued()
  expect(tokens.size, step).toBeGreaterThan(0)
  expect(await placesHoldingTokens(tab, tokens), step).toEqual([])
  for (const answer of answers)
    for (const token of tokens) expect(answer.includes(token), step).toBe(false)
  // What script in the page can ask the BFF for itself: the session, never a token.
  const probe = await tab.evaluate(async () => {
    const session = await (await fetch('/bff/session', { headers: { 'x-csrf': '1' } })).text()
    return { session, cookie: document.cookie }
  })
  for (const token of tokens) expect(probe.session.includes(token), step).toBe(false)
  const seen = [...attacker.seen]
  expect(seen.length, step).toBeGreaterThan(0)
  for (const token of tokens)
    expect(
      seen.some((s) => s.includes(token)),
      step,
    ).toBe(false)
  expect(probe.cookie, step).not.toContain('__Host-spa-auth')
}

describe('the demo behind @spa-auth/bff, in Chromium', () => {
  it('J25: signs in through the BFF at oidc-provider, calls the API through both instances; no token in the browser', async () => {
    await page.goto(demo.origin)
    await expect.poll(statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
    await passProviderPages(
      page,
      () => page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      {
        issuer: demo.idp.issuer,
        appOrigin: demo.origin,
        login: 'alice',
      },
    )
    await expect.poll(statusOf(page)).toBe('Signed in as Alice Martin')
    expect(new URL(page.url()).search).toBe('')
    const cookie = (await page.context().cookies()).find((c) => c.name === '__Host-spa-auth')
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' })
    expect(demo.idp.tokenAnswers.filter((a) => a.grantType === 'authorization_code')).toHaveLength(
      1,
    )

    const before = demo.api.requests.length
    for (let call = 0; call < 4; call++) {
      await page.getByRole('button', { name: 'Call the API' }).click()
      await expect.poll(() => demo.api.requests.length).toBe(before + call + 1)
    }
    await expect.poll(() => page.getByTestId('result').textContent()).toBe('GET /api/me → 200')
    expect(demo.api.requests.slice(before).map((r) => r.status)).toEqual([200, 200, 200, 200])
    // Round robin: both instances answered, with one session between them.
    expect([...instances].sort()).toEqual(['bff-1', 'bff-2'])
    await expectNoToken(page, 'after sign-in and calls')
  })

  it('J26: a reload and a second tab ask the BFF once each, with no provider round trip', async () => {
    const providerBefore = demo.idp.requests.length
    const sessions: string[] = []
    const count = (tab: Page) =>
      tab.on('request', (r) => {
        if (r.url() === `${demo.origin}/bff/session`) sessions.push(r.url())
      })
    count(page)
    await page.reload()
    await expect.poll(statusOf(page)).toBe('Signed in as Alice Martin')
    const second = await page.context().newPage()
    watch(second)
    count(second)
    await second.goto(demo.origin)
    await expect.poll(statusOf(second)).toBe('Signed in as Alice Martin')
    // The second tab's "signed in" cue makes the first ask once more, never more than that.
    expect(sessions.length).toBeGreaterThanOrEqual(2)
    expect(sessions.length).toBeLessThanOrEqual(3)
    expect(demo.idp.requests.length).toBe(providerBefore)
    await expectNoToken(second, 'in the second tab')
  })

  it('J27: sign-out in one tab ends the session at the BFF and the provider (whose back-channel logout the BFF verifies), and the other tab shows it', async () => {
    const [first, second] = page.context().pages() as [Page, Page]
    await Promise.all([
      first.waitForURL(`${demo.idp.issuer}/session/end**`),
      first.getByRole('button', { name: 'Sign out' }).click(),
    ])
    expect(new URL(first.url()).searchParams.has('id_token_hint')).toBe(false)
    await expect.poll(statusOf(second)).toBe('unauthenticated')
    await Promise.all([first.waitForURL(`${demo.origin}/`), first.click('button[value="yes"]')])
    await expect.poll(statusOf(first)).toBe('unauthenticated')
    // The provider's back-channel logout reached the BFF, which verified it and ended the sid.
    const ended = () => demo.redis!.client().keys('*end:sid:*')
    await expect.poll(async () => (await ended()).length).toBe(1)
    expect(demo.idp.serverErrors).toEqual([])
    expect(demo.idp.requests.some((r) => r.path === '/token/revocation' && r.status === 200)).toBe(
      true,
    )
    // The API through the BFF: 401 without a session, and nothing reached the resource server.
    const before = demo.api.requests.length
    const status = await second.evaluate(
      async () => (await fetch('/api/me', { headers: { 'x-csrf': '1' } })).status,
    )
    expect(status).toBe(401)
    expect(demo.api.requests.length).toBe(before)
    await expectNoToken(first, 'after sign-out')
  })

  it('J38: signs in again in a popup through the BFF: the popup closes itself, this page stays where it was, the other tab follows', async () => {
    const [first, second] = page.context().pages() as [Page, Page]
    const address = first.url()
    const [popup] = await Promise.all([
      first.waitForEvent('popup'),
      first.getByRole('button', { name: 'Sign in in a popup' }).click(),
    ])
    await popup.waitForSelector('input[name="login"]')
    await popup.fill('input[name="login"]', 'bob')
    await popup.fill('input[name="password"]', 'any password')
    await popup.click('button[type="submit"]')
    await popup.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached' })
    await Promise.all([popup.waitForEvent('close'), popup.click('button[type="submit"]')])
    await expect.poll(statusOf(first)).toBe('Signed in as Bob Chen')
    expect(first.url()).toBe(address)
    await expect.poll(statusOf(second)).toBe('Signed in as Bob Chen')
    await expectNoToken(first, 'after the popup sign-in')
  })
})
