// The ways of calling an API with a token that the overhead bench compares, each over the same
// transport: used in Node (bench/overhead-child.ts) and in Chromium (bench/browser.ts).
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client'
import { createAuthClient, defineApis } from '@spa-auth/core'
import axios from 'axios'
import ky from 'ky'
import { authFetchDpop, DPOP_TOKEN } from './dpop.js'
import { auth0Dpop } from './dpop-auth0.js'
import { signatureFloor } from './dpop-floor.js'
import { oidcClientDpop } from './dpop-oidc-client-ts.js'
import { APP, CLIENT_ID, createBenchProvider, ISSUER, memoryStorage } from './provider.js'
import { API, authorizationOf, type Caller } from './transport.js'

/** The baseline first: calling the transport directly, no token; then Bearer, then DPoP. */
export const CALLERS = [
  'fetch (transport)',
  'auth.fetch (Bearer)',
  'ky + beforeRequest hook',
  'axios + request interceptor',
  '@badgateway/oauth2-client OAuth2Fetch',
  'auth.fetch (DPoP)',
  'oidc-client-ts dpopProof() (DPoP)',
  'auth0-spa-js fetchWithAuth() (DPoP)',
  'WebCrypto ES256 sign (DPoP floor)',
  'WebCrypto SHA-256 + ES256 sign',
  'auth.fetch (Bearer, 1 API of its own)',
  'auth.fetch (Bearer, 10 APIs)',
] as const

export type CallerName = (typeof CALLERS)[number]

/** The callers that send `Authorization: DPoP` and a proof: the floors among them. */
export const DPOP_CALLERS: ReadonlySet<CallerName> = new Set(CALLERS.slice(5, 10))

/** `auth.fetch` with APIs of `defineApis()`, each with a token of its own. */
export const API_CALLERS: ReadonlySet<CallerName> = new Set(CALLERS.slice(10))

/** The floor that spa-auth's DPoP call is held to: the one signature a proof needs. */
export const DPOP_FLOOR: CallerName = 'WebCrypto ES256 sign (DPoP floor)'

/** Callers that cannot run in Node (see bench/dpop-auth0.ts): measured in Chromium only. */
export const BROWSER_ONLY: ReadonlySet<CallerName> = new Set([
  'auth0-spa-js fetchWithAuth() (DPoP)',
])

/** The in-process transport: answers at once, and notes the header it was sent. */
export function createTransport() {
  const seen = { authorization: null as string | null }
  const transport: typeof fetch = async (input, init) => {
    seen.authorization = authorizationOf(input, init)
    return new Response('ok')
  }
  return { transport, seen }
}

const never = () => Promise.reject(new Error('the overhead bench must not refresh'))

/** A signed-in `auth.fetch` whose token stays valid for the whole run. */
function authFetch(transport: typeof fetch) {
  const auth = createAuthClient({
    apiOrigins: ['https://api.example.com'],
    fetch: transport,
    tokenSource: { refresh: never },
  })
  auth.setTokens({ access_token: 'x', expires_in: 3600 })
  return { call: () => auth.fetch(API), dispose: () => auth.dispose() }
}

/**
 * `auth.fetch` with `count` APIs of their own, signed in through the bench's provider; the timed
 * call goes to the API whose URL is matched last (the shortest prefix), after its first call got
 * its token. The engine runs in the page, as with the other callers.
 */
