// Step-up (RFC 9470) in the demo, in Chromium: the API asks for a second factor, the user signs
// in again with one, and the demo finishes the transfer; with Bearer tokens and with DPoP.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MOCK_MFA_ACR, MOCK_STEP_UP_MAX_AGE } from '@spa-auth/mocks'
import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import {
  closeContext,
  holdsToken,
  openContext,
  placesHoldingTokens,
  readMockDb,
  startDemoInChromium,
  watchPage,
} from './browser.js'

const shots = fileURLToPath(new URL('../../test-results/e2e', import.meta.url))
const demo = startDemoInChromium()

let context: BrowserContext | undefined
afterEach(async () => {
  if (context) await closeContext(context)
  context = undefined
})

/** A fresh profile (its own service worker, IndexedDB and token worker) on the demo. */
async function openDemo() {
  context = await openContext(demo.browser)
  const page = await context.newPage()
  const watched = watchPage(page)
  await page.goto(demo.server.origin)
  await expect.poll(() => status(page).textContent(), { timeout: 15_000 }).toBe('unauthenticated')
  return { page, watched }
}

const status = (page: Page) => page.getByTestId('status')
const timelineTexts = (page: Page) => page.getByTestId('timeline').locator('li').allTextContents()
const countIn = async (page: Page, text: RegExp) =>
  (await timelineTexts(page)).filter((line) => text.test(line)).length

async function signIn(page: Page) {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.waitForURL(/\/mock-idp\/authorize\?/)
  await page.getByLabel('Alice Martin').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await expect.poll(() => status(page).textContent()).toBe('Signed in as Alice Martin')
}

/** Turns DPoP on from the signed-in screen: the demo signs out and comes back to its start. */
async function turnDpopOn(page: Page) {
  const dpop = page.getByLabel('Bind tokens to this browser (DPoP)')
  await expect(dpop.isChecked()).resolves.toBe(false)
  await Promise.all([page.waitForURL(/\/mock-idp\/logout\?/), dpop.check()])
  await expect.poll(() => status(page).textContent(), { timeout: 15_000 }).toBe('unauthenticated')
  await expect(page.getByLabel('Bind tokens to this browser (DPoP)').isChecked()).resolves.toBe(
    true,
  )
  await page.getByLabel('Server nonces').check()
  await expect.poll(async () => (await readMockDb(page)).faults).toEqual({ dpopNonce: true })
}

/**
 * Transfer → the challenge → no token request for it → Confirm → the provider's second factor →
 * back on the demo, which finishes the transfer. Returns what it measured.
 */
async function transferWithStepUp(page: Page, shot: string) {
  const before = (await readMockDb(page)).counts
  await page.getByRole('button', { name: 'Transfer €100 (needs a second factor)' }).click()
  const box = page.getByTestId('step-up')
  await box.waitFor()
  const asked = (await box.textContent()) ?? ''
  expect(asked).toContain(MOCK_MFA_ACR)
  expect(asked).toContain(`${MOCK_STEP_UP_MAX_AGE} s`)
  mkdirSync(shots, { recursive: true })
  await page.screenshot({ path: `${shots}/${shot}-challenge.png`, fullPage: true })
  // The challenge is no reason to refresh: neither the page nor the token worker asked for a token.
  const challenged = (await readMockDb(page)).counts
  const tokenRequests = challenged.token - before.token
  const refreshes = challenged.refresh - before.refresh
  expect({ tokenRequests, refreshes, challenges: challenged.stepUp - before.stepUp }).toEqual({
    tokenRequests: 0,
    refreshes: 0,
    challenges: 1,
  })

  const started = Date.now()
  await page.getByRole('button', { name: 'Confirm it’s you' }).click()
  await page.waitForURL(/\/mock-idp\/authorize\?/)
  const request = new URL(page.url()).searchParams
  expect([request.get('acr_values'), request.get('max_age')]).toEqual([
    MOCK_MFA_ACR,
    String(MOCK_STEP_UP_MAX_AGE),
  ])
  await page.getByLabel('Alice Martin').check()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByLabel('Enter the code from your authenticator').fill('123456')
  await page.getByRole('button', { name: 'Verify' }).click()
  await expect
    .poll(() => page.getByTestId('transfer-result').textContent(), { timeout: 15_000 })
    .toMatch(/^Transfer done: €100 to savings \(T-[\w-]+\)$/)
  const stepUpMs = Date.now() - started
  // The marker that brought the user back is gone once acted on.
  expect(new URL(page.url()).search).toBe('')
  expect(await countIn(page, /Transfer done/)).toBe(1)
  expect((await readMockDb(page)).counts.mfa - before.mfa).toBe(1)
  return {
    stepUpMs,
    refreshesCausedByChallenge: refreshes,
    tokenRequestsCausedByChallenge: tokenRequests,
  }
}

