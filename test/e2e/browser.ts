import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, inject } from 'vitest'
import { closeContext, launchChromium, openContext } from './chromium.js'

export { closeContext, launchChromium, openContext }

const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]+/

/** Whether `text` holds one of `tokens`, or anything shaped like a JWT. */
export function holdsToken(text: string, tokens: ReadonlySet<string>): boolean {
  return JWT.test(text) || [...tokens].some((token) => text.includes(token))
}

/**
 * Watches a page: the tokens its network answers carried, the console errors it printed, and
 * everything else it printed (`consoleText`).
 */
export function watchPage(page: Page) {
  const tokens = new Set<string>()
  const consoleErrors: string[] = []
  const consoleText: string[] = []
  page.on('response', async (response) => {
    if (!response.headers()['content-type']?.includes('json')) return
    const body = await response.json().catch(() => undefined)
    for (const key of ['access_token', 'refresh_token', 'id_token']) {
      if (typeof body?.[key] === 'string') tokens.add(body[key])
    }
  })
  page.on('console', (message) => {
    consoleText.push(message.text())
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  return { tokens, consoleErrors, consoleText }
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
  return Object.keys(places).filter((place) => holdsToken(places[place]!, tokens))
}

/** The mock provider's database (IndexedDB, shared by the demo's pages and its token worker). */
export interface MockDb {
  counts: Record<
    'token' | 'code' | 'refresh' | 'revocation' | 'api' | 'dpopNonce' | 'stepUp' | 'mfa',
    number
  >
  /** The DPoP proofs the mock's token endpoint and API saw, oldest first (no token). */
  dpop?: {
    proofs: { server: string; htm: string; htu: string; accepted: boolean; error?: string }[]
  }
  /** SHA-256 (base64url) of every refresh token the mock provider issued. */
  refresh: Record<string, unknown>
  session?: unknown
  accessTokenLifetime: number
  [field: string]: unknown
}

/** Reads the mock provider's database, as the provider's own server would. */
export async function readMockDb(page: Page): Promise<MockDb> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('mock-idp', 1)
      open.onupgradeneeded = () => open.result.createObjectStore('db')
      open.onsuccess = () => resolve(open.result)
      open.onerror = () => reject(open.error)
    })
    const raw = await new Promise<unknown>((resolve, reject) => {
      const get = db.transaction('db', 'readonly').objectStore('db').get('db')
      get.onsuccess = () => resolve(get.result)
      get.onerror = () => reject(get.error)
    })
    db.close()
    return JSON.parse((raw as string | undefined) ?? '{"counts":{},"refresh":{}}')
  })
}

/** Changes the mock provider's database (`change` is the body of a function of `db`), under its lock. */
export async function editMockDb(page: Page, change: string): Promise<void> {
  await page.evaluate(async (code) => {
    await navigator.locks.request('mock-idp:db', async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('mock-idp', 1)
        open.onsuccess = () => resolve(open.result)
        open.onerror = () => reject(open.error)
      })
      const store = () => db.transaction('db', 'readwrite').objectStore('db')
      const raw = await new Promise<string>((resolve) => {
        const get = store().get('db')
        get.onsuccess = () => resolve(get.result)
      })
      const data = JSON.parse(raw)
      new Function('db', code)(data)
      await new Promise((resolve) => {
        store().put(JSON.stringify(data), 'db').onsuccess = resolve
      })
      db.close()
    })
  }, change)
}

/**
 * Ends every token worker (SharedWorker) of the browser, as a browser that does not keep a worker
 * alive past its last page would: through the browser's own DevTools protocol.
 */
export async function endTokenWorkers(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession()
  try {
    const { targetInfos } = await cdp.send('Target.getTargets')
    const workers = targetInfos.filter((t) => t.type === 'shared_worker')
    for (const worker of workers)
      await cdp.send('Target.closeTarget', { targetId: worker.targetId })
    return workers.length
  } finally {
    await cdp.detach()
  }
}

/**
 * The demo served and a Chromium, for one test file: started before its tests, stopped after
 * them, also when one fails.
 */
export function startDemoInChromium() {
  const ctx = {} as { server: Awaited<ReturnType<typeof serveDemo>>; browser: Browser }
  beforeAll(async () => {
    ctx.server = await serveDemo()
    ctx.browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await ctx.browser?.close()
    await ctx.server?.close()
  })
  return ctx
}

/** The demo, as built for this run (demo-build.ts), served on 127.0.0.1 on a free port. */
export async function serveDemo(headers: Record<string, string> = {}) {
  const { fileURLToPath } = await import('node:url')
  const { preview } = await import('vite')
  const root = fileURLToPath(new URL('../../demo', import.meta.url))
  const server = await preview({
    root,
    build: { outDir: inject('demoOutDir') },
    preview: { host: '127.0.0.1', port: 0, headers },
    logLevel: 'warn',
  })
  return { origin: server.resolvedUrls!.local[0]!.replace(/\/$/, ''), close: () => server.close() }
}

/**
 * Signs the demo out from `page` and waits for the whole way out: the mock provider's end-session
 * page, then back at the app's `/`. (The page is at `/` already when it starts: waiting for that
 * URL alone would return at once, and end the test mid-navigation.)
 */
export async function signOutOfDemo(page: Page, origin: string): Promise<void> {
  await Promise.all([
    page.waitForURL(/\/mock-idp\/logout\?/),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ])
  await page.waitForURL(`${origin}/`)
}
