import { createMockProvider, type MockAnswer, type MockProviderOptions } from '@spa-auth/mocks'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import {
  type AuthClientOptions,
  AuthError,
  type AuthEvent,
  createAuthClient,
  type TokenWorkerOption,
} from './index.js'
import { portWorker } from './port.test-util.js'

/**
 * One provider database for every page load of a test, as a real provider keeps its sessions:
 * hand it to `setup` as the mock's options. Each test starts with an empty one.
 */
export function keptProvider(): Pick<MockProviderOptions, 'persist'> {
  let saved: string | null = null
  beforeEach(() => {
    saved = null
  })
  return {
    persist: {
      load: () => saved,
      save: (value: string) => {
        saved = value
      },
    },
  }
}

/**
 * Where the engine runs in this run of the suite: in the page (`page`, what a browser without
 * workers gets), or behind a port, as in a token worker (`port`: the same tests, every request and
 * answer structured-cloned across a real MessageChannel).
 */
export const ENGINE = process.env.SPA_AUTH_ENGINE === 'port' ? 'port' : 'page'

export const APP = 'https://app.example.com'
export const ISSUER = 'https://idp.example.com'
export const API = 'https://api.example.com'
export const CLIENT_ID = 'spa'

/** One MSW server per test file: the network every test talks to. */
export const server = setupServer()
const issued = new Set<string>()

/** Every request sent in this test, as `METHOD url`, oldest first; a test may empty it. */
export const sentRequests: string[] = []
server.events.on('request:start', ({ request }) => {
  sentRequests.push(`${request.method} ${request.url}`)
})

/** Requests to the provider's token endpoint in this test so far. */
export function tokenRequests(): number {
  return sentRequests.filter((r) => r === `POST ${ISSUER}/token`).length
}

/** The AuthError `promise` rejects with; fails the test when it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => new Error('resolved, but a rejection was expected'),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AuthError)
  return error as AuthError
}

server.events.on('response:mocked', async ({ response }) => {
  if (!response.headers.get('content-type')?.includes('json')) return
  const body = await response
    .clone()
    .json()
    .catch(() => undefined)
  for (const key of ['access_token', 'refresh_token', 'id_token']) {
    if (typeof body?.[key] === 'string' && body[key]) issued.add(body[key])
  }
})

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  sessionStorage.clear()
  localStorage.clear()
  history.replaceState(null, '', `${APP}/`)
  issued.clear()
  sentRequests.length = 0
})
afterAll(() => server.close())

/** Every token the mock network handed out in this test. */
export function issuedTokens(): string[] {
  return [...issued]
}

/** The places a token must never be: returns those where one of the issued tokens is. */
export function placesHoldingTokens(extra: Record<string, unknown> = {}): string[] {
  const places: Record<string, string> = {
    sessionStorage: JSON.stringify({ ...sessionStorage }),
    localStorage: JSON.stringify({ ...localStorage }),
    cookies: document.cookie,
    url: location.href,
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, serialize(v)])),
  }
  return Object.keys(places).filter((place) =>
    issuedTokens().some((t) => places[place]!.includes(t)),
  )
}

function serialize(value: unknown): string {
  const seen = new WeakSet()
  return JSON.stringify(value, (_key, v) => {
    if (v instanceof Error)
      return { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause }
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return undefined
      seen.add(v)
    }
    return v
  })
}

/**
 * Another tab of the same client, on the token worker `worker` (see port.test-util): its own
 * page client, the same engine. Returns it and the URLs it navigated to.
 */
export function otherTab(
  worker: { factory: TokenWorkerOption },
  options: Partial<AuthClientOptions> = {},
) {
  const navigations: string[] = []
  const auth = createAuthClient({
    ...clientOptions(navigations),
    tokenWorker: worker.factory,
    ...options,
  })
  return { auth, navigations }
}

/** The client options of every test page: the mock provider, navigations recorded. */
export function clientOptions(navigations: string[]): AuthClientOptions {
  return {
    issuer: ISSUER,
    clientId: CLIENT_ID,
    redirectUri: `${APP}/callback`,
    apiOrigins: [API],
    navigate: (url) => navigations.push(url),
    // jsdom loads no frames: a silent sign-in would only wait for its timeout.
    restore: { silent: false },
  }
}

/** A mock provider on the MSW server, a client for it, and a sign-in helper. */
export function setup(
  options: Partial<AuthClientOptions> = {},
  mock: Partial<MockProviderOptions> = {},
) {
  const idp = createMockProvider({ issuer: ISSUER, apiOrigin: API, clientId: CLIENT_ID, ...mock })
  server.use(...idp.handlers)
  const navigations: string[] = []
  const events: AuthEvent[] = []
  const worker =
    ENGINE === 'port' ? portWorker(options.clock ? { clock: options.clock } : {}) : undefined
  const auth = createAuthClient({
    ...clientOptions(navigations),
    ...(worker ? { tokenWorker: worker.factory } : {}),
    ...options,
  })
  // The lifecycle's events; where the session is kept (`connected`) is the link's, said once.
  auth.on((event) => {
    if (event.type !== 'connected') events.push(event)
  })

  /** Starts a login and returns the provider's redirect back to the app, without following it. */
  async function authorizeRedirect(user: MockAnswer = {}) {
    await auth.login({ returnTo: '/orders' })
    return idp.authorize(navigations.at(-1)!, user)
  }

  /** Signs in through the whole redirect, as a browser would. */
  async function signIn(user: { sub?: string } = {}) {
    const callback = await authorizeRedirect(user)
    history.replaceState(null, '', callback)
    return auth.handleCallback()
  }

  return { idp, auth, navigations, events, authorizeRedirect, signIn, worker }
}
