// The provider a DPoP client signs in with before the overhead bench times it: discovery, the
// authorization redirect and the token endpoint, answered in process like the bench's API.
import type { TransactionStorage } from '@spa-auth/core'

/** The page the bench's clients run on (in Chromium, the routed origin of bench/overhead.ts). */
export const APP = 'https://app.example.com'

export const ISSUER = 'https://idp.example.com'

const METADATA = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  code_challenge_methods_supported: ['S256'],
  dpop_signing_alg_values_supported: ['ES256'],
}

/** What the client sends to the token endpoint: oauth4webapi's headers, as a record. */
function proofOf(init: RequestInit | undefined): string | undefined {
  return (init?.headers as Record<string, string> | undefined)?.dpop
}

/**
 * A provider that issues `accessToken`, bound to the client's key (`token_type: DPoP`), to a
 * sign-in that named a key and a token request that carries a proof. Neither is verified here:
 * the bench checks the proofs the client sends to the API (bench/dpop.ts).
 */
export function createBenchProvider(accessToken: string) {
  const transport: typeof fetch = async (input, init) => {
    const url = String(input)
    if (url === `${ISSUER}/.well-known/openid-configuration`) return Response.json(METADATA)
    if (url !== METADATA.token_endpoint) return new Response(null, { status: 404 })
    if (!proofOf(init)) return Response.json({ error: 'invalid_dpop_proof' }, { status: 400 })
    return Response.json({ access_token: accessToken, token_type: 'DPoP', expires_in: 3600 })
  }

  /** The provider's redirect back to the app after the authorization request `href`. */
  function authorize(href: string): string {
    const request = new URL(href).searchParams
    if (!request.get('dpop_jkt')) throw new Error('bench: the sign-in named no DPoP key')
    const back = new URL(request.get('redirect_uri')!)
    back.search = new URLSearchParams({
      code: 'c',
      state: request.get('state')!,
      iss: ISSUER,
    }).toString()
    return back.href
  }

  return { transport, authorize }
}

/** Where the login transaction waits, the same in Node (no `sessionStorage`) and in a page. */
export function memoryStorage(): TransactionStorage {
  const items = new Map<string, string>()
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
    key: (index) => [...items.keys()][index] ?? null,
    get length() {
      return items.size
    },
  }
}
