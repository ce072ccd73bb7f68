// oidc-client-ts's DPoP as an app drives it: `dpop` in the settings (its key made at sign-in and
// kept in its DPoP store, the code bound with `dpop_jkt`), then per API call its `dpopProof()`
// helper and the two headers, over the bench's transport.
import {
  type DPoPState,
  IndexedDbDPoPStore,
  InMemoryWebStorage,
  type IWindow,
  UserManager,
  WebStorageStateStore,
} from 'oidc-client-ts'
import { apiProof, DPOP_TOKEN } from './dpop.js'
import { verifyProof } from './proof.js'
import { APP, CLIENT_ID, createBenchProvider, ISSUER, withGlobalFetch } from './provider.js'
import { API, type Caller } from './transport.js'

/** Its DPoP store where a realm has no IndexedDB (Node): the same four methods, in memory. */
class MemoryDpopStore {
  readonly #states = new Map<string, DPoPState>()
  async set(key: string, value: DPoPState) {
    this.#states.set(key, value)
  }
  async get(key: string) {
    return this.#states.get(key)!
  }
  async remove(key: string) {
    const state = this.#states.get(key)!
    this.#states.delete(key)
    return state
  }
  async getAllKeys() {
    return [...this.#states.keys()]
  }
}

/** A redirect that goes nowhere: it notes the authorization URL, for the bench's provider. */
function notingNavigator(urls: string[]) {
  const window: IWindow = {
    navigate: async ({ url }) => {
      urls.push(url)
      return { url }
    },
    close: () => {},
  }
  return { prepare: async () => window, callback: async () => {} }
}

/**
 * oidc-client-ts signed in with DPoP through the bench's provider; each call makes a proof with
 * `dpopProof()` for the user the sign-in returned (held, as react-oidc-context holds it: no store
 * read for the token), and sends it with the token. Its first proof is checked.
 */
export async function oidcClientDpop(transport: typeof fetch): Promise<Caller> {
  // Its proofs read `window.crypto`: in Node, the only global it lacks there (see RESULTS.md).
  const global = globalThis as { window?: unknown }
  global.window ??= globalThis
  const provider = createBenchProvider(DPOP_TOKEN)
  const urls: string[] = []
  const memory = () => new WebStorageStateStore({ store: new InMemoryWebStorage() })
  const manager = new UserManager(
    {
      authority: ISSUER,
      client_id: CLIENT_ID,
      redirect_uri: `${APP}/callback`,
      scope: 'api',
      userStore: memory(),
      stateStore: memory(),
      // The library's own IndexedDB store in a page; in Node, one with its interface.
      dpop: {
        bind_authorization_code: true,
        store: typeof indexedDB === 'undefined' ? new MemoryDpopStore() : new IndexedDbDPoPStore(),
      },
    },
    notingNavigator(urls),
  )
  const user = await withGlobalFetch(provider.transport, async () => {
    await manager.signinRedirect()
    return manager.signinRedirectCallback(provider.authorize(urls[0]!))
  })
  const call = async () => {
    const proof = (await manager.dpopProof(API, user, 'GET'))!
    return transport(API, { headers: { authorization: `DPoP ${user.access_token}`, dpop: proof } })
  }
  const first = (await manager.dpopProof(API, user, 'GET'))!
  await verifyProof('oidc-client-ts', first, apiProof(provider.jkt()))
  // Its access-token timers would keep a Node process alive.
  return { call, dispose: () => void manager.events.unload() }
}
