// The DPoP caller of the overhead bench: a client signed in with `dpop: true` through the whole
// redirect, so the engine makes the key and the session carries it, as in an app. The proofs are
// the SDK's own: the point is to time them.
import { createAuthClient } from '@spa-auth/core'
import { verifyProof } from './proof.js'
import { APP, CLIENT_ID, createBenchProvider, ISSUER, memoryStorage } from './provider.js'
import { API, type Caller } from './transport.js'

/** The access token, the same as the Bearer callers send. */
export const DPOP_TOKEN = 'x'

/** The DPoP header a `fetch` call carries: a record (auth.fetch's common call) or a `Request`. */
export function proofOf(input: RequestInfo | URL, init?: RequestInit): string | null {
  if (input instanceof Request) return input.headers.get('dpop')
  return new Headers(init?.headers).get('dpop')
}

/** What the first timed call's proof must say: this call, this token, the key it is bound to. */
export const apiProof = (jkt: string) => ({ htm: 'GET', htu: API, accessToken: DPOP_TOKEN, jkt })

/**
 * `auth.fetch` with DPoP over `transport`: signed in through the bench's provider, its first
 * call's proof checked, then every call to the transport alone.
 */
export async function authFetchDpop(transport: typeof fetch): Promise<Caller> {
  const provider = createBenchProvider(DPOP_TOKEN)
  let route = provider.transport
  const navigations: string[] = []
  const auth = createAuthClient({
    issuer: ISSUER,
    clientId: CLIENT_ID,
    redirectUri: `${APP}/callback`,
    scope: 'api',
    discovery: 'oidc',
    apiOrigins: ['https://api.example.com'],
    dpop: true,
    // The engine in the page, as with the Bearer client's token source: no worker in between.
    tokenWorker: false,
    crossTab: false,
    restore: { silent: false },
    storage: memoryStorage(),
    navigate: (url) => navigations.push(url),
    // One function call more than the Bearer client's transport (a few ns, beside a signature).
    fetch: (input, init) => route(input, init),
  })
  await auth.ready()
  await auth.login()
  await auth.handleCallback(provider.authorize(navigations[0]!))
  let proof: string | null = null
  route = (input, init) => {
    proof = proofOf(input, init)
    return transport(input, init)
  }
  await auth.fetch(API)
  await verifyProof('auth.fetch (DPoP)', proof, apiProof(provider.jkt()))
  route = transport
  return { call: () => auth.fetch(API), dispose: () => auth.dispose() }
}
