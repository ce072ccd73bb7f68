import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'
import { Refusal } from './dpop-check.js'

/** What a request's `Authorization` header held, as far as it could be read. */
export interface Presented {
  /** The scheme as sent (`Bearer`, `DPoP`, …); undefined without the header. */
  scheme?: string
  /** The token's `jti`, once its signature verified. */
  jti?: string
}

/** Verifies the provider's RFC 9068 access tokens for one resource server. */
export interface TokenVerifier {
  /**
   * Resolves with the claims of a token signed by the provider (`typ` at+jwt, RS256), for
   * `audience`, unexpired and not revoked; records its `jti` in `presented` once the signature
   * checks out.
   * @throws {Refusal} `invalid_token`
   */
  verify(token: string, audience: string, presented: Presented): Promise<JWTPayload>
  /** Refuses the token with this `jti` from now on. */
  revoke(jti: string): void
}

/** A verifier that reads the provider's JWKS (found by discovery) at its first token. */
export function createTokenVerifier(issuer: string): TokenVerifier {
  const revoked = new Set<string>()
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined

  async function keys() {
    if (jwks) return jwks
    const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string
    }
    jwks = createRemoteJWKSet(new URL(metadata.jwks_uri))
    return jwks
  }

  return {
    async verify(token, audience, presented) {
      const { payload } = await jwtVerify(token, await keys(), {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms: ['RS256'],
      }).catch((error: Error) => {
        throw new Refusal('invalid_token', error.message)
      })
      if (typeof payload.jti === 'string') presented.jti = payload.jti
      if (!payload.jti || revoked.has(payload.jti))
        throw new Refusal('invalid_token', 'the token was revoked')
      return payload
    },
    revoke(jti) {
      revoked.add(jti)
    },
  }
}
