// The DPoP caller of the overhead bench: a client signed in with `dpop: true` through the whole
// redirect, so the engine makes the key and the session carries it, as in an app. The proofs are
// the SDK's own: the point is to time them.
import { createAuthClient } from '@spa-auth/core'
import { sha256 } from '../packages/mocks/src/encoding.js'
import { APP, createBenchProvider, ISSUER, memoryStorage } from './provider.js'
import { API, type Caller } from './transport.js'

/** The access token, the same as the Bearer callers send. */
export const DPOP_TOKEN = 'x'

/** A JWT's header or payload; empty when it is not one. */
function decode(part: string): Record<string, unknown> {
  try {
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')))
  } catch {
    return {}
  }
}

/**
 * Checks what a proof says: an ES256 DPoP JWT for this call and this token. A bench that timed
 * a call without one would flatter DPoP.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
async function checkProof(proof: string | undefined): Promise<void> {
  const [header, payload] = (proof ?? '').split('.', 2).map(decode)
  const ok =
    header?.typ === 'dpop+jwt' &&
    header.alg === 'ES256' &&
    payload?.htm === 'GET' &&
    payload.htu === API &&
    payload.ath === (await sha256(DPOP_TOKEN))
  if (!ok) throw new Error(`overhead: auth.fetch (DPoP) sent the proof ${String(proof)}`)
}

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
    clientId: 'bench',
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
  let proof: string | undefined
  route = (input, init) => {
    proof = (init?.headers as Record<string, string> | undefined)?.dpop
    return transport(input, init)
  }
  await auth.fetch(API)
  await checkProof(proof)
  route = transport
  return { call: () => auth.fetch(API), dispose: () => auth.dispose() }
}
