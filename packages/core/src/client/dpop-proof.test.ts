import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { sha256 } from '../../../mocks/src/encoding.js'
import { createProver } from './dpop-proof.js'

const API = 'https://api.example.com/orders'

async function prover() {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  return { keys, proof: createProver(keys) }
}

describe('DPoP proofs', () => {
  it('I2: every proof is new (jti, iat), of its request and token, and verifies with the key', async () => {
    const { proof } = await prover()
    const call = { htm: 'GET', htu: API, accessToken: 'a', nonce: undefined }
    const proofs = [await proof(call), await proof(call), await proof({ ...call, htm: 'POST' })]
    const header = decodeProtectedHeader(proofs[0]!)
    expect(header).toMatchObject({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256' },
    })
    expect(Object.keys(header.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y'])
    const key = await importJWK(header.jwk!, 'ES256')
    for (const p of proofs) await jwtVerify(p, key, { typ: 'dpop+jwt', maxTokenAge: 60 })
    const claims = proofs.map((p) => decodeJwt(p))
    expect(new Set(claims.map((c) => c.jti)).size).toBe(3)
    expect(claims.map((c) => c.htm)).toEqual(['GET', 'GET', 'POST'])
    expect(claims.every((c) => c.htu === API && c.ath !== undefined && !('nonce' in c))).toBe(true)
    expect(claims[0]!.ath).toBe(await sha256('a'))
  })

  it('I2: I4: a new token gets its own ath, and the nonce given goes in', async () => {
    const { proof } = await prover()
    const first = decodeJwt(await proof({ htm: 'GET', htu: API, accessToken: 'a', nonce: 'n1' }))
    const next = decodeJwt(await proof({ htm: 'GET', htu: API, accessToken: 'b', nonce: 'n2' }))
    expect([first.ath, next.ath]).toEqual([await sha256('a'), await sha256('b')])
    expect([first.nonce, next.nonce]).toEqual(['n1', 'n2'])
  })

  it('I2: a nonce outside ASCII is sent as its UTF-8', async () => {
    const { proof } = await prover()
    const claims = decodeJwt(await proof({ htm: 'GET', htu: API, accessToken: 'a', nonce: 'é✓' }))
    expect(claims.nonce).toBe('é✓')
  })
})
