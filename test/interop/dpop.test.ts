// DPoP (RFC 9449) end to end in Chromium: the bare app with `dpop: true` against oidc-provider,
// which requires proofs with its nonces and binds the tokens, and an API that requires proofs
// with nonces of its own. The tokens are the ones the provider issued, never learned from the page.
import { calculateJwkThumbprint, decodeJwt } from 'jose'
import type { Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { watchPage } from '../e2e/browser.js'
import { bareAppRoot, serveApp } from './apps.js'
import { fetchWithProof, newDpopKey } from './dpop-proof.js'
import { type KeyStoreView, readKeyStore, type StoredKey } from './key-store.js'
import { freshPage, passProviderPages, postForm } from './pages.js'
import type { TokenAnswer } from './provider.js'
import { startStackInChromium } from './stack.js'

// Refreshed 5 s before expiry (half this lifetime): a refresh every 5 s.
const ACCESS_TOKEN_TTL = 10

const ctx = startStackInChromium({
  serve: (env) => serveApp(bareAppRoot, env),
  accessTokenTtl: ACCESS_TOKEN_TTL,
  dpop: true,
})
let page: Page
let watched: ReturnType<typeof watchPage>
/** The thumbprint the sign-in named in `dpop_jkt`: the key every token must be bound to. */
let jkt = ''
let pageApiCalls = 0
const figures: Record<string, number | string> = {}

afterEach(() => {
  expect(ctx.stack.idp.serverErrors).toEqual([])
})

// `${issuer} ${clientId} ${state}`, the issuer written with or without the `/` a URL parser adds.
const keyId = () => {
  const issuer = ctx.stack.idp.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^${issuer}/? ${ctx.stack.idp.clientId} [\\w-]+$`)
}
const tokenUrl = () => `${ctx.stack.idp.issuer}/token`
const apiUrl = () => `${ctx.stack.api.origin}/api/me`
const appTokenCalls = () =>
  ctx.stack.idp.requests.filter((r) => r.method === 'POST' && r.path === '/token' && r.origin)
const pageApiRequests = () => ctx.stack.api.requests.filter((r) => r.origin)
const refreshAnswers = () =>
  ctx.stack.idp.tokenAnswers.filter((a) => a.grantType === 'refresh_token' && a.status === 200)
const jtiOf = (token: string | undefined) => decodeJwt(token!).jti

/** The most `use_dpop_nonce` answers in a row: 1 when every retry with the nonce got through. */
function longestNonceRun(codes: (string | undefined)[]): number {
  let run = 0
  let longest = 0
  for (const code of codes) {
    run = code === 'use_dpop_nonce' ? run + 1 : 0
    longest = Math.max(longest, run)
  }
  return longest
}

async function appReady(): Promise<void> {
  await page
    .waitForFunction(() => 'interop' in globalThis, undefined, { timeout: 15_000 })
    .catch((error: Error) => {
      throw new Error(`the app did not start: ${watched.consoleErrors.join(' | ') || error}`)
    })
}

/**
 * What any script of the app's origin finds in the key store: read from a blank document of that
 * origin in the same browser (no app in it), so that the app's own page may be elsewhere.
 */
async function keyStoreOfOrigin(): Promise<KeyStoreView> {
  const blank = await page.context().newPage()
  try {
    const url = `${ctx.stack.app.origin}/blank-of-the-origin`
    await blank.route(url, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: '<!doctype html><title>-</title>',
      }),
    )
    await blank.goto(url)
    return await readKeyStore(blank)
  } finally {
    await blank.close()
  }
}

/** The key store as page script found it while the first sign-in was at the provider. */
let duringSignIn: KeyStoreView | undefined

/** A fresh browser (no provider session) signed in through the provider's pages. */
async function signIn(): Promise<void> {
  page = await freshPage(ctx.browser)
  watched = watchPage(page)
  await page.goto(ctx.stack.app.origin)
  await appReady()
  await passProviderPages(
    page,
    // Not awaited in the page: login() navigates away.
    () => page.evaluate(() => void interop.login()),
    {
      issuer: ctx.stack.idp.issuer,
      appOrigin: ctx.stack.app.origin,
      atProvider: async () => {
        duringSignIn ??= await keyStoreOfOrigin()
      },
    },
  )
  await appReady()
  expect(await page.evaluate(() => interop.callback())).toEqual({
    ok: true,
    status: 'authenticated',
  })
}

/** Calls the API from the page, through `auth.fetch`. */
function callApi(path = '/api/me'): Promise<number> {
  pageApiCalls++
  return page.evaluate((p) => interop.api(p), path)
}

/** Waits for the page's next refresh answer: right after one, the next is ~5 s away. */
async function nextRefresh(): Promise<TokenAnswer> {
  const count = refreshAnswers().length
  await expect.poll(() => refreshAnswers().length, { timeout: 15_000 }).toBeGreaterThan(count)
  return refreshAnswers().at(-1)!
}

describe('DPoP in Chromium, against oidc-provider and a resource server with nonces', () => {
  it('I1: I2: signs in, calls the API and refreshes with DPoP-bound tokens against oidc-provider', async () => {
    const from = ctx.stack.idp.requests.length
    await signIn()

    // The authorization request named the key, and the code exchange proved it.
    jkt = ctx.stack.idp.requests.slice(from).find((r) => r.path === '/auth')?.dpopJkt ?? ''
    expect(jkt).toMatch(/^[\w-]{43}$/)
    const exchange = appTokenCalls().filter((r) => r.grantType === 'authorization_code')
    expect(exchange.map((r) => r.dpopProof)).not.toContain(false)
    expect(exchange.at(-1)).toMatchObject({ status: 200 })
    const signedIn = ctx.stack.idp.tokenAnswers.find((a) => a.status === 200)!
    expect(signedIn).toMatchObject({ grantType: 'authorization_code', tokenType: 'DPoP' })
    expect(decodeJwt(signedIn.accessToken!).cnf).toEqual({ jkt })

    const before = ctx.stack.api.requests.length
    expect(await callApi()).toBe(200)
    const sent = ctx.stack.api.requests.slice(before)
    expect(sent.map((r) => r.scheme)).toEqual(sent.map(() => 'DPoP'))
    expect(sent.at(-1)).toMatchObject({ status: 200, proofValid: true })
    expect(sent.at(-1)!.jti).toBe(jtiOf(signedIn.accessToken))

    // Rotation, with the same key: a new refresh token, still bound to it.
    const refreshed = await nextRefresh()
    expect(refreshed.tokenType).toBe('DPoP')
    expect(refreshed.refreshToken).toEqual(expect.any(String))
    expect(refreshed.refreshToken).not.toBe(signedIn.refreshToken)
    expect(decodeJwt(refreshed.accessToken!).cnf).toEqual({ jkt })
    const refreshes = appTokenCalls().filter((r) => r.grantType === 'refresh_token')
    expect(refreshes.map((r) => r.dpopProof)).not.toContain(false)

    expect(await callApi('/api/orders')).toBe(200)
    expect(ctx.stack.api.requests.at(-1)).toMatchObject({
      status: 200,
      scheme: 'DPoP',
      proofValid: true,
      jti: jtiOf(refreshed.accessToken),
    })
  })

  it('I13: page script finds the key in IndexedDB only across the redirect, and cannot export its private half', async () => {
    // While the browser is at the provider, the pair waits under its sign-in's state.
    const stored = Object.entries(duringSignIn!.pairs)
    expect(stored.map(([id]) => id)).toEqual([expect.stringMatching(keyId())])
    const [[, pair]] = stored as [[string, StoredKey]]
    expect(pair).toMatchObject({
      extractable: false,
      algorithm: { name: 'ECDSA', namedCurve: 'P-256' },
      exportPrivate: 'InvalidAccessError',
    })
    // The stored pair is the one the tokens are bound to.
    expect(await calculateJwkThumbprint(pair.publicJwk)).toBe(jkt)
    figures.privateKeyExport = pair.exportPrivate
    // Signed in, the engine holds the key in memory: nothing is left in IndexedDB to find.
    expect((await keyStoreOfOrigin()).pairs).toEqual({})
    expect((await readKeyStore(page)).pairs).toEqual({})
  })

  it('I12: the tokens oidc-provider issued are refused from Node, without the key', async () => {
    await nextRefresh()
    const { accessToken, refreshToken } = ctx.stack.idp.lastTokens()
    // Live: the page's own call with this access token goes through.
    expect(await callApi()).toBe(200)
    expect(ctx.stack.api.requests.at(-1)!.jti).toBe(jtiOf(accessToken))
    const tokenCallsBefore = appTokenCalls().length

    const thief = await newDpopKey()
    const asBearer = await fetch(apiUrl(), { headers: { authorization: `Bearer ${accessToken}` } })
    const headers = { authorization: `DPoP ${accessToken}` }
    const asDpop = await fetchWithProof(apiUrl(), thief, { headers }, accessToken)
    const form = {
      grant_type: 'refresh_token',
      refresh_token: refreshToken!,
      client_id: ctx.stack.idp.clientId,
    }
    const bare = await postForm(tokenUrl(), form)
    const body = new URLSearchParams(form)
    const proved = (await fetchWithProof(tokenUrl(), thief, { method: 'POST', body })).response
    const refused = {
      accessTokenAsBearer: asBearer.status,
      accessTokenWithAnotherKey: asDpop.response.status,
      refreshWithoutProof: [bare.status, bare.body.error],
      refreshWithAnotherKey: [proved.status, ((await proved.json()) as { error: string }).error],
    }
    expect(refused).toEqual({
      accessTokenAsBearer: 401,
      accessTokenWithAnotherKey: 401,
      refreshWithoutProof: [400, 'invalid_grant'],
      refreshWithAnotherKey: [400, 'invalid_grant'],
    })
    expect(asDpop.response.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/)
    figures.replayRefused = `${Object.keys(refused).length}/4`

    // Refused for want of the key, not spent: the page's next refresh, with this very token, works.
    const next = () =>
      appTokenCalls()
        .slice(tokenCallsBefore)
        .find((r) => r.grantType === 'refresh_token' && r.error !== 'use_dpop_nonce')
    await expect.poll(next, { timeout: 15_000 }).toBeDefined()
    expect(next()).toMatchObject({ status: 200, dpopProof: true })
  })

  it('I6: sign-out forgets the key: IndexedDB holds no DPoP key, the next sign-in proves a new one', async () => {
    const ids = async () => Object.keys((await readKeyStore(page)).pairs)
    expect(await ids()).toEqual([])
    const from = ctx.stack.idp.requests.length
    await Promise.all([
      page.waitForURL(`${ctx.stack.idp.issuer}/session/end**`),
      page.evaluate(() => void interop.logout()),
    ])
    await Promise.all([
      page.waitForURL(`${ctx.stack.app.origin}/`),
      page.click('button[value="yes"]'),
    ])
    await appReady()

    const left = await ids()
    expect(left).toEqual([])
    figures.keysAfterSignOut = left.length
    // The refresh token was revoked on the way out, bound or not.
    const revocations = ctx.stack.idp.requests
      .slice(from)
      .filter((r) => r.method === 'POST' && r.path === '/token/revocation' && r.origin)
    expect(revocations.map((r) => r.status)).toEqual([200])
  })

  it('I4: a nonce costs one retry, never two, at the provider and at the API', async () => {
    const start = ctx.stack.idp.requests.length
    await signIn()
    // After I6's sign-out, a new key: the sign-in names another thumbprint.
    const named = ctx.stack.idp.requests.slice(start).find((r) => r.path === '/auth')?.dpopJkt
    expect(named).toMatch(/^[\w-]{43}$/)
    expect(named).not.toBe(jkt)
    // Both servers asked for their nonce, and each time the retry with it went through.
    const tokenCodes = appTokenCalls().map((r) => r.error)
    const exchange = appTokenCalls().filter((r) => r.grantType === 'authorization_code')
    expect(exchange.slice(-2).map((r) => [r.status, r.error])).toEqual([
      [400, 'use_dpop_nonce'],
      [200, undefined],
    ])
    expect(longestNonceRun(tokenCodes)).toBe(1)

    // A new nonce at the API: the next call is refused once for it, then sent with the new one.
    const fresh = ctx.stack.api.rotateNonce()
    const from = ctx.stack.api.requests.length
    expect(await callApi()).toBe(200)
    expect(
      ctx.stack.api.requests.slice(from).map((r) => [r.status, r.challenge, r.nonce === fresh]),
    ).toEqual([
      [401, 'use_dpop_nonce', false],
      [200, undefined, true],
    ])
    const apiCodes = pageApiRequests().map((r) => r.challenge)
    expect(longestNonceRun(apiCodes)).toBe(1)
    figures.nonceRetriesToken = tokenCodes.filter((c) => c === 'use_dpop_nonce').length
    figures.nonceRetriesApi = apiCodes.filter((c) => c === 'use_dpop_nonce').length
  })

  it('I5: against an API that refuses every nonce, a call ends with each token sent at most twice', async () => {
    ctx.stack.api.refuseEveryNonce(true)
    const stuckFrom = ctx.stack.api.requests.length
    try {
      pageApiCalls++
      const outcome = await page.evaluate(() =>
        interop.api('/api/me').then(
          (status) => `status ${status}`,
          (error: { code?: string }) => `error ${error.code}`,
        ),
      )
      expect(outcome).toBe('status 401')
      // Nothing more once the call has ended.
      const ended = ctx.stack.api.requests.length
      await page.waitForTimeout(1_000)
      expect(ctx.stack.api.requests.length).toBe(ended)
    } finally {
      ctx.stack.api.refuseEveryNonce(false)
    }
    const stuck = ctx.stack.api.requests.slice(stuckFrom)
    const perToken = new Map<string | undefined, number>()
    for (const r of stuck) perToken.set(r.jti, (perToken.get(r.jti) ?? 0) + 1)
    // Each token with the nonce it had, then with the one the answer named; the 401 may bring
    // one refresh, and so a second token.
    expect(Math.max(...perToken.values())).toBeLessThanOrEqual(2)
    expect(perToken.size).toBeLessThanOrEqual(2)
    figures.requestsWhenEveryNonceRefused = stuck.length
    expect(await callApi()).toBe(200)

    const pageRequests = pageApiRequests()
    console.log(
      `I interop figures: apiCalls=${pageApiCalls} apiRequests=${pageRequests.length} ` +
        `dpopProofs=${pageRequests.filter((r) => r.proofValid).length} ` +
        `tokenRequests=${appTokenCalls().length} ` +
        `tokenRequestsWithProof=${appTokenCalls().filter((r) => r.dpopProof).length} ` +
        `nonceRetriesToken=${figures.nonceRetriesToken} nonceRetriesApi=${figures.nonceRetriesApi} ` +
        `requestsWhenEveryNonceRefused=${figures.requestsWhenEveryNonceRefused} ` +
        `replayRefused=${figures.replayRefused} privateKeyExport=${figures.privateKeyExport} ` +
        `keysAfterSignOut=${figures.keysAfterSignOut}`,
    )
  })
})
