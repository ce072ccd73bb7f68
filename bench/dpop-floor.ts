// The floor under every DPoP row: what WebCrypto alone costs for a proof, timed like a caller.
// Each call signs the same proof's bytes with a key like the SDK's (P-256, not extractable) and
// sends the two headers; nothing else (no fresh claims, no encoding of them). With `ath`, it
// hashes the token first too, as a client that hashes it on every call does.
import { b64url, sha256 } from '../packages/mocks/src/encoding.js'
import { apiProof, DPOP_TOKEN } from './dpop.js'
import { thumbprint, verifyProof } from './proof.js'
import { API, type Caller } from './transport.js'

const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const

const encode = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)))

/** A caller that makes one ES256 signature per call (and, with `ath`, one SHA-256 before it). */
export async function signatureFloor(transport: typeof fetch, ath: boolean): Promise<Caller> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', keys.publicKey)
  const jwk = { crv, kty, x, y }
  const claims = {
    iat: Math.floor(Date.now() / 1000),
    jti: 'floor',
    htm: 'GET',
    htu: API,
    ath: await sha256(DPOP_TOKEN),
  }
  const input = `${encode({ alg: 'ES256', typ: 'dpop+jwt', jwk })}.${encode(claims)}`
  const bytes = new TextEncoder().encode(input)
  const token = new TextEncoder().encode(DPOP_TOKEN)
  const sign = async () => {
    if (ath) await crypto.subtle.digest('SHA-256', token)
    return `${input}.${b64url(await crypto.subtle.sign(ES256, keys.privateKey, bytes))}`
  }
  const who = ath ? 'the SHA-256 + ES256 floor' : 'the ES256 floor'
  await verifyProof(who, await sign(), apiProof(await thumbprint(jwk)))
  const call = async () =>
    transport(API, { headers: { authorization: `DPoP ${DPOP_TOKEN}`, dpop: await sign() } })
  return { call, dispose: () => {} }
}
