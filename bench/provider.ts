// The provider the DPoP clients sign in with before the overhead bench times them: discovery, the
// authorization redirect and the token endpoint, answered in process like the bench's API. It
// binds the token to the key the sign-in named, as a real provider does, so that the first timed
// call can be checked against that key.
import type { TransactionStorage } from '@spa-auth/core'
import { verifyProof } from './proof.js'

/** The page the bench's clients run on (in Chromium, the routed origin of bench/overhead.ts). */
export const APP = 'https://app.example.com'

export const ISSUER = 'https://idp.example.com'

export const CLIENT_ID = 'bench'

const METADATA = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  token_endpoint: `${ISSUER}/token`,
  code_challenge_methods_supported: ['S256'],
  dpop_signing_alg_values_supported: ['ES256'],
}

/** The token endpoints: the metadata's, and auth0-spa-js's, which discovers nothing. */
const TOKEN_ENDPOINTS = new Set([METADATA.token_endpoint, `${ISSUER}/oauth/token`])

const b64 = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/**
 * An ID token for a sign-in that asked for `openid`. auth0-spa-js requires one and checks its
 * claims, not its signature (it comes straight from the token endpoint, RFC 6749 §10.13 aside);
 * nobody here checks the signature, so it is a placeholder.
 */
function idToken(nonce: string | null): string {
  const iat = Math.floor(Date.now() / 1000)
  const claims = { iss: ISSUER, aud: CLIENT_ID, sub: 'bench-user', iat, exp: iat + 3600 }
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(nonce ? { ...claims, nonce } : claims)}.c2ln`
}

/** A token request's form, whichever way the library sent it. */
async function formOf(url: string, init: RequestInit | undefined): Promise<URLSearchParams> {
  const text = await new Request(url, init).text()
  return text.startsWith('{') ? new URLSearchParams(JSON.parse(text)) : new URLSearchParams(text)
}

/**
 * A provider that issues `accessToken` bound to the client's key (`token_type: DPoP`): the
 * sign-in must name a key (`dpop_jkt`), and the code is redeemed only with a valid proof by that
 * key. `jkt()` is then the key the token is bound to. With `dpop: false`, a Bearer provider that
 * also takes refresh-token grants (each API's first token).
 */
export function createBenchProvider(accessToken: string, { dpop = true } = {}) {
  /** What each code was issued for. */
  const codes = new Map<string, { jkt: string; nonce: string | null; openid: boolean }>()
  let bound: string | undefined

  const transport: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input)
    if (url === `${ISSUER}/.well-known/openid-configuration`) return Response.json(METADATA)
    if (!TOKEN_ENDPOINTS.has(url)) return new Response(null, { status: 404 })
    const form = await formOf(url, init)
    if (!dpop) return bearerGrant(form)
    const grant = codes.get(form.get('code') ?? '')
    if (!grant) return Response.json({ error: 'invalid_grant' }, { status: 400 })
    const proof = new Headers(init?.headers).get('dpop')
    const expect = { htm: 'POST', htu: url, jkt: grant.jkt }
    bound = await verifyProof('the token request', proof, expect)
    codes.delete(form.get('code')!)
    return Response.json({
      access_token: accessToken,
      token_type: 'DPoP',
      expires_in: 3600,
      ...(grant.openid ? { id_token: idToken(grant.nonce) } : {}),
    })
  }

  /** A Bearer code or refresh grant: `accessToken` and a rotated refresh token each time. */
  function bearerGrant(form: URLSearchParams): Response {
    const known =
      form.get('grant_type') === 'refresh_token'
        ? form.get('refresh_token') === `r${refreshes}`
        : codes.delete(form.get('code') ?? '')
    if (!known) return Response.json({ error: 'invalid_grant' }, { status: 400 })
    refreshes += 1
    const tokens = { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 }
    return Response.json({ ...tokens, refresh_token: `r${refreshes}` })
  }
  let refreshes = 0

  /** The provider's redirect back to the app after the authorization request `href`. */
  function authorize(href: string): string {
    const request = new URL(href).searchParams
    const jkt = request.get('dpop_jkt') ?? (dpop ? null : '')
    if (jkt === null) throw new Error('bench: the sign-in named no DPoP key')
    const code = `c${codes.size}`
    const openid = (request.get('scope') ?? '').split(' ').includes('openid')
    codes.set(code, { jkt, nonce: request.get('nonce'), openid })
    const back = new URL(request.get('redirect_uri')!)
    back.search = new URLSearchParams({
      code,
      state: request.get('state')!,
      iss: ISSUER,
    }).toString()
    return back.href
  }

  /** The key the issued token is bound to. */
  function jkt(): string {
    if (!bound) throw new Error('bench: no token was issued')
    return bound
  }

  return { transport, authorize, jkt }
}

/**
 * Runs a sign-in with `transport` as the global `fetch`: oidc-client-ts and auth0-spa-js take
 * no transport for their token requests. Only the sign-in: the timed calls go to the bench's.
 */
export async function withGlobalFetch<T>(transport: typeof fetch, run: () => Promise<T>) {
  const saved = globalThis.fetch
  globalThis.fetch = transport
  try {
    return await run()
  } finally {
    globalThis.fetch = saved
  }
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
