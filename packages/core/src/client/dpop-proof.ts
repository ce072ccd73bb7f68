// DPoP proofs to the API (RFC 9449 §4.2), made per request with as little else as a fresh proof
// allows: what depends only on the key (the header with the public key) is encoded once per key,
// and what depends only on the token (`ath`) once per token. Each proof still has its own `jti`,
// `iat`, `htm` and `htu`, and its own signature.

const ES256 = { name: 'ECDSA', hash: 'SHA-256' } as const

const encoder = new TextEncoder()

/** Standard base64 as base64url without padding (RFC 7515 §2). */
const url = (base64: string) => base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/** Bytes as base64url. */
const b64url: (bytes: Uint8Array) => string =
  'toBase64' in Uint8Array.prototype
    ? (bytes) =>
        (bytes as Uint8Array & { toBase64(o: object): string }).toBase64({
          alphabet: 'base64url',
          omitPadding: true,
        })
    : (bytes) => {
        let binary = ''
        for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
        return url(btoa(binary))
      }

/**
 * A JSON value as a JWS segment: its UTF-8 in base64url. JSON that is all ASCII (a URL, a UUID,
 * base64url, as proofs are) is its own UTF-8, and goes to `btoa` without a copy as bytes.
 */
function segment(value: unknown): string {
  const json = JSON.stringify(value)
  return /^[\x20-\x7e]*$/.test(json) ? url(btoa(json)) : b64url(encoder.encode(json))
}

/** The token's hash for `ath` (RFC 9449 §4.2): base64url of its SHA-256. */
async function hashOf(accessToken: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken))))
}

/** What one proof is for: the request, the token it goes with, and the server's nonce if any. */
export interface ProofClaims {
  htm: string
  /** The request's URL without query or fragment. */
  htu: string
  accessToken: string
  nonce: string | undefined
}

/**
 * A maker of ES256 proofs with `keys` (a P-256 pair whose public half can be exported, as every
 * generated public key can).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export function createProver(keys: CryptoKeyPair) {
  /** The protected header, encoded once: only the key's public members (RFC 7638's for EC). */
  let header: string | undefined
  /** `ath` for the token it was computed for: the session holds one token at a time. */
  let hashed: { accessToken: string; ath: string } | undefined

  async function encodeHeader(): Promise<string> {
    const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', keys.publicKey)
    header = segment({ alg: 'ES256', typ: 'dpop+jwt', jwk: { crv, kty, x, y } })
    return header
  }

  async function hash(accessToken: string): Promise<string> {
    const ath = await hashOf(accessToken)
    hashed = { accessToken, ath }
    return ath
  }

  /** A new proof for one request. */
  return async function proof({ htm, htu, accessToken, nonce }: ProofClaims): Promise<string> {
    // Known after the first proof with this key and this token: no await for either then.
    const head = header ?? (await encodeHeader())
    const ath = hashed?.accessToken === accessToken ? hashed.ath : await hash(accessToken)
    const claims = {
      iat: Math.floor(Date.now() / 1000),
      // 122 random bits, unique per proof (RFC 9449 §11.1).
      jti: crypto.randomUUID(),
      htm,
      htu,
      // Left out of the JSON while the server has given none.
      nonce,
      ath,
    }
    const input = `${head}.${segment(claims)}`
    const signature = await crypto.subtle.sign(ES256, keys.privateKey, encoder.encode(input))
    return `${input}.${b64url(new Uint8Array(signature))}`
  }
}

/** Makes one request's proof. */
export type Prover = ReturnType<typeof createProver>
