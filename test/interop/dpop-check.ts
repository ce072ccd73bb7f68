import { createHash, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose'

/** The `error` codes of a resource server's `WWW-Authenticate` challenge (RFC 6750, RFC 9449). */
export type ChallengeCode = 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce'

/** Why a request is refused: the challenge's `error` code, and a reason (never a token). */
export class Refusal extends Error {
  override name = 'Refusal'
  constructor(
    readonly code: ChallengeCode,
    message: string,
  ) {
    super(message)
  }
}

/** The request a proof must match (RFC 9449 §4.3). */
export interface ProofTarget {
  method: string
  /** The request's URL without query and fragment. */
  url: string
  /** The access token sent with the proof: its SHA-256 is the proof's `ath`. */
  accessToken: string
  /** The token's `cnf.jkt`: the thumbprint of the key the proof must be signed with. */
  jkt: string
}

/** Checks DPoP proofs for one resource server: its replay cache and its nonce. */
export interface ProofChecker {
  /** Resolves when `proof` is fresh, unused, signed by the token's key, and for this request. */
  check(proof: string | undefined, target: ProofTarget): Promise<void>
  /** The nonce a proof must carry now, or undefined when none is asked for. */
  nonce(): string | undefined
  /** Issues a new nonce: a proof with the previous one now gets `use_dpop_nonce`. */
  rotateNonce(): string
}

/** Only ES256: the one algorithm the SDK signs proofs with. */
export const DPOP_ALGS = ['ES256']
/** Seconds a proof's `iat` may be away from now (RFC 9449 §11.1 leaves the window to us). */
export const PROOF_WINDOW_S = 60

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url')
const newNonce = () => randomBytes(16).toString('base64url')

/**
 * A `WWW-Authenticate` value: RFC 6750's Bearer challenge with the API's realm, or RFC 9449's
 * DPoP one (§7.1) naming the algorithms it takes.
 */
export function wwwAuthenticate(dpop: boolean, params: Record<string, string> = {}): string {
  const all = dpop ? { ...params, algs: DPOP_ALGS.join(' ') } : { realm: 'interop-api', ...params }
  const list = Object.entries(all).map(([name, value]) => `${name}="${value.replace(/"/g, "'")}"`)
  return `${dpop ? 'DPoP' : 'Bearer'} ${list.join(', ')}`
}

function fail(reason: string): never {
  throw new Refusal('invalid_dpop_proof', reason)
}

/** The URL a proof names, without query and fragment (RFC 9449 §4.3, point 9). */
function bareUrl(htu: unknown): string | undefined {
  if (typeof htu !== 'string' || !URL.canParse(htu)) return undefined
  const url = new URL(htu)
  url.search = ''
  url.hash = ''
  return url.href
}

/**
 * A proof checker. With `requireNonce`, a proof must carry the server's current nonce (RFC 9449
 * §9); the nonce is checked last, so a proof that fails for another reason is refused for that
 * reason and the client is not sent round for a nonce first.
 */
export function createProofChecker(requireNonce: boolean, now = Date.now): ProofChecker {
  // jti → when it may be forgotten: after that its iat is outside the window anyway.
  const seen = new Map<string, number>()
  let current = requireNonce ? newNonce() : undefined

  function remember(jti: string): boolean {
    const at = now()
    for (const [old, until] of seen) if (until < at) seen.delete(old)
    if (seen.has(jti)) return false
    seen.set(jti, at + 2 * PROOF_WINDOW_S * 1000)
    return true
  }

  async function check(proof: string | undefined, target: ProofTarget): Promise<void> {
    if (!proof) throw new Refusal('invalid_dpop_proof', 'no DPoP proof')
    // Node joins repeated headers with ", ", which no compact JWS contains.
    if (proof.includes(',')) throw new Refusal('invalid_dpop_proof', 'more than one DPoP proof')
    const verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: DPOP_ALGS,
    }).catch((error: Error) => {
      throw new Refusal('invalid_dpop_proof', `the proof does not verify: ${error.message}`)
    })
    const { payload, protectedHeader } = verified
    if (payload.htm !== target.method) fail('htm is not the request method')
    if (bareUrl(payload.htu) !== bareUrl(target.url)) fail('htu is not the request URL')
    if (payload.ath !== sha256(target.accessToken)) fail('ath is not the hash of the token')
    if (typeof payload.iat !== 'number' || Math.abs(now() / 1000 - payload.iat) > PROOF_WINDOW_S)
      fail('iat is outside the window')
    if (typeof payload.jti !== 'string' || !payload.jti) fail('no jti')
    if ((await calculateJwkThumbprint(protectedHeader.jwk!)) !== target.jkt)
      throw new Refusal('invalid_token', "the proof's key is not the one the token is bound to")
    if (current !== undefined && payload.nonce !== current)
      throw new Refusal('use_dpop_nonce', payload.nonce ? 'stale nonce' : 'no nonce')
    if (!remember(payload.jti)) fail('the proof was used before')
  }

  return {
    check,
    nonce: () => current,
    rotateNonce: () => {
      if (!requireNonce) throw new Error('this server asks for no DPoP nonce')
      current = newNonce()
      return current
    },
  }
}
