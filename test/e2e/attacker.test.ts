// F5: a script in the page before the app, against the demo on its mock provider. It patches
// every reader and channel of the page's realm and opens its own port to the token worker; the
// refresh tokens the provider issued (its own records: hashes of each) must never reach it. The
// same run with the session kept in the page shows what that fallback exposes.
import { createHash } from 'node:crypto'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { installAttacker } from './attacker.js'
import {
  closeContext,
  editMockDb,
  openContext,
  readMockDb,
  signOutOfDemo,
  startDemoInChromium,
} from './browser.js'

const demo = startDemoInChromium()

const statusOf = (page: Page) => page.getByTestId('status').textContent()

/** The token-like runs of characters in what the attacker saw (a token sits in quotes or a form). */
function candidates(seen: Set<string>): Set<string> {
  return new Set([...seen].flatMap((text) => text.match(/[\w-]{20,}/g) ?? []))
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url')

/** The JWTs the attacker saw, by their `typ`: `at+jwt` (access tokens) or `JWT` (ID tokens). */
function jwtsByType(seen: Set<string>): Record<string, number> {
  const found = new Set([...seen].flatMap((text) => text.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? []))
  const types: Record<string, number> = {}
  for (const jwt of found) {
    const typ = String(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).typ)
    types[typ] = (types[typ] ?? 0) + 1
  }
  return types
}

describe.each([
  { mode: 'the token worker', noWorkers: false },
  { mode: 'the in-page fallback', noWorkers: true },
])('F5: a page script that patches every reader and channel, against $mode', ({ noWorkers }) => {
  it('F5: E5: E6: through sign-in, 3 refreshes, a second tab, a reload and sign-out', async () => {
    const context = await openContext(demo.browser)
    try {
      const attacker = await installAttacker(context, { noWorkers })
      const page = await context.newPage()
      await page.goto(demo.server.origin)
      await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('unauthenticated')
      await editMockDb(page, 'db.accessTokenLifetime = 10')
      await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      await page.waitForURL(/\/mock-idp\/authorize\?/)
      await page.getByRole('button', { name: 'Continue' }).click()
      await expect.poll(() => statusOf(page)).toBe('Signed in as Alice Martin')

      // Three refreshes of the 10 s tokens (each 5 s before expiry).
      await expect
        .poll(async () => (await readMockDb(page)).counts.refresh, { timeout: 30_000 })
        .toBeGreaterThanOrEqual(3)

      // Every kind of message, forged, on the attacker's own port to the worker.
      const before = await readMockDb(page)
      const answers = (await page.evaluate(() =>
        (globalThis as unknown as { __attackerForge(): Promise<unknown[]> }).__attackerForge(),
      )) as { id: number; ok: boolean; error?: { code: string } }[]
      const after = await readMockDb(page)
      if (!noWorkers) {
        // Answered: hello, token, token, check, authorize, and a hello with an own `__proto__`
        // key (read as the hello it is, not as a sign-out); the forged callbacks refused.
        expect(
          answers
            .filter((a) => a.ok)
            .map((a) => a.id)
            .sort(),
        ).toEqual([9001, 9002, 9003, 9004, 9005, 9011])
        // A transaction of the attacker's own: not a sign-in the worker started, refused before
        // any token request (H25).
        expect(answers.find((a) => a.id === 9006)).toMatchObject({
          ok: false,
          error: { code: 'callback_invalid' },
        })
        expect(answers.find((a) => a.id === 9007)).toMatchObject({
          ok: false,
          error: { code: 'callback_invalid' },
        })
        // The malformed and the planting ones refused, by an answer to their id: nothing done.
        for (const id of [9008, 9010]) {
          expect(answers.find((a) => a.id === id)).toMatchObject({
            ok: false,
            error: { code: 'invalid_options' },
          })
        }
        // Another protocol version's is not ours to answer.
        expect(answers.some((a) => a.id === 9009)).toBe(false)
        expect(after.counts.code).toBe(before.counts.code)
      }
      expect(await statusOf(page)).toBe('Signed in as Alice Martin')
      await page.getByRole('button', { name: 'Call the API' }).click()
      await expect.poll(() => page.getByTestId('result').textContent()).toBe('GET /api/me → 200')

      const second = await context.newPage()
      await second.goto(demo.server.origin)
      await expect
        .poll(() => statusOf(second), { timeout: 15_000 })
        .toBe('Signed in as Alice Martin')
      await page.reload()
      await expect.poll(() => statusOf(page), { timeout: 15_000 }).toBe('Signed in as Alice Martin')
      await signOutOfDemo(page, demo.server.origin)
      await expect.poll(() => statusOf(page)).toBe('unauthenticated')
      await expect.poll(() => statusOf(second)).toBe('unauthenticated')

      const issued = new Set(Object.keys((await readMockDb(second)).refresh))
      const refreshTokensSeen = [...candidates(attacker.seen)].filter((c) => issued.has(sha256(c)))
      const jwts = jwtsByType(attacker.seen)
      console.log(
        `F5 figures: mode=${noWorkers ? 'in-page' : 'token-worker'} stringsSeen=${attacker.seen.size} ` +
          `refreshTokensIssued=${issued.size} refreshTokensSeenByPageScript=${refreshTokensSeen.length} ` +
          `accessTokensSeen=${jwts['at+jwt'] ?? 0} idTokensSeen=${jwts.JWT ?? 0} forgedMessages=13`,
      )
      // One at sign-in, one at each of the three refreshes (more where each tab has its own).
      expect(issued.size).toBeGreaterThanOrEqual(4)
      if (noWorkers) {
        // What the in-page fallback exposes: the refresh tokens, read from the token endpoint's
        // answers through the page's own `Response` and `JSON`.
        expect(refreshTokensSeen.length).toBeGreaterThan(0)
      } else {
        expect(refreshTokensSeen).toEqual([])
        expect(jwts.JWT ?? 0).toBe(0)
      }
    } finally {
      await closeContext(context)
    }
  })
})