/** No token in storage, on screen (the timeline included) or in the console; no stray error. */
async function expectCleanPage(page: Page, watched: ReturnType<typeof watchPage>) {
  expect(await placesHoldingTokens(page, watched.tokens)).toEqual([])
  const shown = [...(await timelineTexts(page)), (await page.textContent('body')) ?? '']
  expect(shown.filter((text) => holdsToken(text, watched.tokens))).toEqual([])
  expect(watched.consoleText.filter((text) => holdsToken(text, watched.tokens))).toEqual([])
  // The 401s the API answered (the challenge, a nonce asked for), and MSW's service worker
  // losing a race as its last page leaves for the provider (see demo.test.ts).
  const expected = [
    /Failed to load resource: the server responded with a status of 401/,
    /^Failed to update a ServiceWorker for scope .*mockServiceWorker\.js'\): Not found$/,
  ]
  expect(watched.consoleErrors.filter((text) => !expected.some((re) => re.test(text)))).toEqual([])
}

/** Transfer, then Cancel in the "Confirm it's you" box: nothing moves, the box goes. */
async function transferDeclined(page: Page) {
  await page.getByRole('button', { name: 'Transfer €100 (needs a second factor)' }).click()
  await page.getByTestId('step-up').waitFor()
  await page.getByRole('button', { name: 'Cancel' }).click()
  await expect
    .poll(() => page.getByTestId('transfer-result').textContent())
    .toBe('Transfer cancelled')
  expect(await page.getByTestId('step-up').count()).toBe(0)
}

describe('step-up in the demo, in Chromium', () => {
  it('I14: step-up end to end in the demo: the API asks for a second factor, the user confirms, the transfer goes through', async () => {
    const { page, watched } = await openDemo()
    await signIn(page)
    await transferDeclined(page)
    const measured = await transferWithStepUp(page, 'demo-bearer')
    expect(await countIn(page, /DPoP proof/)).toBe(0)
    await expectCleanPage(page, watched)
    console.log(
      `I14 figures: dpop=off stepUpMs=${measured.stepUpMs} ` +
        `refreshesCausedByChallenge=${measured.refreshesCausedByChallenge} ` +
        `tokenRequestsCausedByChallenge=${measured.tokenRequestsCausedByChallenge}`,
    )
  }, 60_000)

  it('I14: with DPoP and server nonces on, the same step-up; every proof in the timeline, POST /api/transfer among them', async () => {
    const { page, watched } = await openDemo()
    await signIn(page)
    await turnDpopOn(page)
    await signIn(page)
    const origin = demo.server.origin
    // The code exchange went through the nonce dance: no nonce, asked, with the nonce.
    expect(
      await countIn(page, new RegExp(`DPoP proof: POST ${origin}/mock-idp/token\\s*no nonce`)),
    ).toBe(1)
    expect(await countIn(page, /The server asked for its DPoP nonce/)).toBeGreaterThanOrEqual(1)

    const measured = await transferWithStepUp(page, 'demo-dpop')
    // Back from the provider, a new page: its first proof to the API has no nonce and is
    // refused once (use_dpop_nonce); the second carries the API's nonce.
    const transfer = `DPoP proof: POST ${origin}/api/transfer`
    expect(await countIn(page, new RegExp(`${transfer}\\s*no nonce`))).toBe(1)
    expect(await countIn(page, new RegExp(`${transfer}\\s*carries the server's nonce`))).toBe(1)
    // The servers' side: every transfer proof, the one before the step-up too, and its answer.
    const db = await readMockDb(page)
    const proofs = db.dpop?.proofs ?? []
    const atApi = proofs.filter((p) => p.server === 'api' && p.htu === `${origin}/api/transfer`)
    expect(atApi.filter((p) => p.accepted).length).toBe(2)
    expect(atApi.filter((p) => p.error === 'use_dpop_nonce').length).toBe(2)
    await expectCleanPage(page, watched)

    await page.screenshot({ path: `${shots}/demo-dpop-transfer.png`, fullPage: true })
    console.log(
      `I14 figures: dpop=on nonces=on stepUpMs=${measured.stepUpMs} ` +
        `refreshesCausedByChallenge=${measured.refreshesCausedByChallenge} ` +
        `tokenRequestsCausedByChallenge=${measured.tokenRequestsCausedByChallenge} ` +
        `proofsInTimeline=${await countIn(page, /DPoP proof:/)} proofsAtServers=${proofs.length} ` +
        `transferProofsAtApi=${atApi.length} nonceAnswers=${db.counts.dpopNonce}`,
    )
  }, 90_000)
})
