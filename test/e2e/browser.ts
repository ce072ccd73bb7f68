import { type Browser, chromium, type Page } from 'playwright-core'

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
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

const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]+/

/**
 * Watches a page: the tokens its network answers carried, and the console errors it printed.
 */
export function watchPage(page: Page) {
  const tokens = new Set<string>()
  const consoleErrors: string[] = []
  page.on('response', async (response) => {
    if (!response.headers()['content-type']?.includes('json')) return
    const body = await response.json().catch(() => undefined)
    for (const key of ['access_token', 'refresh_token', 'id_token']) {
      if (typeof body?.[key] === 'string') tokens.add(body[key])
    }
  })
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  return { tokens, consoleErrors }
}

/**
 * Where a token of the app's origin could persist: Web Storage, IndexedDB, cookies, Cache
 * Storage, the URL. Returns the places holding one of `tokens` or anything shaped like a JWT.
 */
export async function placesHoldingTokens(page: Page, tokens: Set<string>): Promise<string[]> {
  const dump = await page.evaluate(async () => {
    const idb = (await indexedDB.databases?.()) ?? []
    return {
      localStorage: JSON.stringify({ ...localStorage }),
      sessionStorage: JSON.stringify({ ...sessionStorage }),
      indexedDB: JSON.stringify(idb.map((db) => db.name)),
      cacheStorage: JSON.stringify(await caches.keys()),
      cookies: document.cookie,
      url: location.href,
    }
  })
  const cookies = JSON.stringify(await page.context().cookies())
  const places: Record<string, string> = { ...dump, contextCookies: cookies }
  return Object.keys(places).filter((place) => {
    const text = places[place]!
    return JWT.test(text) || [...tokens].some((token) => text.includes(token))
  })
}

/** The demo, built into its own folder (`name`) and served on 127.0.0.1 on a free port. */
export async function serveDemo(name: string, headers: Record<string, string> = {}) {
  const { fileURLToPath } = await import('node:url')
  const { build, preview } = await import('vite')
  const root = fileURLToPath(new URL('../../demo', import.meta.url))
  const outDir = fileURLToPath(new URL(`../../node_modules/.cache/${name}`, import.meta.url))
  await build({ root, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
  const server = await preview({
    root,
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, headers },
    logLevel: 'warn',
  })
  return { origin: server.resolvedUrls!.local[0]!.replace(/\/$/, ''), close: () => server.close() }
}
