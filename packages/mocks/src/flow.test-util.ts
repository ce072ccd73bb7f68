// A tiny OAuth client for the mock's own tests: PKCE, the code exchange, refresh, DPoP proofs,
// built here with jose and node:crypto rather than with the mock's helpers.
import { createHash, randomBytes } from 'node:crypto'
import {
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { createMockProvider, type MockAnswer, type MockProviderOptions } from './provider.js'

export const ISSUER = 'https://idp.example.com'
export const API = 'https://api.example.com'
export const CLIENT_ID = 'spa'
export const REDIRECT_URI = 'https://app.example.com/callback'
export const TOKEN = `${ISSUER}/token`

/** One MSW server per test file, refusing any request no handler knows. */
export const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const b64url = (bytes: Buffer) => bytes.toString('base64url')
/** base64url(SHA-256(value)): PKCE's S256, DPoP's `ath`. */
export const hash = (value: string) => b64url(createHash('sha256').update(value).digest())

/** The provider's clock, in ms: tests move it. */
export const clock = { now: Date.parse('2030-01-01T00:00:00Z') }
const seconds = () => Math.floor(clock.now / 1000)

/** A mock provider on the test's server, on the test clock. */
export function mockProvider(options: Partial<MockProviderOptions> = {}) {
  const idp = createMockProvider({
    ...{ issuer: ISSUER, apiOrigin: API, clientId: CLIENT_ID, now: () => clock.now },
    ...options,
  })
  server.use(...idp.handlers)
  return idp
}

/** What a proof may say otherwise than a good one does. */
export interface ProofOptions {
  accessToken?: string
  nonce?: string
  iat?: number
  /** The proof's `jti`; none with null. Default: a random one. */
  jti?: string | null
  typ?: string
  /** Claims to put over the good ones (`htm`, `htu`, `ath`, …). */
  claims?: Record<string, unknown>
  /** Header parameters over the good ones (`jwk`, …). */
  header?: Record<string, unknown>
}

/** A client's DPoP key: its public JWK, thumbprint, and proofs signed with it (RFC 9449 §4.2). */
export async function dpopKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  const jkt = await calculateJwkThumbprint(jwk, 'sha256')
  async function proof(htm: string, htu: string, options: ProofOptions = {}): Promise<string> {
    const claims = {
      htm,
      htu,
      ...(options.accessToken ? { ath: hash(options.accessToken) } : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
      ...options.claims,
    }
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ typ: options.typ ?? 'dpop+jwt', alg: 'ES256', jwk, ...options.header })
      .setIssuedAt(options.iat ?? seconds())
    if (options.jti !== null) jwt.setJti(options.jti ?? b64url(randomBytes(16)))
    return jwt.sign(privateKey)
  }
  return { jwk: jwk as JWK, jkt, privateKey, proof }
}
export type DpopKey = Awaited<ReturnType<typeof dpopKey>>

/** An authorization request's URL, with PKCE, and its verifier. */
export function authorizationRequest(params: Record<string, string> = {}) {
  const verifier = b64url(randomBytes(32))
  const url = new URL(`${ISSUER}/authorize`)
  const all = {
    ...{ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, response_type: 'code' },
    ...{ scope: 'openid offline_access', state: 's', code_challenge: hash(verifier) },
    ...{ code_challenge_method: 'S256', ...params },
  }
  for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v)
  return { url: url.href, verifier }
}

/** The provider's answer to an authorization request: the code, or the error, of its redirect. */
export async function authorize(
  idp: ReturnType<typeof mockProvider>,
  params: Record<string, string> = {},
  user: MockAnswer = {},
) {
  const { url, verifier } = authorizationRequest(params)
  const back = new URL(await idp.authorize(url, user)).searchParams
  return { code: back.get('code') ?? '', error: back.get('error'), verifier }
}

/** A POST to the token endpoint, with a DPoP proof when given. */
export function tokenRequest(form: Record<string, string>, proof?: string, endpoint = TOKEN) {
  return fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(proof ? { dpop: proof } : {}),
    },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...form }),
  })
}

/** The code exchange (RFC 6749 §4.1.3). */
export function exchange(
  code: { code: string; verifier: string },
  proof?: string,
  endpoint = TOKEN,
) {
  return tokenRequest(
    {
      ...{ grant_type: 'authorization_code', code: code.code },
      ...{ code_verifier: code.verifier, redirect_uri: REDIRECT_URI },
    },
    proof,
    endpoint,
  )
}

/** A refresh (RFC 6749 §6). */
export function refresh(refreshToken: string, proof?: string) {
  return tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }, proof)
}

/** A token response's tokens, and the access token's claims. */
export interface Tokens {
  access_token: string
  refresh_token: string
  id_token?: string
  token_type: string
}
export async function tokens(response: Response) {
  const body = (await response.json()) as Tokens
  return { ...body, claims: decodeJwt(body.access_token) }
}

/** Signs in with `params` and exchanges the code: with `key`'s proof when given. */
export async function signIn(
  idp: ReturnType<typeof mockProvider>,
  {
    key,
    params = {},
    user = {},
  }: { key?: DpopKey; params?: Record<string, string>; user?: MockAnswer } = {},
) {
  const code = await authorize(idp, params, user)
  const response = await exchange(code, key ? await key.proof('POST', TOKEN) : undefined)
  if (response.status !== 200) throw new Error(`code exchange: ${response.status}`)
  return tokens(response)
}

/** An API call with a token: as Bearer, or as DPoP with a proof from `key`. */
export async function callApi(
  path: string,
  accessToken: string,
  { key, method = 'GET', proof }: { key?: DpopKey; method?: string; proof?: ProofOptions } = {},
) {
  const url = `${API}${path}`
  const headers: Record<string, string> = key
    ? {
        authorization: `DPoP ${accessToken}`,
        dpop: await key.proof(method, url, { accessToken, ...proof }),
      }
    : { authorization: `Bearer ${accessToken}` }
  return fetch(url, { method, headers })
}
