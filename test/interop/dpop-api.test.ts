// The resource server's DPoP checks (RFC 9449 §4.3, §7, §9) against tokens and proofs made here
// with jose, so they hold whatever the SDK does.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DpopKey,
  dpopProof,
  fetchWithProof,
  newDpopKey,
  type ProofClaims,
} from './dpop-proof.js'
import { type ResourceServer, startResourceServer } from './resource-server.js'

/** An issuer of RFC 9068 access tokens: its metadata, its JWKS, and a signer. */
async function startIssuer() {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'api-test', alg: 'RS256', use: 'sig' }
  const server = createServer((req, res) => {
    const body = req.url === '/jwks' ? { keys: [jwk] } : { issuer, jwks_uri: `${issuer}/jwks` }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    issuer,
    sign: (claims: JWTPayload, audience: string) =>
      new SignJWT({ scope: 'api:read', client_id: 'demo-spa', ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject('alice')
        .setJti(crypto.randomUUID())
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

let issuer: Awaited<ReturnType<typeof startIssuer>>
let api: ResourceServer
let bearerApi: ResourceServer
let key: DpopKey

beforeAll(async () => {
  issuer = await startIssuer()
  api = await startResourceServer(issuer.issuer, { dpop: true })
  bearerApi = await startResourceServer(issuer.issuer)
  api.allowOrigins(['http://app.test'])
  key = await newDpopKey()
})

afterAll(async () => {
  await Promise.all([api?.close(), bearerApi?.close(), issuer?.close()])
})

const me = () => `${api.origin}/api/me`
const bound = (to: DpopKey) => issuer.sign({ cnf: { jkt: to.jkt } }, api.resource)
/** The nonce the API hands out now, as a client learns it: from any answer. */
const currentNonce = async () => (await fetch(me())).headers.get('dpop-nonce')!
const withDpop = (token: string, proof: string) =>
  fetch(me(), { headers: { authorization: `DPoP ${token}`, dpop: proof } })

/** A proof right in every way for `token`, then changed by `change`. */
async function proofFor(token: string, change: (claims: ProofClaims) => ProofClaims = (c) => c) {
  const claims = { htm: 'GET', htu: me(), accessToken: token, nonce: await currentNonce() }
  return dpopProof(key, change(claims))
}

async function expectRefused(response: Response, code: string, reason: RegExp) {
  expect(response.status).toBe(401)
  const challenge = response.headers.get('www-authenticate') ?? ''
  expect(challenge).toMatch(new RegExp(`^DPoP error="${code}".*, algs="ES256"$`))
  expect(api.requests.at(-1)).toMatchObject({ status: 401, challenge: code, error: reason })
}

describe('the resource server with DPoP, against jose-made tokens and proofs', () => {
  it('takes a proof by the token key for the request, after one use_dpop_nonce answer', async () => {
    const token = await bound(key)
    const from = api.requests.length
    const { response, attempts } = await fetchWithProof(
      me(),
      key,
      { headers: { authorization: `DPoP ${token}` } },
      token,
    )
    expect({ status: response.status, attempts }).toEqual({ status: 200, attempts: 2 })
    expect(await response.json()).toMatchObject({ sub: 'alice' })
    const [asked, taken] = api.requests.slice(from)
    expect(asked).toMatchObject({ status: 401, challenge: 'use_dpop_nonce', proofValid: false })
    expect(asked!.nonce).toBeUndefined()
    expect(taken).toMatchObject({ status: 200, scheme: 'DPoP', proofValid: true })
    expect(taken!.nonce).toBe(response.headers.get('dpop-nonce'))
  })

  const without = (name: keyof ProofClaims) => (claims: ProofClaims) => {
    const { [name]: _, ...rest } = claims
    return rest as ProofClaims
  }
  it.each([
    [
      'htu names another URL',
      (c: ProofClaims) => ({ ...c, htu: `${api.origin}/api/orders` }),
      'invalid_dpop_proof',
      /htu/,
    ],
    [
      'htu names another origin',
      (c: ProofClaims) => ({ ...c, htu: 'http://127.0.0.1:1/api/me' }),
      'invalid_dpop_proof',
      /htu/,
    ],
    ['htm is POST', (c: ProofClaims) => ({ ...c, htm: 'POST' }), 'invalid_dpop_proof', /htm/],
    [
      'ath is of another token',
      (c: ProofClaims) => ({ ...c, accessToken: 'another' }),
      'invalid_dpop_proof',
      /ath/,
    ],
    ['ath is missing', without('accessToken'), 'invalid_dpop_proof', /ath/],
    [
      'iat is ten minutes old',
      (c: ProofClaims) => ({ ...c, iat: Math.floor(Date.now() / 1000) - 600 }),
      'invalid_dpop_proof',
      /iat/,
    ],
    [
      'iat is ten minutes ahead',
      (c: ProofClaims) => ({ ...c, iat: Math.floor(Date.now() / 1000) + 600 }),
      'invalid_dpop_proof',
      /iat/,
    ],
    ['the nonce is missing', without('nonce'), 'use_dpop_nonce', /no nonce/],
    [
      'the nonce is made up',
      (c: ProofClaims) => ({ ...c, nonce: 'made-up' }),
      'use_dpop_nonce',
      /stale nonce/,
    ],
  ])('refuses a proof whose %s', async (_, change, code, reason) => {
    const token = await bound(key)
    const response = await withDpop(token, await proofFor(token, change))
    await expectRefused(response, code, reason)
    expect(response.headers.get('dpop-nonce')).toEqual(expect.any(String))
  })

  it("refuses a proof by another key than the token's cnf.jkt, with the right nonce", async () => {
    const token = await bound(await newDpopKey())
    await expectRefused(await withDpop(token, await proofFor(token)), 'invalid_token', /key/)
  })

  it('refuses a proof used twice (jti), and two proofs at once', async () => {
    const token = await bound(key)
    const proof = await proofFor(token)
    expect((await withDpop(token, proof)).status).toBe(200)
    await expectRefused(await withDpop(token, proof), 'invalid_dpop_proof', /used before/)
    const twice = await fetch(me(), {
      headers: [
        ['authorization', `DPoP ${token}`],
        ['dpop', await proofFor(token)],
        ['dpop', await proofFor(token)],
      ],
    })
    await expectRefused(twice, 'invalid_dpop_proof', /more than one/)
  })

  it('refuses a proof that is not an ES256 dpop+jwt', async () => {
    const token = await bound(key)
    const claims = { htm: 'GET', htu: me(), jti: crypto.randomUUID(), nonce: await currentNonce() }
    const typJwt = await new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'ES256', jwk: key.publicJwk })
      .setIssuedAt()
      .sign(key.privateKey)
    await expectRefused(await withDpop(token, typJwt), 'invalid_dpop_proof', /typ/)
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const eddsa = await new SignJWT(claims)
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: await exportJWK(ed.publicKey) })
      .setIssuedAt()
      .sign(ed.privateKey)
    await expectRefused(await withDpop(token, eddsa), 'invalid_dpop_proof', /alg/)
    await expectRefused(await withDpop(token, 'not.a.proof'), 'invalid_dpop_proof', /verify/)
  })

  it('after a nonce rotation, answers the old nonce once with use_dpop_nonce and the new one', async () => {
    const token = await bound(key)
    const old = await currentNonce()
    const fresh = api.rotateNonce()
    const stale = await withDpop(
      token,
      await dpopProof(key, { htm: 'GET', htu: me(), accessToken: token, nonce: old }),
    )
    await expectRefused(stale, 'use_dpop_nonce', /stale nonce/)
    expect(stale.headers.get('dpop-nonce')).toBe(fresh)
    const retried = await withDpop(token, await proofFor(token))
    expect(retried.status).toBe(200)
    expect(api.requests.at(-1)!.nonce).toBe(fresh)
  })

  it('refuses a DPoP-bound token sent as Bearer, and an unbound one sent as DPoP', async () => {
    const token = await bound(key)
    const asBearer = await fetch(me(), { headers: { authorization: `Bearer ${token}` } })
    await expectRefused(asBearer, 'invalid_token', /DPoP-bound token sent as Bearer/)
    expect(api.requests.at(-1)).toMatchObject({ scheme: 'Bearer', proofValid: undefined })
    const unbound = await issuer.sign({}, api.resource)
    await expectRefused(
      await withDpop(unbound, await proofFor(unbound)),
      'invalid_token',
      /unbound/,
    )
    // An unbound token as a bearer token stays what it was.
    const bearer = await fetch(me(), { headers: { authorization: `Bearer ${unbound}` } })
    expect(bearer.status).toBe(200)
  })

  it('lets an allowed page send DPoP and read DPoP-Nonce and WWW-Authenticate (CORS)', async () => {
    const preflight = await fetch(me(), {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.test',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization,dpop',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization.*dpop/)
    const answer = await fetch(me(), { headers: { origin: 'http://app.test' } })
    expect(answer.headers.get('access-control-expose-headers')).toMatch(
      /www-authenticate.*dpop-nonce/,
    )
  })

  it('keeps no token value in its records', async () => {
    const token = await bound(key)
    await withDpop(token, await proofFor(token))
    const records = JSON.stringify(api.requests)
    expect(records).not.toContain(token)
    expect(records).not.toMatch(/eyJ[\w-]{8,}\./)
  })
})

describe('the resource server without DPoP, as before', () => {
  it('takes bearer tokens, asks for no nonce, and knows no DPoP scheme', async () => {
    const target = `${bearerApi.origin}/api/me`
    const token = await issuer.sign({}, bearerApi.resource)
    const ok = await fetch(target, { headers: { authorization: `Bearer ${token}` } })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('dpop-nonce')).toBeNull()
    const asDpop = await fetch(target, { headers: { authorization: `DPoP ${token}` } })
    expect(asDpop.status).toBe(401)
    expect(asDpop.headers.get('www-authenticate')).toBe(
      'Bearer realm="interop-api", error="invalid_token", error_description="no token"',
    )
    expect((await fetch(target)).headers.get('www-authenticate')).toBe('Bearer realm="interop-api"')
    expect(() => bearerApi.rotateNonce()).toThrow(/no DPoP nonce/)
  })
})
