// The bench's own check of a DPoP proof, the same in Node and in a page: WebCrypto only, so that
// the provider (token requests) and the API (the first timed call) read every library's proofs
// alike. A bench that timed a call without a valid proof would flatter that library.
import { sha256 } from '../packages/mocks/src/encoding.js'

/** What a proof must say: the request it goes with and, at the API, the token it goes beside. */
export interface ProofExpectation {
  htm: string
  htu: string
  /** At the API: the access token, whose SHA-256 `ath` must be. */
  accessToken?: string
  /** At the API: the thumbprint of the key the token is bound to. */
  jkt?: string
}

const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

function part(segment: string | undefined): Record<string, unknown> {
  try {
    return JSON.parse(atob((segment ?? '').replace(/-/g, '+').replace(/_/g, '/')))
  } catch {
    return {}
  }
}

function bytes(segment: string): Uint8Array<ArrayBuffer> {
  const text = atob(segment.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(text, (c) => c.charCodeAt(0))
}

/** The RFC 7638 thumbprint of an EC public key: its required members, in order. */
export function thumbprint(jwk: Record<string, unknown>): Promise<string> {
  const { crv, kty, x, y } = jwk
  return sha256(JSON.stringify({ crv, kty, x, y }))
}

/**
 * Verifies `proof`: an ES256 `dpop+jwt` signed by the public key in its header, with a `jti` and
 * an `iat` within a minute, for `expect`'s method and URL and, at the API, its token and key.
 * Returns the key's thumbprint.
 *
 * @throws {Error} naming `who` and what was wrong.
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
export async function verifyProof(
  who: string,
  proof: string | null | undefined,
  expect: ProofExpectation,
): Promise<string> {
  const fail = (why: string) => new Error(`bench: ${who} sent a proof ${why}: ${String(proof)}`)
  const segments = (proof ?? '').split('.')
  if (segments.length !== 3) throw fail('that is not a JWS')
  const [h, p, s] = segments as [string, string, string]
  const header = part(h)
  const claims = part(p)
  const jwk = header.jwk as Record<string, unknown> | undefined
  if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256' || jwk?.crv !== 'P-256')
    throw fail('that is not an ES256 dpop+jwt')
  if ('d' in jwk) throw fail('that carries a private key')
  const key = await crypto.subtle.importKey('jwk', jwk as JsonWebKey, ES256, false, ['verify'])
  const input = new TextEncoder().encode(`${h}.${p}`)
  if (!(await crypto.subtle.verify(ES256, key, bytes(s), input)))
    throw fail('whose signature fails')
  if (typeof claims.jti !== 'string' || !claims.jti) throw fail('without a jti')
  if (typeof claims.iat !== 'number' || Math.abs(claims.iat - Date.now() / 1000) > 60)
    throw fail('whose iat is not now')
  if (claims.htm !== expect.htm) throw fail(`whose htm is not ${expect.htm}`)
  if (claims.htu !== expect.htu) throw fail(`whose htu is not ${expect.htu}`)
  if (expect.accessToken !== undefined && claims.ath !== (await sha256(expect.accessToken)))
    throw fail('whose ath is not the hash of the token')
  const jkt = await thumbprint(jwk)
  if (expect.jkt !== undefined && jkt !== expect.jkt)
    throw fail('by another key than the one the token is bound to')
  return jkt
}
