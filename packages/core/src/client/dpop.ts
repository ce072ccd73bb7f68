// DPoP (RFC 9449) on the page's side: proofs to the API with the key the session's tokens are
// bound to. Loaded only by a client with `dpop` on.
import * as oauth from 'oauth4webapi'
import { AuthError } from '../errors.js'
import type { Emitter } from '../events.js'
import { createProver, type Prover } from './dpop-proof.js'
import type { Sign } from './fetch.js'

/** One key's proofs and the nonce each origin last gave (RFC 9449 §8), which outlive a refresh. */
interface Binding {
  jkt: string
  proof: Prover
  nonces: Map<string, string>
}

/**
 * The challenges of a response that carries some (RFC 9110 §11.6.1), read by oauth4webapi: its
 * protected-resource request, handed the response already received, throws them as an error.
 */
function refusalOf(
  response: Response,
  accessToken: string,
  url: URL,
): Promise<oauth.WWWAuthenticateChallengeError | undefined> {
  return oauth
    .protectedResourceRequest(accessToken, 'GET', url, undefined, undefined, {
      [oauth.customFetch]: async () => response,
      [oauth.allowInsecureRequests]: true,
    })
    .then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof oauth.WWWAuthenticateChallengeError) return error
        throw error
      },
    )
}

/**
 * Sends with a fresh proof (`htm`, `htu`, `ath`, a new `jti` and `iat`, the origin's nonce) and
 * keeps the nonce each answer gives; our transport sends the caller's own request with the two
 * headers.
 */
export function createDpopSign(emitter: Emitter): Sign {
  let current: Binding | undefined
  /** The last URL proved for, parsed: an app calls the same few URLs again and again. */
  let parsed: { href: string; url: URL; htu: string } | undefined
  const parse = (href: string) => {
    if (parsed?.href !== href) {
      const url = new URL(href)
      parsed = { href, url, htu: url.origin + url.pathname }
    }
    return parsed
  }
  return async (token, href, method, put, again) => {
    const key = token.dpop
    if (!key)
      throw new AuthError(
        'configuration',
        'No key to prove with: this session was not signed in with `dpop` on',
      )
    if (current?.jkt !== key.jkt) {
      current = { jkt: key.jkt, proof: createProver(key.keys), nonces: new Map() }
    }
    const { proof, nonces } = current
    const accessToken = token.accessToken!
    const { url, htu } = parse(href)
    const htm = method.toUpperCase()
    const send = async () => {
      const nonce = nonces.get(url.origin)
      const dpop = await proof({ htm, htu, accessToken, nonce })
      emitter.emit({ type: 'dpop_proof', htm, htu, nonce })
      const response = await put({ authorization: `DPoP ${accessToken}`, dpop })
      const next = response.headers.get('dpop-nonce')
      if (next) nonces.set(url.origin, next)
      // Most answers carry no challenge: then nothing to wait for.
      const challenged = response.headers.has('www-authenticate')
      return {
        response,
        refusal: challenged ? await refusalOf(response, accessToken, url) : undefined,
      }
    }
    let sent = await send()
    // The API wants its nonce: once more with it (RFC 9449 §9), never a second time.
    if (again && oauth.isDPoPNonceError(sent.refusal)) {
      sent.response.body?.cancel().catch(() => {})
      emitter.emit({ type: 'dpop_nonce', url: htu })
      sent = await send()
    }
    const { response, refusal } = sent
    if (response.status === 401 && refusal && !refusal.cause.some((c) => c.scheme === 'dpop')) {
      response.body?.cancel().catch(() => {})
      throw new AuthError(
        'configuration',
        `The API at ${url.origin} does not take DPoP-bound tokens (it answered one with a challenge for ` +
          `${refusal.cause.map((c) => c.scheme).join(', ')}). Turn \`dpop\` off, or turn it on at the API`,
      )
    }
    return response
  }
}
