import { decodeJwt, decodeProtectedHeader } from 'jose'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, placesHoldingTokens, watchPage } from '../e2e/browser.js'
import { demoRoot, serveApp } from './apps.js'
import { freshPage, passProviderPages, postForm } from './pages.js'
import type { TokenAnswer } from './provider.js'
import { type Stack, startStack } from './stack.js'

// Short enough that the SDK refreshes within the test (5 s before expiry, half the lifetime),
// long enough for CI.
const ACCESS_TOKEN_TTL = 10

let stack: Stack
let browser: Browser
let page: Page
let watched: ReturnType<typeof watchPage>
// The provider's answers: the page never sees them (its token worker makes every token request).
let seen: TokenAnswer[]
// Every address the tab showed, the provider's pages included.
const addresses: string[] = []
const figures: Record<string, number | string> = {}

beforeAll(async () => {
  const started = Date.now()
  stack = await startStack({
    serve: (env) => serveApp(demoRoot, env),
    accessTokenTtl: ACCESS_TOKEN_TTL,
  })
  browser = await launchChromium()
  page = await freshPage(browser)
  watched = watchPage(page)
  seen = stack.idp.tokenAnswers
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) addresses.push(frame.url())
  })
  figures.setupMs = Date.now() - started
})

afterAll(async () => {
  try {
    await browser?.close()
  } finally {
    await stack?.close()
  }
})

afterEach(() => {
  expect(stack.idp.serverErrors).toEqual([])
})

const status = () => page.getByTestId('status').textContent()
const lastApiCalls = (from: number) => stack.api.requests.slice(from).map((r) => r.status)
const tokenRequests = () => stack.idp.tokenRequests(true)

async function timelineCount(text: RegExp): Promise<number> {
  const entries = await page.getByTestId('timeline').locator('li').allTextContents()
  return entries.filter((entry) => text.test(entry)).length
}

async function expectNoTokenAnywhere(step: string): Promise<void> {
  expect(await placesHoldingTokens(page, watched.tokens), step).toEqual([])
}

/** The `jti` of the newest access token the page received. */
function currentJti(): string {
  const accessToken = seen.findLast((answer) => answer.accessToken)?.accessToken
  return String(decodeJwt(accessToken!).jti)
}

/** Waits for the page's next token answer: right after one, the next refresh is ~5 s away. */
async function nextTokenAnswer(): Promise<void> {
  const count = seen.length
  await expect.poll(() => seen.length, { timeout: 15_000 }).toBeGreaterThan(count)
}

/**
 * The addresses the tab went through that hold a token (JWT-shaped, or one the page received),
 * optionally leaving out the `id_token_hint` of the provider's end-session URL.
 */
function leakyAddresses({ exceptIdTokenHint }: { exceptIdTokenHint: boolean }): string[] {
  const tokens = [...watched.tokens]
  return addresses.filter((address) => {
    const url = new URL(address)
    if (exceptIdTokenHint && url.pathname === '/session/end')
      url.searchParams.delete('id_token_hint')
    return /eyJ[\w-]{8,}\./.test(url.href) || tokens.some((token) => url.href.includes(token))
  })
}

async function signIn(login: string) {
  const shown = await passProviderPages(
    page,
    () => page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    { issuer: stack.idp.issuer, appOrigin: stack.app.origin, login },
  )
  await expect.poll(status).toMatch(/^Signed in as /)
  return shown
}

