// DPoP (RFC 9449) on the page's side: proofs to the API with the key the session's tokens are
// bound to. Loaded only by a client with `dpop` on.
import * as oauth from 'oauth4webapi'
import { AuthError } from '../errors.js'
import type { Emitter } from '../events.js'
import { readProof } from '../proof.js'
import type { Sign } from './fetch.js'

interface Sent {
  response: Response
  refusal?: oauth.WWWAuthenticateChallengeError
}

/**
 * Sends through oauth4webapi's protected-resource request, which makes the proof (`htm`, `htu`,
 * `ath`, a fresh `jti`, the origin's nonce) and keeps the nonce each answer gives; our transport
 * sends the caller's own request with the two headers it made.
 */
export function createDpopSign(emitter: Emitter): Sign {
  let current: { jkt: string; handle: oauth.DPoPHandle } | undefined
  return async (token, href, method, put, again) => {
    const key = token.dpop
    if (!key)
      throw new AuthError(
        'configuration',
        'No key to prove with: this session was not signed in with `dpop` on',
      )
    // One handle per key: it keeps the nonces, which outlive a refresh.
    if (current?.jkt !== key.jkt) current = { jkt: key.jkt, handle: oauth.DPoP({}, key.keys) }
    const { handle } = current
    const url = new URL(href)
    const send = (): Promise<Sent> =>
      oauth
        .protectedResourceRequest(token.accessToken!, method, url, undefined, undefined, {
          DPoP: handle,
          [oauth.customFetch]: (_, init) => {
            // The two headers it made, nothing else of its own (in Node, a user-agent).
            const { authorization, dpop } = init.headers as Record<string, string>
            emitter.emit({ type: 'dpop_proof', ...readProof(dpop!) })
            return put({ authorization: authorization!, dpop: dpop! })
          },
          // The origin passed the client's own check (https:, or http: where allowed).
          [oauth.allowInsecureRequests]: true,
        })
        .then(
          (response) => ({ response }),
          (error: unknown) => {
            // A challenge is the caller's answer to read, not a failure.
            if (error instanceof oauth.WWWAuthenticateChallengeError) {
              return { response: error.response, refusal: error }
            }
            throw error
          },
        )
    let sent = await send()
    // The API wants its nonce: once more with it (RFC 9449 §9), never a second time.
    if (again && oauth.isDPoPNonceError(sent.refusal)) {
      sent.response.body?.cancel().catch(() => {})
      emitter.emit({ type: 'dpop_nonce', url: url.origin + url.pathname })
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
