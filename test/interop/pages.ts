import type { Browser, Page } from 'playwright-core'
import { openContext } from '../e2e/chromium.js'

/** Which of the provider's pages a sign-in went through. */
export type ProviderPrompt = 'login' | 'consent'

/** A page in a fresh browser context (its own cookies: no provider session yet). */
export async function freshPage(browser: Browser): Promise<Page> {
  const context = await openContext(browser)
  // The provider's pages @import a web font; this machine has no Internet: an empty style sheet.
  await context.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) =>
    route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
  )
  return context.newPage()
}

/** Runs `action` and waits until the page has left `page.url()` (after any redirects). */
async function leave(page: Page, action: () => Promise<unknown>): Promise<void> {
  const before = page.url()
  await Promise.all([page.waitForURL((url) => url.href !== before), action()])
}

/** The prompt of the provider's interaction page the browser is on. */
async function promptOf(page: Page): Promise<ProviderPrompt> {
  // devInteractions' forms carry the prompt in a hidden input: attached, never visible.
  const input = await page.waitForSelector('input[name="prompt"]', { state: 'attached' })
  const prompt = await input.getAttribute('value')
  if (prompt !== 'login' && prompt !== 'consent') throw new Error(`unknown prompt ${prompt}`)
  return prompt
}

/** Options of {@link passProviderPages}. */
export interface ProviderPass {
  issuer: string
  appOrigin: string
  /** Any login works with devInteractions; `alice` and `bob` get full names. */
  login?: string
  /** Abort at the consent page ("[ Cancel ]"), which answers `access_denied`. */
  denyConsent?: boolean
  /** Run once the browser is at the provider's first page, the sign-in under way. */
  atProvider?: () => Promise<unknown>
}

/**
 * Runs `start` (what sends the app to the provider), then goes through the provider's real pages
 * until the browser is back on the app: the login form when it asks (the provider has no
 * session), the consent form when it asks (no grant yet). Returns the pages, in order.
 */
export async function passProviderPages(
  page: Page,
  start: () => Promise<unknown>,
  pass: ProviderPass,
): Promise<ProviderPrompt[]> {
  const shown: ProviderPrompt[] = []
  const onApp = (url: URL) => url.origin === pass.appOrigin
  await leave(page, start)
  await pass.atProvider?.()
  while (!onApp(new URL(page.url()))) {
    const prompt = await promptOf(page)
    shown.push(prompt)
    if (prompt === 'login') {
      await page.fill('input[name="login"]', pass.login ?? 'alice')
      await page.fill('input[name="password"]', 'any password')
      await leave(page, () => page.click('button[type="submit"]'))
    } else if (pass.denyConsent) {
      await leave(page, () => page.click('a[href$="/abort"]'))
    } else {
      await leave(page, () => page.click('button[type="submit"]'))
    }
  }
  return shown
}

/** A form POST from Node to the provider, as another client (or an attacker) would make it. */
export async function postForm(url: string, form: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form) })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}