describe('the demo in real mode against oidc-provider, in Chromium', () => {
  it('P1 (A10, F1): signs in through the provider login and consent pages; no token left anywhere', async () => {
    await page.goto(stack.app.origin)
    await expect.poll(status, { timeout: 15_000 }).toBe('unauthenticated')
    const started = Date.now()

    expect(await signIn('alice')).toEqual(['login', 'consent'])
    figures.signInMs = Date.now() - started
    expect(await status()).toBe('Signed in as Alice Martin')
    expect(new URL(page.url()).search).toBe('')
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual([])
    expect(tokenRequests()).toBe(1)
    expect(seen[0]).toMatchObject({ grantType: 'authorization_code', status: 200 })
    expect(seen[0]!.refreshToken).toEqual(expect.any(String))
    // Real mode: the controls that drive the mock provider are gone.
    expect(await page.getByRole('button', { name: 'Revoke access token' }).count()).toBe(0)
    await expectNoTokenAnywhere('after sign-in')
  })

  it('P2: the resource server accepts the RFC 9068 access token the page got', async () => {
    const from = stack.api.requests.length
    await page.getByRole('button', { name: 'Call the API' }).click()
    await expect.poll(() => page.getByTestId('result').textContent()).toBe('GET /api/me → 200')

    expect(lastApiCalls(from)).toEqual([200])
    const call = stack.api.requests.at(-1)!
    const sent = seen.find(
      (answer) => answer.accessToken && decodeJwt(answer.accessToken).jti === call.jti,
    )
    expect(decodeProtectedHeader(sent!.accessToken!).typ).toBe('at+jwt')
    const claims = decodeJwt(sent!.accessToken!)
    expect(claims).toMatchObject({
      iss: stack.idp.issuer,
      aud: stack.api.resource,
      client_id: stack.idp.clientId,
      sub: 'alice',
    })
    expect(String(claims.scope).split(' ')).toContain('api:read')
    expect(claims.exp! - claims.iat!).toBe(ACCESS_TOKEN_TTL)
  })

  it('P3 (C5): refreshes ahead of expiry and rotates the refresh token', async () => {
    await expect
      .poll(() => timelineCount(/Token refreshed \(scheduled\)/), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(1)
    // The page's listener reads each answer's body after the app has: wait for it too.
    await expect.poll(() => seen.length).toBeGreaterThanOrEqual(2)

    const [code, refresh] = seen
    expect(refresh).toMatchObject({ grantType: 'refresh_token', status: 200 })
    expect(refresh!.refreshToken).toEqual(expect.any(String))
    expect(refresh!.refreshToken).not.toBe(code!.refreshToken)
    expect(refresh!.accessToken).not.toBe(code!.accessToken)
    const issuedAt = (answer: TokenAnswer) => decodeJwt(answer.accessToken!).iat!
    figures.refreshAfterS = issuedAt(refresh!) - issuedAt(code!)
    // The 5 s leeway, half of this lifetime (the most a lead can be), give or take a second.
    expect(figures.refreshAfterS).toBeGreaterThanOrEqual(ACCESS_TOKEN_TTL / 2 - 1)
    expect(figures.refreshAfterS).toBeLessThan(ACCESS_TOKEN_TTL)
    await expectNoTokenAnywhere('after a refresh')
  })

  it('P4 (D4): the resource server revokes the token mid-session; 401 → refresh → replay succeeds', async () => {
    await nextTokenAnswer()
    const revoked = currentJti()
    stack.api.revoke(revoked)
    const from = stack.api.requests.length
    const tokensBefore = tokenRequests()
    const replays = await timelineCount(/401 → refresh → replay/)
    const oks = await timelineCount(/GET \/api\/me → 200/)

    await page.getByRole('button', { name: 'Call the API' }).click()
    await expect.poll(() => timelineCount(/GET \/api\/me → 200/)).toBe(oks + 1)

    expect(lastApiCalls(from)).toEqual([401, 200])
    const [refused, replayed] = stack.api.requests.slice(from)
    expect(refused).toMatchObject({ jti: revoked, error: 'the token was revoked' })
    expect(replayed!.jti).not.toBe(revoked)
    expect(tokenRequests() - tokensBefore).toBe(1)
    expect(await timelineCount(/401 → refresh → replay/)).toBe(replays + 1)
    figures.requestsPer401Call = lastApiCalls(from).length
    await expectNoTokenAnywhere('after the replay')
  })

  it('P5 (C4, C2): the provider refuses an old refresh token replayed from Node; reuse ends the session', async () => {
    const rotatedAway = seen.find((answer) => answer.grantType === 'authorization_code')!
    // Counted from before the replay: the page's next refresh may follow it within milliseconds.
    const tokensBefore = tokenRequests()
    const replay = await postForm(`${stack.idp.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: rotatedAway.refreshToken!,
      client_id: stack.idp.clientId,
    })
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })

    // oidc-provider takes reuse for theft and revokes the whole grant: the page's next (scheduled)
    // refresh gets invalid_grant too, and the SDK ends the session after that one request.
    await expect.poll(status, { timeout: 15_000 }).toBe('unauthenticated')
    expect(await page.getByRole('alert').textContent()).toContain('Your session ended')
    expect(tokenRequests() - tokensBefore).toBe(1)
    await expect.poll(() => seen.at(-1)).toMatchObject({ grantType: 'refresh_token', status: 400 })
    await expectNoTokenAnywhere('after the session ended')

    // The resource server checks expiry too: the first access token is past its lifetime by now.
    const expired = decodeJwt(rotatedAway.accessToken!).exp! * 1000
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expired + 1000 - Date.now())))
    const late = await fetch(`${stack.api.origin}/api/me`, {
      headers: { authorization: `Bearer ${rotatedAway.accessToken}` },
    })
    expect(late.status).toBe(401)
    expect(late.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
  })

  it('P6: sign-out revokes the refresh token and ends the provider session', async () => {
    // The provider's session outlived the grant: no login, but consent again for a new grant.
    expect(await signIn('alice')).toEqual(['consent'])
    const revocationsBefore = stack.idp.requests.length
    const refreshToken = seen.findLast((answer) => answer.refreshToken)!.refreshToken!

    await Promise.all([
      page.waitForURL(`${stack.idp.issuer}/session/end**`),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ])
    // Before the user confirms at the provider: the SDK's revocation alone killed the token.
    const introspection = await postForm(`${stack.idp.issuer}/token/introspection`, {
      token: refreshToken,
      client_id: stack.idp.clientId,
    })
    expect(introspection).toMatchObject({ status: 200, body: { active: false } })
    const refresh = await postForm(`${stack.idp.issuer}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: stack.idp.clientId,
    })
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    const revocations = stack.idp.requests
      .slice(revocationsBefore)
      .filter((r) => r.method === 'POST' && r.path === '/token/revocation' && r.origin)
    figures.revocationStatuses = revocations.map((r) => r.status).join('+')
    expect(revocations[0]?.status).toBe(200)

    await Promise.all([page.waitForURL(`${stack.app.origin}/`), page.click('button[value="yes"]')])
    await expect.poll(status).toBe('unauthenticated')
    await expectNoTokenAnywhere('after sign-out')

    // The provider forgot the user: the next sign-in asks for the login again.
    expect(await signIn('bob')).toEqual(['login', 'consent'])
    expect(await status()).toBe('Signed in as Bob Chen')
    await expectNoTokenAnywhere('after signing in again')

    // No address the tab went through carried a token, but for the ID token in the end-session
    // URL: the known defect P13 shows on its own.
    expect(leakyAddresses({ exceptIdTokenHint: true })).toEqual([])

    // The browser reports the 400 and 401 answers provoked above; nothing else may reach it.
    const idTokenUrls = leakyAddresses({ exceptIdTokenHint: false }).length
    const unexpected = watched.consoleErrors.filter(
      (text) => !/Failed to load resource: the server responded with a status of 40[01]/.test(text),
    )
    expect(unexpected).toEqual([])
    console.log(
      `interop demo figures: setupMs=${figures.setupMs} signInMs=${figures.signInMs} ` +
        `refreshAfterS=${figures.refreshAfterS} requestsPer401Call=${figures.requestsPer401Call} ` +
        `revocationStatuses=${figures.revocationStatuses} tokensSeen=${watched.tokens.size} ` +
        `tokenRequests=${tokenRequests()} addressesChecked=${addresses.length} ` +
        `urlLeaksBesideIdTokenHint=0 idTokenInEndSessionUrl=${idTokenUrls} ` +
        `storageLeaks=0 consoleErrors=${unexpected.length}`,
    )
  })

  // An ID token as id_token_hint would land in the browser's history and the provider's logs;
  // oidc-provider (like RP-Initiated Logout 1.0) accepts client_id instead.
  it('P13 (F1): sign-out keeps the ID token out of the end-session URL', () => {
    expect(addresses.some((address) => address.includes('/session/end'))).toBe(true)
    expect(leakyAddresses({ exceptIdTokenHint: false })).toEqual([])
  })
})
