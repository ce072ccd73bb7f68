// oidc-provider's token endpoint with DPoP and nonces, and the API with the tokens it issues,
// driven from Node: what the SDK in Chromium meets, shown to hold without the SDK.
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DpopKey, dpopProof, fetchWithProof, newDpopKey } from './dpop-proof.js'
import { type SignedIn, signInFromNode } from './node-sign-in.js'
import { type InteropProvider, openProvider } from './provider.js'
import { type ResourceServer, startResourceServer } from './resource-server.js'

// Registered as the app: never visited, Node reads the code from the redirect.
const APP = 'http://127.0.0.1:9'

let idp: InteropProvider
let api: ResourceServer
let key: DpopKey
let other: DpopKey
// The tokens of the first exchange, for the steps after it.
let issued: { access_token: string; refresh_token: string; token_type: string }

beforeAll(async () => {
  idp = await openProvider()
  api = await startResourceServer(idp.issuer, { dpop: true })
  idp.configure({ appOrigins: [APP], resource: api.resource, accessTokenTtl: 60, dpop: true })
  key = await newDpopKey()
  other = await newDpopKey()
})

afterAll(async () => {
  await Promise.all([api?.close(), idp?.close()])
})

const tokenUrl = () => `${idp.issuer}/token`
const me = () => `${api.origin}/api/me`
const signIn = (dpopJkt: string) =>
  signInFromNode({
    issuer: idp.issuer,
    clientId: idp.clientId,
    redirectUri: `${APP}/callback`,
    scope: 'openid profile api:read',
    dpopJkt,
  })
const exchangeForm = ({ code, verifier }: SignedIn) =>
  new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: `${APP}/callback`,
    client_id: idp.clientId,
  })
const refreshForm = (refreshToken: string) =>
  new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: idp.clientId,
  })
/** A token request with a proof by `by`, from the app's origin; once more for the nonce. */
const proved = (body: URLSearchParams, by: DpopKey) =>
  fetchWithProof(tokenUrl(), by, { method: 'POST', body, headers: { origin: APP } })
const bare = (body: URLSearchParams) => fetch(tokenUrl(), { method: 'POST', body })
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error
const tokenCalls = () => idp.requests.filter((r) => r.method === 'POST' && r.path === '/token')

describe('oidc-provider with DPoP nonces, and the API, driven from Node', () => {
  it('asks a page for its nonce in an answer the page can read (CORS)', async () => {
    const preflight = await fetch(tokenUrl(), {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'dpop',
      },
    })
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/dpop/i)
    const proof = await dpopProof(key, { htm: 'POST', htu: tokenUrl() })
    const asked = await fetch(tokenUrl(), {
      method: 'POST',
      body: refreshForm('unknown'),
      headers: { origin: APP, dpop: proof },
    })
    expect({ status: asked.status, error: await errorOf(asked) }).toEqual({
      status: 400,
      error: 'use_dpop_nonce',
    })
    expect(asked.headers.get('dpop-nonce')).toEqual(expect.any(String))
    expect(asked.headers.get('access-control-allow-origin')).toBe(APP)
    expect(asked.headers.get('access-control-expose-headers')).toMatch(/DPoP-Nonce/)
  })

  it('exchanges a code bound by dpop_jkt with a proof after one use_dpop_nonce; the tokens are bound', async () => {
    const signedIn = await signIn(key.jkt)
    expect(idp.requests.find((r) => r.path === '/auth')?.dpopJkt).toBe(key.jkt)
    const from = tokenCalls().length
    const { response, attempts } = await proved(exchangeForm(signedIn), key)
    expect({ status: response.status, attempts }).toEqual({ status: 200, attempts: 2 })
    issued = (await response.json()) as typeof issued
    expect(issued.token_type).toBe('DPoP')
    expect(decodeJwt(issued.access_token).cnf).toEqual({ jkt: key.jkt })
    expect(issued.refresh_token).toEqual(expect.any(String))
    expect(tokenCalls().slice(from)).toMatchObject([
      { status: 400, error: 'use_dpop_nonce', dpopProof: true },
      { status: 200, error: undefined, dpopProof: true },
    ])
    expect(idp.lastTokens()).toEqual({
      accessToken: issued.access_token,
      refreshToken: issued.refresh_token,
    })
  })

  it('refuses a code exchange without a proof, or by a key other than dpop_jkt', async () => {
    const signedIn = await signIn(key.jkt)
    const withoutProof = await bare(exchangeForm(signedIn))
    expect([withoutProof.status, await errorOf(withoutProof)]).toEqual([400, 'invalid_grant'])
    expect(tokenCalls().at(-1)!.errorDetail).toBe('DPoP proof JWT not provided')
    // The same code, not spent by that refusal: this one is refused for its key.
    const { response: byOther } = await proved(exchangeForm(signedIn), other)
    expect([byOther.status, await errorOf(byOther)]).toEqual([400, 'invalid_grant'])
    expect(tokenCalls().at(-1)!.errorDetail).toBe(
      'DPoP proof key thumbprint does not match dpop_jkt',
    )
  })

  it('the API takes the bound token with a proof by its key, never as Bearer or by another key', async () => {
    const token = issued.access_token
    const headers = { authorization: `DPoP ${token}` }
    const ok = await fetchWithProof(me(), key, { headers }, token)
    expect({ status: ok.response.status, attempts: ok.attempts }).toEqual({
      status: 200,
      attempts: 2,
    })
    const asBearer = await fetch(me(), { headers: { authorization: `Bearer ${token}` } })
    expect(asBearer.status).toBe(401)
    const byOther = await fetchWithProof(me(), other, { headers }, token)
    expect(byOther.response.status).toBe(401)
    expect(byOther.response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/)
  })

  it('refuses the refresh token without a proof or by another key, then rotates it for its key', async () => {
    const withoutProof = await bare(refreshForm(issued.refresh_token))
    expect([withoutProof.status, await errorOf(withoutProof)]).toEqual([400, 'invalid_grant'])
    expect(tokenCalls().at(-1)!.errorDetail).toBe('DPoP proof JWT not provided')
    const { response: byOther } = await proved(refreshForm(issued.refresh_token), other)
    expect([byOther.status, await errorOf(byOther)]).toEqual([400, 'invalid_grant'])
    expect(tokenCalls().at(-1)!.errorDetail).toBe('failed jkt verification')

    const { response } = await proved(refreshForm(issued.refresh_token), key)
    expect(response.status).toBe(200)
    const rotated = (await response.json()) as typeof issued
    expect(rotated.token_type).toBe('DPoP')
    expect(rotated.refresh_token).not.toBe(issued.refresh_token)
    expect(decodeJwt(rotated.access_token).cnf).toEqual({ jkt: key.jkt })
    // Rotation: the old one is spent, for its own key too.
    const { response: reused } = await proved(refreshForm(issued.refresh_token), key)
    expect([reused.status, await errorOf(reused)]).toEqual([400, 'invalid_grant'])
    expect(tokenCalls().at(-1)!.errorDetail).toBe('refresh token already used')
    expect(idp.serverErrors).toEqual([])
  })
})