async function authFetchApis(transport: typeof fetch, count: number): Promise<Caller> {
  const provider = createBenchProvider('x', { dpop: false })
  let route = provider.transport
  const navigations: string[] = []
  const others = Array.from({ length: count - 1 }, (_, i) => [
    `api${i + 1}`,
    { url: `https://api.example.com/v${i + 1}/`, resource: `https://api.example.com/v${i + 1}` },
  ])
  const auth = createAuthClient({
    issuer: ISSUER,
    clientId: CLIENT_ID,
    redirectUri: `${APP}/callback`,
    scope: 'api',
    discovery: 'oidc',
    apis: defineApis({
      ...Object.fromEntries(others),
      api0: { url: 'https://api.example.com', resource: 'https://api.example.com' },
    }),
    tokenWorker: false,
    crossTab: false,
    restore: { silent: false },
    storage: memoryStorage(),
    navigate: (url) => navigations.push(url),
    fetch: (input, init) => route(input, init),
  })
  await auth.ready()
  await auth.login()
  await auth.handleCallback(provider.authorize(navigations[0]!))
  // The API's first call makes its token request; the timed ones go to the transport alone.
  await auth.fetch(API)
  route = transport
  return { call: () => auth.fetch(API), dispose: () => auth.dispose() }
}

/** ky with the hook its documentation gives for a bearer token. */
function kyHook(transport: typeof fetch) {
  const api = ky.create({
    fetch: transport,
    hooks: { beforeRequest: [(request) => request.headers.set('Authorization', 'Bearer x')] },
  })
  return { call: () => api.get(API), dispose: () => {} }
}

/** axios on its fetch adapter over the same transport, the token set by an interceptor. */
function axiosInterceptor(transport: typeof fetch) {
  const api = axios.create({ adapter: 'fetch', env: { fetch: transport } })
  api.interceptors.request.use((config) => {
    config.headers.set('Authorization', 'Bearer x')
    return config
  })
  return { call: () => api.get(API), dispose: () => {} }
}

/** OAuth2Fetch's middleware, with the transport as its `next`, its token never due. */
function badgateway(transport: typeof fetch) {
  const wrapper = new OAuth2Fetch({
    client: new OAuth2Client({ clientId: 'bench', server: ISSUER }),
    scheduleRefresh: false,
    getNewToken: () => ({ accessToken: 'x', refreshToken: null, expiresAt: null }),
  })
  const mw = wrapper.mw()
  // What `OAuth2Fetch.fetch` does, with our transport where it calls the global `fetch`.
  return { call: () => mw(new Request(API), transport), dispose: () => {} }
}

const MAKERS: Record<CallerName, (transport: typeof fetch) => Caller | Promise<Caller>> = {
  'fetch (transport)': (transport) => ({ call: () => transport(API), dispose: () => {} }),
  'auth.fetch (Bearer)': authFetch,
  'ky + beforeRequest hook': kyHook,
  'axios + request interceptor': axiosInterceptor,
  '@badgateway/oauth2-client OAuth2Fetch': badgateway,
  'auth.fetch (DPoP)': authFetchDpop,
  'oidc-client-ts dpopProof() (DPoP)': oidcClientDpop,
  'auth0-spa-js fetchWithAuth() (DPoP)': auth0Dpop,
  'WebCrypto ES256 sign (DPoP floor)': (transport) => signatureFloor(transport, false),
  'WebCrypto SHA-256 + ES256 sign': (transport) => signatureFloor(transport, true),
  'auth.fetch (Bearer, 1 API of its own)': (transport) => authFetchApis(transport, 1),
  'auth.fetch (Bearer, 10 APIs)': (transport) => authFetchApis(transport, 10),
}

/**
 * The caller `name` over `transport`, checked first: a bench that measured a call without the
 * token would flatter the wrapper.
 */
export async function createCaller(
  name: CallerName,
  created: ReturnType<typeof createTransport>,
): Promise<Caller> {
  const caller = await MAKERS[name](created.transport)
  created.seen.authorization = null
  await caller.call()
  const scheme = DPOP_CALLERS.has(name) ? `DPoP ${DPOP_TOKEN}` : 'Bearer x'
  const expected = name === CALLERS[0] ? null : scheme
  if (created.seen.authorization !== expected) {
    throw new Error(`overhead: ${name} sent Authorization ${String(created.seen.authorization)}`)
  }
  return caller
}
