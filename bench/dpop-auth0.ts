// auth0-spa-js's DPoP as an app drives it: `useDpop` (its key made at sign-in and kept in
// IndexedDB, the code bound with `dpop_jkt`), then per API call its fetcher, over the bench's
// transport. A page only: it needs `window`, cookies and IndexedDB, which Node has not.
import { Auth0Client } from '@auth0/auth0-spa-js'
import { apiProof, DPOP_TOKEN, proofOf } from './dpop.js'
import { verifyProof } from './proof.js'
import { APP, CLIENT_ID, createBenchProvider, ISSUER, withGlobalFetch } from './provider.js'
import { API, type Caller } from './transport.js'

/**
 * auth0-spa-js signed in with DPoP through the bench's provider; each call goes through
 * `createFetcher().fetchWithAuth()`, which gets the token from its cache, reads the nonce and the
 * key from IndexedDB, makes the proof and sends the request. Its first proof is checked.
 */
export async function auth0Dpop(transport: typeof fetch): Promise<Caller> {
  const provider = createBenchProvider(DPOP_TOKEN)
  const client = new Auth0Client({
    domain: new URL(ISSUER).host,
    issuer: ISSUER,
    clientId: CLIENT_ID,
    useDpop: true,
    authorizationParams: { redirect_uri: `${APP}/callback` },
  })
  const urls: string[] = []
  await withGlobalFetch(provider.transport, async () => {
    await client.loginWithRedirect({ openUrl: async (url) => void urls.push(url) })
    await client.handleRedirectCallback(provider.authorize(urls[0]!))
  })
  let proof: string | null = null
  let route = (request: Request) => {
    proof = proofOf(request)
    return transport(request)
  }
  // Its fetcher sends DPoP only with a nonce id (the API whose nonce it keeps).
  const fetcher = client.createFetcher({ dpopNonceId: 'bench-api', fetch: (r) => route(r) })
  await fetcher.fetchWithAuth(API)
  await verifyProof('auth0-spa-js', proof, apiProof(provider.jkt()))
  route = transport
  return { call: () => fetcher.fetchWithAuth(API), dispose: () => {} }
}
