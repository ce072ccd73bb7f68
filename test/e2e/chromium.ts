import type { Browser, BrowserContext, BrowserContextOptions, Request } from 'playwright-core'
import { chromium } from 'playwright-core'

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export function launchChromium(options: { popupBlocking?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Playwright turns the popup blocker off; a test of what it blocks turns it back on.
    ...(options.popupBlocking ? { ignoreDefaultArgs: ['--disable-popup-blocking'] } : {}),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

// The requests each context opened here still has on the wire: what a stuck close names.
const onTheWire = new WeakMap<BrowserContext, Set<Request>>()

/** A new context whose requests are followed, for {@link closeContext} to name. */
export async function openContext(
  browser: Browser,
  options?: BrowserContextOptions,
): Promise<BrowserContext> {
  const context = await browser.newContext(options)
  const requests = new Set<Request>()
  context.on('request', (request) => requests.add(request))
  context.on('requestfinished', (request) => requests.delete(request))
  context.on('requestfailed', (request) => requests.delete(request))
  onTheWire.set(context, requests)
  return context
}

const CLOSE_MS = 15_000

/**
 * Closes a context within a bounded time, or fails saying what kept it open: its pages and the
 * requests still on the wire. Chromium does not dispose of a context while its service worker
 * (MSW's) waits for a page to answer a fetch, so a test must let every navigation it set off
 * (a sign-out through the provider) finish before it ends; this says so when one did not.
 */
export async function closeContext(context: BrowserContext): Promise<void> {
  const pages = context.pages().map((page) => page.url())
  const pending = [...(onTheWire.get(context) ?? [])].map((r) => `${r.method()} ${r.url()}`)
  let timer: ReturnType<typeof setTimeout> | undefined
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `The browser context did not close within ${CLOSE_MS / 1000} s. Pages: ${pages.join(', ') || 'none'}. ` +
              `On the wire when the close began: ${pending.join(', ') || 'nothing'}. ` +
              'A navigation still going through the service worker keeps Chromium from closing it: wait for it in the test.',
          ),
        ),
      CLOSE_MS,
    )
  })
  try {
    await Promise.race([context.close(), stuck])
  } finally {
    clearTimeout(timer)
  }
}
