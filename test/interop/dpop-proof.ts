// DPoP proofs made from Node: another device's key, as an attacker holding a stolen token would
// have, or a well-behaved client's key in the servers' own tests.
import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

/** An ES256 key pair and the thumbprint (RFC 7638) a token bound to it carries as `cnf.jkt`. */
export interface DpopKey {
  privateKey: CryptoKey
  publicJwk: JWK
  jkt: string
}

/** What goes into a proof; a test sets a field to get a proof that is wrong in that one way. */
export interface ProofClaims {
  htm: string
  htu: string
  /** The access token the proof goes with: its SHA-256 becomes `ath`. */
  accessToken?: string
  nonce?: string
  /** Seconds since the epoch. Default: now. */
  iat?: number
  /** Default: a fresh UUID. */
  jti?: string
}

/** A new key pair of the kind the SDK makes. */
export async function newDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const publicJwk = await exportJWK(publicKey)
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) }
}

/** A DPoP proof JWT signed by `key` (RFC 9449 §4.2). */
export function dpopProof(key: DpopKey, claims: ProofClaims): Promise<string> {
  const { accessToken, iat, jti, ...rest } = claims
  return new SignJWT({
    ...rest,
    jti: jti ?? randomUUID(),
    ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk })
    .setIssuedAt(iat)
    .sign(key.privateKey)
}

/** Whether an answer asks for a DPoP nonce: 400 from a token endpoint, 401 from an API. */
async function wantsNonce(response: Response): Promise<boolean> {
  if (/error="use_dpop_nonce"/.test(response.headers.get('www-authenticate') ?? '')) return true
  if (response.status !== 400) return false
  const body = (await response
    .clone()
    .json()
    .catch(() => ({}))) as { error?: unknown }
  return body.error === 'use_dpop_nonce'
}

/** The answer of {@link fetchWithProof} and how many requests it took. */
export interface ProvedResponse {
  response: Response
  /** 1, or 2 when the server asked for its nonce. */
  attempts: number
}

/**
 * Sends a request with a fresh proof by `key` for it; when the server answers `use_dpop_nonce`,
 * once more with the nonce it gave (RFC 9449 §8, §9). `init.method` defaults to GET.
 */
export async function fetchWithProof(
  url: string,
  key: DpopKey,
  init: { method?: string; headers?: Record<string, string>; body?: URLSearchParams } = {},
  accessToken?: string,
): Promise<ProvedResponse> {
  const htm = init.method ?? 'GET'
  const send = async (nonce?: string) =>
    fetch(url, {
      ...init,
      method: htm,
      headers: {
        ...init.headers,
        dpop: await dpopProof(key, {
          htm,
          htu: url,
          ...(accessToken ? { accessToken } : {}),
          ...(nonce ? { nonce } : {}),
        }),
      },
    })
  const first = await send()
  const nonce = first.headers.get('dpop-nonce')
  if (!nonce || !(await wantsNonce(first))) return { response: first, attempts: 1 }
  return { response: await send(nonce), attempts: 2 }
}
